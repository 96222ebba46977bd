package worker

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	requesterKey = "requester-key"
	workerKey    = "worker-owner-key"
	// The simulator, like the server, gives R2 and feature-gated jobs only to bridges it knows:
	// the tests present the reGen capability set.
	testAgent = "AI Horde Worker reGen:13.0.0:https://github.com/horde-go/horde/test"
)

// fakeImage returns one small "image" per id, after an optional hook.
type fakeImage struct {
	calls atomic.Int64
	hook  func(ctx context.Context, job *ImageJob) error
}

func (f *fakeImage) GenerateImages(ctx context.Context, job *ImageJob) ([]ImageOutput, error) {
	f.calls.Add(1)
	if f.hook != nil {
		if err := f.hook(ctx, job); err != nil {
			return nil, err
		}
	}
	out := make([]ImageOutput, len(job.ResultIDs))
	for i, id := range job.ResultIDs {
		out[i] = ImageOutput{Data: []byte("RIFF-fake-webp-" + id)}
	}
	return out, nil
}

type fakeText struct {
	hook func(ctx context.Context, job *TextJob) error
}

func (f *fakeText) GenerateText(ctx context.Context, job *TextJob) (TextOutput, error) {
	if f.hook != nil {
		if err := f.hook(ctx, job); err != nil {
			return TextOutput{}, err
		}
	}
	return TextOutput{Text: "once upon a time: " + job.Params.Prompt}, nil
}

type fakeAlchemy struct{}

func (fakeAlchemy) Alchemy(_ context.Context, job *AlchemyJob) (AlchemyOutput, error) {
	if string(job.Op.Form) == "caption" {
		return AlchemyOutput{Result: map[string]any{"caption": "a cat"}}, nil
	}
	return AlchemyOutput{Result: map[string]any{string(job.Op.Form): true}}, nil
}

// harness is a simulator with a requester and a worker owner, and clients for both.
type harness struct {
	srv       *hordetest.Server
	requester *horde.Client
	owner     *horde.Client
}

func newHarness(t *testing.T, opts ...hordetest.Option) *harness {
	t.Helper()
	all := append([]hordetest.Option{
		hordetest.WithUser(hordetest.User{Name: "requester", APIKey: requesterKey, Kudos: 1e9, Concurrency: 100000}),
		hordetest.WithUser(hordetest.User{Name: "owner", APIKey: workerKey, Trusted: true}),
		hordetest.WithRateLimits(false),
		hordetest.WithTextModels("koboldcpp/test-model"),
	}, opts...)
	srv := hordetest.NewServer(all...)
	t.Cleanup(srv.Close)
	client := func(key string) *horde.Client {
		c, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey(key),
			horde.WithHTTPClient(srv.Client()), horde.WithRateLimiting(false),
			horde.WithRetryPolicy(horde.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}))
		require.NoError(t, err)
		return c
	}
	return &harness{srv: srv, requester: client(requesterKey), owner: client(workerKey)}
}

func (h *harness) submitImages(t *testing.T, n int, r2 bool) []string {
	t.Helper()
	var ids []string
	for i := range n {
		r, err := h.requester.Raw().PostImageAsyncGenerateWithResponse(context.Background(), gen.GenerationInputStable{
			Prompt: fmt.Sprintf("a lighthouse %d", i), R2: &r2,
			Params: &gen.ModelGenerationInputStable{Width: ptrTo(64), Height: ptrTo(64), Steps: ptrTo(1)},
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode(), "%s", r.Body)
		ids = append(ids, *r.JSON202.ID)
	}
	return ids
}

func (h *harness) submitTexts(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		r, err := h.requester.Raw().PostTextAsyncGenerateWithResponse(context.Background(), gen.GenerationInputKobold{
			Prompt: ptrTo(fmt.Sprintf("tell me a story %d", i)), Models: []string{"koboldcpp/test-model"},
			ValidatedBackends: ptrTo(false), // the worker's one bridge agent is not a validated text backend
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode(), "%s", r.Body)
	}
}

func ptrTo[T any](v T) *T { return &v }

func imageSettings() Settings {
	return Settings{
		Image: &ImageOffer{Name: "test-worker", Models: []string{"stable_diffusion"}, MaxPixels: 1 << 20,
			AllowImg2Img: true, AllowPainting: true, AllowPostProcessing: true, AllowUnsafeIPAddr: true},
		BridgeAgent: testAgent, ServeNSFW: true,
		Threads: 2, QueueSize: 2,
		PopInterval: 5 * time.Millisecond, PopErrorInterval: 5 * time.Millisecond,
		SubmitBackoff: time.Millisecond, ResubmitInterval: 10 * time.Millisecond,
		FailurePause: 10 * time.Millisecond,
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool, state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, s := range state {
				msg += ": " + s()
			}
			t.Fatalf("timed out waiting for %s%s", what, msg)
		}
		time.Sleep(2 * time.Millisecond) // polling with a deadline, not waiting for a state
	}
}

// runWorker starts w.Run and returns a stop function that cancels it and waits.
func runWorker(t *testing.T, w *Worker) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func submittedOnce(jobs []hordetest.JobInfo) (done, other int) {
	for _, j := range jobs {
		if j.Submits == 1 && j.State == "done" {
			done++
		} else {
			other++
		}
	}
	return done, other
}

func TestWorkerServesImages(t *testing.T) {
	for _, r2 := range []bool{true, false} {
		t.Run(fmt.Sprintf("r2=%v", r2), func(t *testing.T) {
			h := newHarness(t)
			reqs := h.submitImages(t, 6, r2)
			img := &fakeImage{}
			w, err := New(h.owner, imageSettings(), Backends{Image: img})
			require.NoError(t, err)
			stop := runWorker(t, w)
			waitFor(t, "every request done", func() bool {
				for _, id := range reqs {
					ri, ok := h.srv.Request(id)
					if !ok || len(ri.Jobs) == 0 || ri.Jobs[0].State != "done" {
						return false
					}
				}
				return true
			})
			require.NoError(t, stop())
			done, other := submittedOnce(h.srv.Jobs())
			assert.Equal(t, 6, done)
			assert.Zero(t, other)
			st := w.Stats()
			assert.Equal(t, int64(6), st.Popped)
			assert.Equal(t, int64(6), st.Done)
			assert.Zero(t, st.Faulted)
			assert.Zero(t, st.InFlight)
			assert.Equal(t, int64(6), st.Submitted)
			assert.Positive(t, st.Kudos)

			// The requester gets the worker's images back, through R2 or inline.
			res, err := h.requester.Raw().GetImageAsyncStatusWithResponse(context.Background(), reqs[0])
			require.NoError(t, err)
			require.Len(t, res.JSON200.Generations, 1)
			g := res.JSON200.Generations[0]
			data, err := h.requester.FetchImage(context.Background(), *g.Img)
			require.NoError(t, err)
			assert.Equal(t, "RIFF-fake-webp-"+*g.ID, string(data))
		})
	}
}

func TestImageStepsForItPerSecond(t *testing.T) {
	h := newHarness(t)
	h.submitImages(t, 2, false) // 1 step each (see submitImages)
	w, err := New(h.owner, imageSettings(), Backends{Image: &fakeImage{}})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "two jobs", func() bool { return w.Stats().Done == 2 })
	require.NoError(t, stop())
	st := w.Stats()
	assert.Equal(t, int64(2), st.ImageSteps)
	assert.Positive(t, st.ItPerSecond())
	assert.Zero(t, Stats{}.ItPerSecond())
}

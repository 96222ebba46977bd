package worker

import (
	"io"
	"net/http/httptest"
	"strings"

	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/hordetest"
)

func tinyPNG(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8))))
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func (h *harness) submitAlchemy(t *testing.T, n int, src string) {
	t.Helper()
	for range n {
		r, err := h.requester.Raw().PostInterrogateWithResponse(context.Background(), gen.ModelInterrogationInputStable{
			SourceImage: &src,
			Forms:       []gen.ModelInterrogationFormStable{{Name: gen.InterrogationFormNameCaption}},
		})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode(), "%s", r.Body)
	}
}

// settled reports whether the simulator has nothing waiting or running.
func settled(srv *hordetest.Server) bool {
	for _, r := range srv.Requests() {
		if r.Waiting > 0 && !r.Faulted && !r.Cancelled {
			return false
		}
	}
	for _, j := range srv.Jobs() {
		if j.State == "processing" {
			return false
		}
	}
	for _, f := range srv.Forms() {
		if f.State == "waiting" || f.State == "processing" {
			return false
		}
	}
	return true
}

// describe summarises what the simulator still holds, for a failure message.
func describe(srv *hordetest.Server) string {
	waiting, processing, forms := 0, 0, map[string]int{}
	for _, r := range srv.Requests() {
		if r.Waiting > 0 && !r.Faulted && !r.Cancelled {
			waiting += r.Waiting
		}
	}
	for _, j := range srv.Jobs() {
		if j.State == "processing" {
			processing++
		}
	}
	for _, f := range srv.Forms() {
		forms[f.State]++
	}
	return fmt.Sprintf("waiting jobs %d, processing %d, forms %v", waiting, processing, forms)
}

func mixedSettings() Settings {
	s := imageSettings()
	// The Horde wants one name per kind of worker (PolymorphicNameConflict otherwise).
	s.Text = &TextOffer{Name: "test-scribe", Models: []string{"koboldcpp/test-model"}, MaxLength: 512, MaxContextLength: 4096}
	s.Alchemy = &AlchemyOffer{Name: "test-alchemist", Forms: []params.AlchemyForm{params.FormCaption}, PerPop: 2}
	s.Threads, s.QueueSize = 8, 4
	return s
}

// TestThousandJobsUnderFaults is the worker's main guarantee: 1,000 mixed image, text and
// alchemy jobs, with 10% 5xx answers on pops and submits, connection resets and truncated
// answers after submits were applied, slow R2 uploads, and a backend that fails 2% of the
// time. Every job must end submitted exactly once or reported faulted; none lost, none
// submitted twice; from the simulator's records.
func TestThousandJobsUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 jobs")
	}
	h := newHarness(t, hordetest.WithSeed(42))
	h.submitImages(t, 200, true)
	h.submitImages(t, 200, false)
	h.submitTexts(t, 300)
	h.submitAlchemy(t, 300, tinyPNG(t))

	f := h.srv.Faults()
	for _, route := range []string{"post_image_job_pop", "post_text_job_pop", "post_interrogate_pop"} {
		f.Set(route, hordetest.Fault{Error502: 0.05, Error503: 0.05})
	}
	for _, route := range []string{"post_image_job_submit", "post_text_job_submit", "post_interrogate_submit"} {
		f.Set(route, hordetest.Fault{Error500: 0.03, Error502: 0.04, Error503: 0.03, Reset: 0.03, Truncate: 0.02})
	}
	f.SlowR2(2 * time.Millisecond)

	var n atomic.Int64
	img := &fakeImage{hook: func(context.Context, *ImageJob) error {
		if n.Add(1)%50 == 0 {
			return errors.New("cuda out of memory")
		}
		return nil
	}}
	w, err := New(h.owner, mixedSettings(), Backends{Image: img, Text: &fakeText{}, Alchemy: fakeAlchemy{}})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "the simulator to settle", func() bool { return settled(h.srv) }, func() string {
		return describe(h.srv) + fmt.Sprintf("; worker %+v", w.Stats())
	})
	require.NoError(t, stop())

	injected := f.Injected()
	t.Logf("faults injected: %v", injected)
	require.NotEmpty(t, injected, "the test must actually inject faults")

	jobs := h.srv.Jobs()
	done, faulted := 0, 0
	for _, j := range jobs {
		switch j.State {
		case "done":
			require.Equal(t, 1, j.Submits, "job %s accepted %d times", j.ID, j.Submits)
			done++
		case "faulted":
			faulted++
		default:
			t.Fatalf("job %s left %s: lost", j.ID, j.State)
		}
	}
	formsDone := 0
	for _, fi := range h.srv.Forms() {
		require.Equal(t, "done", fi.State, "form %s", fi.ID)
		require.Equal(t, 1, fi.Submits, "form %s accepted %d times", fi.ID, fi.Submits)
		formsDone++
	}
	requestsDone := 0
	for _, r := range h.srv.Requests() {
		require.False(t, r.Faulted, "request %s faulted", r.ID)
		if r.Waiting == 0 {
			requestsDone++
		}
	}
	st := w.Stats()
	t.Logf("jobs done %d, faulted %d, forms %d; worker stats %+v", done, faulted, formsDone, st)
	assert.Equal(t, 700, done, "every image and text request got its job done")
	assert.Equal(t, 300, formsDone)
	assert.Equal(t, int64(faulted), st.Faulted, "every faulted job was reported as such")
	assert.Equal(t, st.Popped, st.Done+st.Faulted+st.Abandoned)
	assert.Zero(t, st.Abandoned)
	assert.Zero(t, st.InFlight)
	assert.Equal(t, int64(len(jobs)+formsDone), st.Popped, "every job the server handed out reached the worker")
	assert.Positive(t, st.SubmitRetries, "submits were retried")
	assert.Positive(t, st.Duplicates, "answers lost after the server applied a submit were recognised")
}

func TestBackendFailuresAreReportedAndTheWorkerCarriesOn(t *testing.T) {
	tests := []struct {
		name string
		hook func(ctx context.Context, job *ImageJob) error
	}{
		{"error", func(context.Context, *ImageJob) error { return errors.New("model failed to load") }},
		{"panic", func(context.Context, *ImageJob) error { panic("backend bug") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			reqs := h.submitImages(t, 2, false)
			var calls atomic.Int64
			img := &fakeImage{hook: func(ctx context.Context, job *ImageJob) error {
				if calls.Add(1) <= 2 {
					return tt.hook(ctx, job)
				}
				return nil
			}}
			s := imageSettings()
			s.MaxConsecutiveFailures = 100
			w, err := New(h.owner, s, Backends{Image: img})
			require.NoError(t, err)
			stop := runWorker(t, w)
			waitFor(t, "both requests done after a retry", func() bool {
				for _, id := range reqs {
					if ri, ok := h.srv.Request(id); !ok || ri.Waiting > 0 || doneJobs(ri) == 0 {
						return false
					}
				}
				return true
			})
			require.NoError(t, stop())
			st := w.Stats()
			assert.Equal(t, int64(2), st.Faulted, "the two failures were reported")
			assert.Equal(t, int64(2), st.Done)
			faultedOnServer := 0
			for _, j := range h.srv.Jobs() {
				if j.State == "faulted" {
					faultedOnServer++
				}
			}
			assert.Equal(t, 2, faultedOnServer, "the Horde was told, so it requeued the work")
		})
	}
}

func doneJobs(ri hordetest.RequestInfo) int {
	n := 0
	for _, j := range ri.Jobs {
		if j.State == "done" {
			n++
		}
	}
	return n
}

// TestWatchdogFaultsStuckJobs: a backend that ignores its context past the job's deadline is
// given up on; the job is reported faulted.
func TestWatchdogFaultsStuckJobs(t *testing.T) {
	h := newHarness(t)
	h.submitImages(t, 1, false)
	release := make(chan struct{})
	img := &fakeImage{hook: func(context.Context, *ImageJob) error {
		<-release // ignores ctx
		return nil
	}}
	s := imageSettings()
	s.MaxJobTime = 50 * time.Millisecond // the simulator's image ttl is at least 150 s
	w, err := New(h.owner, s, Backends{Image: img})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "the watchdog", func() bool { return w.Stats().Stuck == 1 })
	waitFor(t, "the fault report", func() bool { return w.Stats().Faulted == 1 })
	close(release)
	require.NoError(t, stop())
	assert.Equal(t, "faulted", h.srv.Jobs()[0].State)
}

// TestGracefulShutdownDrains: cancelling Run lets the running job finish and submit, and
// hands back the jobs that had not started.
func TestGracefulShutdownDrains(t *testing.T) {
	h := newHarness(t)
	h.submitImages(t, 4, false)
	started := make(chan struct{}, 4)
	release := make(chan struct{})
	img := &fakeImage{hook: func(ctx context.Context, _ *ImageJob) error {
		started <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	s := imageSettings()
	s.Threads, s.QueueSize = 1, 2
	w, err := New(h.owner, s, Backends{Image: img})
	require.NoError(t, err)
	stop := runWorker(t, w)
	<-started
	waitFor(t, "the queue to fill", func() bool { return w.Stats().Popped >= 3 })
	done := make(chan error)
	go func() { done <- stop() }()
	// The queued jobs are handed back as soon as the stop is seen; only then may the running
	// job finish (releasing it earlier would let a queued job start first).
	waitFor(t, "the queued jobs handed back", func() bool { st := w.Stats(); return st.Faulted == st.Popped-1 })
	close(release)
	require.NoError(t, <-done)
	st := w.Stats()
	assert.Zero(t, st.InFlight)
	assert.Equal(t, int64(1), st.Done, "the running job finished and was submitted")
	assert.Equal(t, st.Popped-1, st.Faulted, "the others were handed back")
	for _, j := range h.srv.Jobs() {
		assert.NotEqual(t, "processing", j.State, "job %s left behind", j.ID)
	}
}

// TestAbortFaultsRunningJobs: a second stop (Abort) cancels running jobs; they are reported.
func TestAbortFaultsRunningJobs(t *testing.T) {
	h := newHarness(t)
	h.submitImages(t, 1, false)
	started := make(chan struct{})
	img := &fakeImage{hook: func(ctx context.Context, _ *ImageJob) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	w, err := New(h.owner, imageSettings(), Backends{Image: img})
	require.NoError(t, err)
	stop := runWorker(t, w)
	<-started
	done := make(chan error)
	go func() { done <- stop() }()
	w.Abort()
	require.NoError(t, <-done)
	assert.Equal(t, int64(1), w.Stats().Faulted)
	assert.Equal(t, "faulted", h.srv.Jobs()[0].State)
}

// TestMaintenanceIsWaitedOut: while the Horde keeps the worker in maintenance, pops fail;
// the worker waits and resumes when it ends.
func TestMaintenanceIsWaitedOut(t *testing.T) {
	h := newHarness(t)
	img := &fakeImage{}
	w, err := New(h.owner, imageSettings(), Backends{Image: img})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "the worker to exist", func() bool { return h.srv.SetWorkerMaintenance("test-worker", true) })
	reqs := h.submitImages(t, 1, false)
	waitFor(t, "pops refused for maintenance", func() bool { return w.Stats().PopErrors > 0 && w.maintenance.Load() })
	require.Zero(t, img.calls.Load())
	require.True(t, h.srv.SetWorkerMaintenance("test-worker", false))
	waitFor(t, "the request done", func() bool {
		ri, ok := h.srv.Request(reqs[0])
		return ok && doneJobs(ri) == 1
	})
	require.NoError(t, stop())
	assert.False(t, w.maintenance.Load())
}

// TestConsecutiveFailuresPausePopping: after MaxConsecutiveFailures failed jobs, popping
// pauses for FailurePause.
func TestConsecutiveFailuresPausePopping(t *testing.T) {
	h := newHarness(t)
	h.submitImages(t, 5, false)
	img := &fakeImage{hook: func(context.Context, *ImageJob) error { return errors.New("broken GPU") }}
	s := imageSettings()
	s.Threads, s.QueueSize, s.MaxConsecutiveFailures, s.FailurePause = 1, 1, 3, time.Hour
	w, err := New(h.owner, s, Backends{Image: img})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "the pause", func() bool { return w.Stats().Pauses == 1 })
	require.NoError(t, stop())
	// A job holds a slot from its pop until it is settled, and a failure is counted before its
	// slot is freed; so when the last failure starts the pause, the failed jobs before it have
	// freed their slots and every other pop holds one: at most MaxConsecutiveFailures-1 +
	// Threads+2·QueueSize pops, whatever the interleaving.
	bound := int64(s.MaxConsecutiveFailures - 1 + s.Threads + 2*s.QueueSize)
	assert.LessOrEqual(t, w.Stats().Popped, bound, "no pop after the pause began")
}

func TestSettingsErrors(t *testing.T) {
	h := newHarness(t)
	_, err := New(nil, imageSettings(), Backends{Image: &fakeImage{}})
	require.Error(t, err)
	_, err = New(h.owner, imageSettings(), Backends{})
	require.ErrorContains(t, err, "no image backend")
	_, err = New(h.owner, Settings{}, Backends{Text: &fakeText{}})
	require.ErrorContains(t, err, "no text offer")
	_, err = New(h.owner, Settings{}, Backends{})
	require.ErrorContains(t, err, "serves nothing")
	s := imageSettings()
	s.Threads, s.PopInterval = 1000, -time.Second
	_, err = New(h.owner, s, Backends{Image: &fakeImage{}})
	require.ErrorContains(t, err, "Threads: must be between 1 and 100, got 1000")
	require.ErrorContains(t, err, "PopInterval: must not be negative")
	w, err := New(h.owner, imageSettings(), Backends{Image: &fakeImage{}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, w.Run(ctx))
	require.ErrorContains(t, w.Run(ctx), "twice")
	_ = fmt.Sprint()
}

// flaggingImage marks images by prompt: "csam" and "nsfw" set the backend's safety verdict.
type flaggingImage struct{}

func (flaggingImage) GenerateImages(_ context.Context, job *ImageJob) ([]ImageOutput, error) {
	out := make([]ImageOutput, len(job.ResultIDs))
	for i := range out {
		out[i] = ImageOutput{Data: []byte("RIFF-image"), Safety: &SafetyVerdict{
			CSAM: bytes.Contains([]byte(job.Params.Prompt), []byte("csam")),
			NSFW: bytes.Contains([]byte(job.Params.Prompt), []byte("nsfw"))}}
	}
	return out, nil
}

// TestCensorship: CSAM is always censored and reported as csam; NSFW is censored by a worker
// that does not serve NSFW; clean images pass.
func TestCensorship(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"clean", "nsfw", "csam"} {
		f := false
		r, err := h.requester.Raw().PostImageAsyncGenerateWithResponse(context.Background(), gen.GenerationInputStable{
			Prompt: p, R2: &f, NSFW: &f, CensorNSFW: &f, // safe-for-work requests, for a safe-for-work worker
			Params: &gen.ModelGenerationInputStable{Width: ptrTo(64), Height: ptrTo(64)}})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode(), "%s", r.Body)
	}
	s := imageSettings()
	s.ServeNSFW = false
	w, err := New(h.owner, s, Backends{Image: flaggingImage{}})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "three jobs", func() bool { return w.Stats().Done+w.Stats().Faulted == 3 })
	require.NoError(t, stop())
	var censored []bool // in request order: clean, nsfw, csam
	for _, ri := range h.srv.Requests() {
		require.Len(t, ri.Jobs, 1)
		censored = append(censored, ri.Jobs[0].Censored)
	}
	assert.Equal(t, []bool{false, true, true}, censored)
	assert.Equal(t, int64(3), w.Stats().Done)
}

// goneHorde hands out jobs but answers every submit as the server does for a job it no longer
// has (expired, or its request deleted).
type goneHorde struct{ stubHorde }

func (g *goneHorde) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/generate/submit") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"Processing Job with ID x does not exist.","rc":"InvalidJobID"}`)
		return
	}
	g.stubHorde.ServeHTTP(w, r)
}

// TestJobGoneIsNotAFault: "does not exist" ends the job without counting it as a fault (no
// pause, no retry).
func TestJobGoneIsNotAFault(t *testing.T) {
	srv := httptest.NewServer(&goneHorde{})
	defer srv.Close()
	c, err := horde.NewClient(horde.WithBaseURL(srv.URL+"/api/"), horde.WithAPIKey(workerKey), horde.WithRateLimiting(false))
	require.NoError(t, err)
	s := imageSettings()
	s.MaxConsecutiveFailures = 1
	w, err := New(c, s, Backends{Image: zeroImage{}})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "five jobs", func() bool { return w.Stats().Abandoned >= 5 })
	st := w.Stats() // before the stop, which hands back what it popped meanwhile
	require.NoError(t, stop())
	assert.Zero(t, st.Faulted)
	assert.Zero(t, st.Pauses, "a job the Horde dropped is not a failure of the worker")
	assert.Zero(t, st.SubmitRetries)
	st = w.Stats()
	assert.Equal(t, st.Popped, st.Done+st.Faulted+st.Abandoned)
}

// TestAbortWithoutStopStopsEverything: Abort while Run's context is still live also stops the
// pops, and Run returns.
func TestAbortWithoutStopStopsEverything(t *testing.T) {
	h := newHarness(t)
	w, err := New(h.owner, imageSettings(), Backends{Image: &fakeImage{}})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	waitFor(t, "a pop", func() bool { return w.Stats().EmptyPops > 0 })
	w.Abort()
	require.NoError(t, <-done)
	assert.Zero(t, w.Stats().PopErrors, "pops stopped rather than failing on a cancelled context")
}

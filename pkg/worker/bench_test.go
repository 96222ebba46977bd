package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/worker/internal/lifecycle"
)

// zeroImage is a backend that costs nothing: one shared tiny image per id.
type zeroImage struct{}

var zeroBytes = []byte("RIFF\x00\x00\x00\x00WEBPVP8L")

func (zeroImage) GenerateImages(_ context.Context, job *ImageJob) ([]ImageOutput, error) {
	out := make([]ImageOutput, len(job.ResultIDs))
	for i := range out {
		out[i] = ImageOutput{Data: zeroBytes}
	}
	return out, nil
}

func benchSettings(threads int) Settings {
	s := imageSettings()
	s.Threads, s.QueueSize = threads, threads
	s.PopInterval = time.Millisecond
	return s
}

// BenchmarkWorkerThroughput: jobs per second through a real worker and the simulator on
// loopback (pop, run on a zero-cost backend, submit), rate limits off on both sides.
func BenchmarkWorkerThroughput(b *testing.B) {
	for _, r2 := range []bool{false, true} {
		b.Run(fmt.Sprintf("r2=%v", r2), func(b *testing.B) {
			srv := hordetest.NewServer(
				hordetest.WithUser(hordetest.User{Name: "r", APIKey: requesterKey, Kudos: 1e12, Concurrency: 1 << 30}),
				hordetest.WithUser(hordetest.User{Name: "o", APIKey: workerKey, Trusted: true}),
				hordetest.WithRateLimits(false))
			defer srv.Close()
			requester, _ := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey(requesterKey), horde.WithRateLimiting(false))
			owner, _ := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey(workerKey), horde.WithRateLimiting(false))
			// One request of n images makes b.N jobs without b.N async calls.
			left := b.N
			for left > 0 {
				n := min(left, 20)
				_, err := requester.Raw().PostImageAsyncGenerateWithResponse(context.Background(), gen.GenerationInputStable{
					Prompt: "bench", R2: &r2, Params: &gen.ModelGenerationInputStable{N: &n, Width: ptrTo(64), Height: ptrTo(64)}})
				if err != nil {
					b.Fatal(err)
				}
				left -= n
			}
			w, err := New(owner, benchSettings(8), Backends{Image: zeroImage{}})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			b.ResetTimer()
			start := time.Now()
			go func() { done <- w.Run(ctx) }()
			for w.Stats().Done < int64(b.N) {
				time.Sleep(200 * time.Microsecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
		})
	}
}

// BenchmarkJobOverhead: the SDK's own work per job, without HTTP: converting a popped job,
// the state machine, the backend call (zero cost), and building and encoding its submit body.
func BenchmarkJobOverhead(b *testing.B) {
	raw := []byte(`{"id":"00000000-0000-0000-0000-000000000001","ids":["00000000-0000-0000-0000-000000000001"],
		"model":"stable_diffusion","ttl":150,"r2_uploads":["https://r2.example/upload?sig=x"],
		"payload":{"prompt":"a castle ### fog","width":512,"height":512,"ddim_steps":30,"cfg_scale":7,"seed":"42",
		"sampler_name":"k_euler_a","karras":true,"n_iter":1,"loras":[{"name":"x","model":1,"clip":1}]},
		"skipped":{}}`)
	s := imageSettings()
	w := &Worker{s: s.withDefaults(), b: Backends{Image: zeroImage{}}}
	w.st.init()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var pop gen.GenerationPayloadStable
		if err := json.Unmarshal(raw, &pop); err != nil {
			b.Fatal(err)
		}
		j, err := newImageWork(&pop, nil)
		if err != nil || j == nil {
			b.Fatal(err)
		}
		if err := j.prepare(ctx, w); err != nil {
			b.Fatal(err)
		}
		if err := j.execute(ctx, w); err != nil {
			b.Fatal(err)
		}
		_ = j.machine.To(lifecycle.StateSubmitting)
		for _, s := range j.submissions(w) {
			_ = s
		}
		body, _ := json.Marshal(gen.SubmitInputStable{ID: j.id(), Generation: ptrTo("R2"), Seed: j.seed})
		_ = body
		_ = j.machine.To(lifecycle.StateSubmitComplete)
		_ = j.machine.To(lifecycle.StateComplete)
	}
}

// stubHorde answers pops with a new one-image job each time and accepts every submit, keeping
// nothing: what grows in the process is the worker's.
type stubHorde struct{ n atomic.Int64 }

func (s *stubHorde) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/generate/pop"):
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", s.n.Add(1))
		fmt.Fprintf(w, `{"id":%q,"ids":[%q],"model":"m","ttl":150,"payload":{"prompt":"p","seed":"1","width":64,"height":64},"skipped":{}}`, id, id)
	case strings.HasSuffix(r.URL.Path, "/generate/submit"):
		_, _ = io.WriteString(w, `{"reward":1}`)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// BenchmarkHeapGrowth runs 10,000 then 100,000 jobs through one worker against a stub Horde
// and reports the live heap after each; the worker must not keep anything per job.
func BenchmarkHeapGrowth(b *testing.B) {
	stub := &stubHorde{}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	c, _ := horde.NewClient(horde.WithBaseURL(srv.URL+"/api/"), horde.WithAPIKey(workerKey), horde.WithRateLimiting(false))
	w, err := New(c, benchSettings(4), Backends{Image: zeroImage{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	heapAt := func(jobs int64) float64 {
		for w.Stats().Done < jobs {
			time.Sleep(time.Millisecond)
		}
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc)
	}
	for b.Loop() {
		h10k := heapAt(10_000)
		h100k := heapAt(100_000)
		b.ReportMetric(h10k/1e6, "MB@10k")
		b.ReportMetric(h100k/1e6, "MB@100k")
		b.ReportMetric(h100k/h10k, "ratio")
	}
	cancel()
	<-done
}

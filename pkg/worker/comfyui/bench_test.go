package comfyui

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/metrics"
)

// BenchmarkBackendOverhead is the backend's own work per image on a ComfyUI that generates
// instantly: graph build, queue, websocket, download and WebP encode of a 512×512 image, and
// its parts.
func BenchmarkBackendOverhead(b *testing.B) {
	f := newFakeComfy(b, withFiles([]string{"stable_diffusion.safetensors"}, nil))
	be, err := New(Config{URL: f.srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := be.LimitImageOffer(b.Context(), &worker.ImageOffer{Models: []string{"stable_diffusion"}}); err != nil {
		b.Fatal(err)
	}
	img := params.Image{Prompt: "a cube", Model: "stable_diffusion", Width: new(512), Height: new(512), Seed: "1"}
	b.Run("job", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := be.GenerateImages(b.Context(), &worker.ImageJob{ID: "j", ResultIDs: []string{"a"}, Params: img}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("graph", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := buildGraph(be.oi, request{img: &img, seed: 1, checkpoint: "stable_diffusion.safetensors", prefix: "p"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	png := fakePNG(512, 512, 7)
	b.Run("webp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := toWebP(png); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBusyRatio measures how busy the worker keeps ComfyUI: a ComfyUI taking 200 ms per
// image and a Horde 30 ms away (both scaled down tenfold from 2 s and 300 ms), one thread,
// one job popped ahead. It reports the backend's busy share over the run.
func BenchmarkBusyRatio(b *testing.B) {
	const jobs = 12
	for b.Loop() {
		f := newFakeComfy(b, withFiles([]string{"stable_diffusion.safetensors"}, nil), generatingFor(200*time.Millisecond))
		srv := hordetest.NewServer(hordetest.WithRateLimits(false),
			hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 1e9, Concurrency: 1000}),
			hordetest.WithUser(hordetest.User{Name: "owner", APIKey: "owner-key-0123456789", Trusted: true}),
			hordetest.WithMiddleware(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					time.Sleep(30 * time.Millisecond) // the Horde's distance, not a wait for state
					next.ServeHTTP(w, r)
				})
			}))
		alice, _ := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("alice-key"), horde.WithRateLimiting(false))
		r2 := false
		for range jobs {
			if _, err := alice.RequestImage(b.Context(), gen.GenerationInputStable{Prompt: "a cube", R2: &r2,
				Params: &gen.ModelGenerationInputStable{Width: new(64), Height: new(64)}}); err != nil {
				b.Fatal(err)
			}
		}
		be, _ := New(Config{URL: f.srv.URL})
		m, _ := metrics.New(metrics.Options{Threads: 1})
		owner, _ := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("owner-key-0123456789"), horde.WithRateLimiting(false))
		w, err := worker.New(owner, worker.Settings{Image: &worker.ImageOffer{Models: []string{"stable_diffusion"}},
			ServeNSFW: true, Threads: 1, QueueSize: 1, PopInterval: 10 * time.Millisecond, Observer: m}, worker.Backends{Image: be})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		for w.Stats().Done < jobs {
			time.Sleep(10 * time.Millisecond) // polling the stats
		}
		b.ReportMetric(m.BusyRatio(), "busy-ratio")
		cancel()
		<-done
		srv.Close()
	}
}

package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/metrics"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestScrapeAfterJobs: a worker serving three image requests against the simulator, scraped
// as Prometheus would.
func TestScrapeAfterJobs(t *testing.T) {
	srv := hordetest.NewServer(hordetest.WithRateLimits(false),
		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 1e6, Concurrency: 100}),
		hordetest.WithUser(hordetest.User{Name: "owner", APIKey: "owner-key-0123456789", Trusted: true}))
	defer srv.Close()
	m, err := metrics.New(metrics.Options{Threads: 1})
	require.NoError(t, err)
	scrape := httptest.NewServer(m.Handler())
	defer scrape.Close()

	alice, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("alice-key"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	r2 := false
	for range 3 {
		_, err := alice.RequestImage(t.Context(), gen.GenerationInputStable{Prompt: "a lighthouse", R2: &r2,
			Params: &gen.ModelGenerationInputStable{Width: new(64), Height: new(64)}})
		require.NoError(t, err)
	}
	owner, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("owner-key-0123456789"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	w, err := worker.New(owner, worker.Settings{
		Image:     &worker.ImageOffer{Name: "metered", Models: []string{"stable_diffusion"}},
		ServeNSFW: true, Observer: m, PopInterval: 5 * time.Millisecond,
	}, worker.Backends{Image: &testbackend.Image{Size: 64}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for w.Stats().Done < 3 {
		require.True(t, time.Now().Before(deadline), "stats %+v", w.Stats())
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	cancel()
	require.NoError(t, <-done)

	status, body := get(t, scrape.URL+"/metrics")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{
		`horde_worker_jobs_total{kind="image",model="stable_diffusion",state="popped"} 3`,
		`horde_worker_jobs_total{kind="image",model="stable_diffusion",state="done"} 3`,
		`horde_worker_jobs_in_flight{kind="image"} 0`,
		`horde_worker_job_duration_seconds_count{kind="image"} 3`,
		`horde_worker_pops_total{kind="image",result="job"} 3`,
		`horde_worker_backend_busy_seconds_total{kind="image"}`,
		`horde_worker_backend_busy_ratio `,
		`horde_worker_kudos_earned_total{kind="image"}`,
		`horde_worker_last_pop_timestamp_seconds{kind="image"}`,
	} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, `state="faulted"`)
	status, body = get(t, scrape.URL+"/healthz")
	assert.Equal(t, http.StatusOK, status, body)
}

// TestHealth: 503 after UnhealthyAfter failed pops in a row or in maintenance; 200 again once
// a pop is answered.
func TestHealth(t *testing.T) {
	m, err := metrics.New(metrics.Options{UnhealthyAfter: 3})
	require.NoError(t, err)
	scrape := httptest.NewServer(m.Handler())
	defer scrape.Close()
	fail := func(cause string) {
		m.Observe(worker.Event{Type: worker.EventPopFailed, Kind: horde.KindText, Cause: cause})
	}
	status, _ := get(t, scrape.URL+"/healthz")
	assert.Equal(t, http.StatusOK, status)
	fail("server")
	fail("network")
	status, _ = get(t, scrape.URL+"/healthz")
	assert.Equal(t, http.StatusOK, status, "two failures are not yet unhealthy")
	fail("server")
	status, body := get(t, scrape.URL+"/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, "3 consecutive text pops failed")
	m.Observe(worker.Event{Type: worker.EventEmptyPop, Kind: horde.KindText})
	status, _ = get(t, scrape.URL+"/healthz")
	assert.Equal(t, http.StatusOK, status)
	fail("maintenance")
	status, body = get(t, scrape.URL+"/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, "maintenance")
	_, body = get(t, scrape.URL+"/metrics")
	assert.Contains(t, body, `horde_worker_pop_errors_total{cause="maintenance",kind="text"} 1`)
	assert.Contains(t, body, `horde_worker_pop_errors_total{cause="server",kind="text"} 2`)
}

// TestBusyRatio: the ratio integrates the backends' running time over time × Threads.
func TestBusyRatio(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	now := t0
	m, err := metrics.New(metrics.Options{Threads: 2, Now: func() time.Time { return now }})
	require.NoError(t, err)
	scrape := httptest.NewServer(m.Handler())
	defer scrape.Close()
	ev := func(typ worker.EventType, at time.Duration) {
		m.Observe(worker.Event{Type: typ, Kind: horde.KindImage, Time: t0.Add(at), Duration: time.Second})
	}
	ev(worker.EventBackendStarted, 0)
	ev(worker.EventBackendStarted, 5*time.Second)
	ev(worker.EventBackendFinished, 10*time.Second)
	now = t0.Add(20 * time.Second) // one job ran 0–10 s, the other 5 s until now: 25 of 40 thread-seconds
	_, body := get(t, scrape.URL+"/metrics")
	line := ""
	for l := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(l, "horde_worker_backend_busy_ratio ") {
			line = l
		}
	}
	assert.Equal(t, "horde_worker_backend_busy_ratio 0.625", line)
}

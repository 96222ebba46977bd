package horde

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
)

// windowLimiter answers 429 when a request would be the n+1-th in any window of the given
// length, as strict as any fixed-window limiter can be.
type windowLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	seen   []time.Time
	denied int
}

func (l *windowLimiter) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	inWindow := 0
	for _, t := range l.seen {
		if now.Sub(t) < l.window {
			inWindow++
		}
	}
	if inWindow >= l.n {
		l.denied++
		return false
	}
	l.seen = append(l.seen, now)
	return true
}

// TestLimiterKeepsStatusPollsUnderTheServerLimit: 50 goroutines poll the status of one request
// at once; the server allows 10 a minute per id. In virtual time, no poll is refused and the
// polls are spread over the minutes the limit demands.
func TestLimiterKeepsStatusPollsUnderTheServerLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server := &windowLimiter{n: 10, window: time.Minute}
		f := newFakeHorde(t)
		f.handle("GET /v2/generate/status/*", func(w http.ResponseWriter, _ *http.Request) {
			if !server.allow(time.Now()) {
				w.Header().Set("Retry-After", "60")
				writeJSON(w, 429, map[string]any{"message": "10 per 1 minute"})
				return
			}
			writeJSON(w, 200, map[string]any{"done": false})
		})
		// No retries: a 429 would show up as an error instead of being hidden by a retry.
		c := newTestClient(t, f, nil, WithoutRetries())
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				r, err := c.raw.GetImageAsyncStatusWithResponse(context.Background(), "req-1")
				if err == nil {
					err = responseError(r)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.Zero(t, server.denied, "the server refused polls")
		// 50 polls at ≤10 a minute need more than 4 minutes.
		assert.Greater(t, time.Since(start), 4*time.Minute)
		assert.Equal(t, 50, f.count("GET", "/v2/generate/status/req-1"))
	})
}

// TestLimiterCountsPerRequestID: polls of different ids do not wait for each other.
func TestLimiterCountsPerRequestID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("GET /v2/generate/status/*", jsonHandler(200, map[string]any{"done": true}))
		c := newTestClient(t, f, nil)
		start := time.Now()
		for i := range 20 {
			require.NoError(t, noBody(c.raw.GetImageAsyncStatusWithResponse(context.Background(), fmt.Sprint("id-", i))))
		}
		assert.Zero(t, time.Since(start))
		assert.Equal(t, 20, c.limiters.size())
	})
}

// TestLimiterAsyncSubmitPacing: async submits are paced under 2 a second and 90 a minute.
func TestLimiterAsyncSubmitPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		perSecond := &windowLimiter{n: 2, window: time.Second}
		perMinute := &windowLimiter{n: 90, window: time.Minute}
		f := newFakeHorde(t)
		f.handle("POST /v2/generate/async", func(w http.ResponseWriter, _ *http.Request) {
			now := time.Now()
			if !perSecond.allow(now) || !perMinute.allow(now) {
				writeJSON(w, 429, map[string]any{"message": "2 per 1 second"})
				return
			}
			writeJSON(w, 202, map[string]any{"id": "x"})
		})
		c := newTestClient(t, f, nil, WithoutRetries())
		for range 120 {
			r, err := c.raw.PostImageAsyncGenerateWithResponse(context.Background(), gen.GenerationInputStable{Prompt: "p"})
			require.NoError(t, err)
			require.Equal(t, 202, r.StatusCode())
		}
	})
}

func TestLimiterOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("GET /v2/generate/status/*", jsonHandler(200, map[string]any{}))
		c := newTestClient(t, f, nil, WithRateLimiting(false))
		start := time.Now()
		for range 30 {
			require.NoError(t, noBody(c.raw.GetImageAsyncStatusWithResponse(context.Background(), "same")))
		}
		assert.Zero(t, time.Since(start))
	})
}

func TestBucketNeverExceedsTheLimit(t *testing.T) {
	for _, l := range []limit{perSecond(1), perSecond(2), perSecond(10), perSecond(60), perMinute(5),
		perMinute(10), perMinute(30), perMinute(60), perMinute(90), perHour(20), perHour(90)} {
		r, burst := bucketFor(l)
		worst := float64(burst) + float64(r)*l.period.Seconds()
		assert.Less(t, worst, float64(l.n)+1, "%+v: burst %d + rate %v over the period", l, burst, r)
		assert.GreaterOrEqual(t, burst, 1)
		assert.Positive(t, float64(r))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{"Sat, 28 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sat, 28 Nov 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
		{"1e12", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestRouteMatching(t *testing.T) {
	routes := loadRoutes()
	tests := []struct{ method, path, template string }{
		{"GET", "/v2/workers/messages", "/v2/workers/messages"},
		{"GET", "/v2/workers/abc", "/v2/workers/{worker_id}"},
		{"GET", "/v2/workers/name/bob", "/v2/workers/name/{worker_name}"},
		{"GET", "/v2/status/models/aphrodite%2Fa%2Fb", "/v2/status/models/{model_name}"},
		{"DELETE", "/v2/generate/status/x", "/v2/generate/status/{id}"},
	}
	for _, tt := range tests {
		r, ok := routes.match(tt.method, tt.path)
		require.True(t, ok, tt.path)
		assert.Equal(t, tt.template, r.template)
	}
	_, ok := routes.match("GET", "/v2/no/such/route")
	assert.False(t, ok)
	_, ok = routes.match("GET", "/v2/workers/")
	assert.False(t, ok, "an empty parameter matches nothing")
	assert.Len(t, routes.routes, 90)
}

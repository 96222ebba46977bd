package hordetest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRateLimits(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk), WithRateLimits(true))
	body := map[string]any{"prompt": "x", "r2": false}
	for i := 0; i < 2; i++ {
		r := call(t, s, "POST", "v2/generate/async", keyAlice, body)
		require.Equal(t, 202, r.status, string(r.raw))
		assert.NotEmpty(t, r.header.Get("X-RateLimit-Limit"))
	}
	r := call(t, s, "POST", "v2/generate/async", keyAlice, body)
	require.Equal(t, 429, r.status)
	assert.Equal(t, "2 per 1 second", r.str("message"))
	assert.NotContains(t, r.body, "rc", "limiter 429s carry no rc")
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Equal(t, "2", r.header.Get("X-RateLimit-Limit"))
	assert.Equal(t, "0", r.header.Get("X-RateLimit-Remaining"))
	assert.Equal(t, "1795867201", r.header.Get("X-RateLimit-Reset"))
	clk.Advance(time.Second)
	id := call(t, s, "POST", "v2/generate/async", keyAlice, body).str("id")
	require.NotEmpty(t, id)

	// Status: 10 per minute per request id.
	for i := 0; i < 10; i++ {
		require.Equal(t, 200, call(t, s, "GET", "v2/generate/status/"+id, "", nil).status)
	}
	r = call(t, s, "GET", "v2/generate/status/"+id, "", nil)
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "10 per 1 minute", r.str("message"))
	// Heartbeat is exempt.
	for i := 0; i < 100; i++ {
		hb := call(t, s, "GET", "v2/status/heartbeat", "", nil)
		require.Equal(t, 200, hb.status)
		require.Empty(t, hb.header.Get("X-RateLimit-Limit"))
	}
}

// rawServer starts a server without the conformance check (faults break the spec on purpose).
func rawServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(append(testUsers(), opts...)...)
	t.Cleanup(s.Close)
	return s
}

func TestFaults(t *testing.T) {
	s := rawServer(t)
	const op = "get_heartbeat"
	f := s.Faults()
	get := func() (int, []byte, error) {
		res, err := s.Client().Get(s.URL + "v2/status/heartbeat")
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, b, err
	}
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, status int, body []byte, err error)
	}{
		{"500", Fault{Error500: 1}, func(t *testing.T, st int, b []byte, err error) {
			require.NoError(t, err)
			assert.Equal(t, 500, st)
			assert.JSONEq(t, `{"message":"Internal Server Error"}`, string(b))
		}},
		{"502", Fault{Error502: 1}, func(t *testing.T, st int, b []byte, err error) {
			assert.Equal(t, 502, st)
			assert.Contains(t, string(b), "<html>")
		}},
		{"503", Fault{Error503: 1}, func(t *testing.T, st int, b []byte, err error) { assert.Equal(t, 503, st) }},
		{"truncate", Fault{Truncate: 1}, func(t *testing.T, st int, b []byte, err error) {
			require.NoError(t, err)
			assert.Equal(t, 200, st)
			assert.Error(t, json.Unmarshal(b, new(map[string]any)))
		}},
		{"invalid json", Fault{InvalidJSON: 1}, func(t *testing.T, st int, b []byte, err error) {
			require.NoError(t, err)
			assert.Error(t, json.Unmarshal(b, new(map[string]any)))
		}},
		{"reset", Fault{Reset: 1}, func(t *testing.T, st int, b []byte, err error) {
			assert.Error(t, err, "the connection is cut mid-body")
		}},
		{"latency", Fault{Latency: 30 * time.Millisecond}, func(t *testing.T, st int, b []byte, err error) {
			assert.Equal(t, 200, st)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.Set(op, tc.fault)
			start := time.Now()
			st, b, err := get()
			tc.check(t, st, b, err)
			if tc.fault.Latency > 0 {
				assert.GreaterOrEqual(t, time.Since(start), tc.fault.Latency)
			}
			f.Clear(op)
			st, _, err = get()
			require.NoError(t, err)
			assert.Equal(t, 200, st, "switched off at run time")
		})
	}

	f.Burst429(RouteAll, 2)
	for i := 0; i < 2; i++ {
		res, err := s.Client().Get(s.URL + "v2/status/heartbeat")
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, 429, res.StatusCode)
		assert.NotContains(t, string(b), "rc")
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
	}
	st, _, err := get()
	require.NoError(t, err)
	assert.Equal(t, 200, st)
	inj := f.Injected()
	assert.Equal(t, 2, inj["429"])
	assert.Equal(t, 1, inj["500"])
}

func TestFaultsDeterministic(t *testing.T) {
	run := func() string {
		s := NewServer(WithSeed(42))
		defer s.Close()
		s.Faults().Set(RouteAll, Fault{Error500: 0.3, Error503: 0.3})
		var sb strings.Builder
		for i := 0; i < 40; i++ {
			res, err := s.Client().Get(s.URL + "v2/status/heartbeat")
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			sb.WriteString(http.StatusText(res.StatusCode)[:1])
		}
		return sb.String()
	}
	a, b := run(), run()
	assert.Equal(t, a, b)
	assert.Contains(t, a, "I")
	assert.Contains(t, a, "O")
}

func TestSlowR2(t *testing.T) {
	s := rawServer(t)
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	p := popImage(t, s, nil)
	up := p.body["r2_upload"].(string)
	s.Faults().SlowR2(40 * time.Millisecond)
	start := time.Now()
	st, _ := fetchURL(t, s, "PUT", up, []byte("img"))
	assert.Equal(t, 200, st)
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
}

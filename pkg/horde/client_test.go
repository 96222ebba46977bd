package horde

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
)

const secretKey = "s3cr3t-key-never-logged"

func TestNewClientOptions(t *testing.T) {
	c, err := NewClient()
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL, c.BaseURL())
	assert.True(t, strings.HasPrefix(c.ClientAgent(), "horde-go:"), c.ClientAgent())
	assert.True(t, strings.HasSuffix(c.ClientAgent(), ":"+RepositoryURL))

	c, err = NewClient(WithBaseURL("http://127.0.0.1:7001/api"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:7001/api/", c.BaseURL(), "a trailing slash is added")

	bad := []struct {
		opt  Option
		name string
	}{
		{WithBaseURL("ftp://x/api/"), "WithBaseURL"},
		{WithBaseURL("/api/"), "WithBaseURL"},
		{WithBaseURL("http://x/api/?q=1"), "WithBaseURL"},
		{WithBaseURL("http://%zz"), "WithBaseURL"},
		{WithClientAgent(""), "WithClientAgent"},
		{WithClientAgent("a\r\nX-Evil: 1"), "WithClientAgent"},
		{WithAPIKey(""), "WithAPIKey"},
		{WithAPIKey("k\n"), "WithAPIKey"},
		{WithHTTPClient(nil), "WithHTTPClient"},
		{WithLogger(nil), "WithLogger"},
		{WithRetryPolicy(RetryPolicy{MaxAttempts: 0}), "WithRetryPolicy"},
		{WithRetryPolicy(RetryPolicy{MaxAttempts: 2, BaseDelay: time.Second, MaxDelay: time.Millisecond}), "WithRetryPolicy"},
		{WithRequestTimeout(-time.Second), "WithRequestTimeout"},
		{WithDownloadLimit(0), "WithDownloadLimit"},
	}
	for _, b := range bad {
		_, err := NewClient(b.opt)
		require.Error(t, err, b.name)
		assert.Contains(t, err.Error(), "option "+b.name)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvURL, "http://127.0.0.1:9999/api/")
	t.Setenv(EnvAPIKey, secretKey)
	c, err := NewClient(FromEnv())
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9999/api/", c.BaseURL())
	assert.Equal(t, secretKey, c.cfg.apiKey)
	assert.True(t, c.cfg.keySet)

	t.Setenv(EnvURL, "nope")
	_, err = NewClient(FromEnv())
	require.ErrorContains(t, err, "FromEnv")
	assert.NotContains(t, err.Error(), secretKey)
}

// TestHeadersPerOperation checks that the key goes only to operations that take one (optional
// ones only when the caller configured a key) and the agent goes everywhere.
func TestHeadersPerOperation(t *testing.T) {
	f := newFakeHorde(t)
	f.handle("GET /v2/status/heartbeat", jsonHandler(200, map[string]any{"message": "OK"}))
	f.handle("GET /v2/find_user", jsonHandler(200, map[string]any{"username": "u#1"}))
	f.handle("GET /v2/status/modes", jsonHandler(200, map[string]any{}))
	f.handle("GET /v2/workers", jsonHandler(200, []any{}))

	tests := []struct {
		name     string
		opts     []Option
		call     func(c *Client) error
		path     string
		wantKey  string
		wantNone bool
	}{
		{"no-auth operation, key configured", []Option{WithAPIKey(secretKey)},
			func(c *Client) error { return noBody(c.raw.GetHeartbeatWithResponse(context.Background())) },
			"/v2/status/heartbeat", "", true},
		{"required key, configured", []Option{WithAPIKey(secretKey)},
			func(c *Client) error { return noBody(c.raw.GetFindUserWithResponse(context.Background())) },
			"/v2/find_user", secretKey, false},
		{"required key, anonymous default", nil,
			func(c *Client) error { return noBody(c.raw.GetFindUserWithResponse(context.Background())) },
			"/v2/find_user", AnonymousAPIKey, false},
		{"optional key, configured", []Option{WithAPIKey(secretKey)},
			func(c *Client) error { return noBody(c.raw.GetHordeModesWithResponse(context.Background())) },
			"/v2/status/modes", secretKey, false},
		{"optional key, not configured: no anonymous key (it would earn a 403)", nil,
			func(c *Client) error { return noBody(c.raw.GetHordeModesWithResponse(context.Background())) },
			"/v2/status/modes", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.hits = nil
			c := newTestClient(t, f, nil, append(tt.opts, WithClientAgent("test:1:me"))...)
			require.NoError(t, tt.call(c))
			hits := f.requests()
			require.Len(t, hits, 1)
			assert.Equal(t, tt.path, hits[0].Path)
			assert.Equal(t, "test:1:me", hits[0].Header.Get("Client-Agent"))
			_, has := hits[0].Header["Apikey"]
			if tt.wantNone {
				assert.False(t, has, "apikey sent to %s", tt.path)
			} else {
				assert.Equal(t, tt.wantKey, hits[0].Header.Get("apikey"))
			}
		})
	}
}

// TestKeyNeverLeavesTheHorde: a redirect to another host, and an R2 download, carry no key.
func TestKeyNeverLeavesTheHorde(t *testing.T) {
	f := newFakeHorde(t)
	f.handle("GET /v2/find_user", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://evil.test/steal", http.StatusFound)
	})
	f.handle("GET /v2/users/1", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/api/v2/users/2", http.StatusFound) // same host: the key stays
	})
	f.handle("GET /v2/users/2", jsonHandler(200, map[string]any{"id": 2}))
	evil := newFakeHorde(t)
	evil.handle("GET /steal", jsonHandler(200, map[string]any{}))
	r2 := newFakeHorde(t)
	r2.handle("GET /bucket/img.webp", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("RIFF....WEBP")) })

	c := newTestClient(t, f, map[string]http.Handler{"evil.test": evil, "r2.test": r2}, WithAPIKey(secretKey))
	_ = noBody(c.raw.GetFindUserWithResponse(context.Background()))
	require.Len(t, evil.requests(), 1)
	assert.Empty(t, evil.requests()[0].Header.Get("apikey"), "the key followed a redirect to another host")
	assert.Empty(t, evil.requests()[0].Header.Get("Client-Agent"), "the agent is the Horde's business only")

	require.NoError(t, noBody(c.raw.GetUserSingleWithResponse(context.Background(), "1")))
	assert.Equal(t, secretKey, f.requests()[len(f.requests())-1].Header.Get("apikey"))

	data, err := c.Download(context.Background(), "http://r2.test/bucket/img.webp?X-Amz-Signature=abc")
	require.NoError(t, err)
	assert.Equal(t, "RIFF....WEBP", string(data))
	assert.Empty(t, r2.requests()[0].Header.Get("apikey"))
}

func TestKeyNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	f := newFakeHorde(t)
	f.handle("GET /v2/find_user", jsonHandler(503, map[string]any{"message": "down"}))
	c := newTestClient(t, f, nil, WithAPIKey(secretKey),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 3}))
	err := noBody(c.raw.GetFindUserWithResponse(context.Background()))
	require.Error(t, err)
	assert.Contains(t, logs.String(), "retrying")
	assert.NotContains(t, logs.String(), secretKey)
	assert.NotContains(t, err.Error(), secretKey)
}

// TestRetries counts the server's hits: retried exactly where sending again is safe.
func TestRetries(t *testing.T) {
	policy := WithRetryPolicy(RetryPolicy{MaxAttempts: 3})
	tests := []struct {
		name   string
		status int
		body   map[string]any
		call   func(c *Client) error
		route  string
		hits   int
	}{
		{"GET 503 is retried", 503, map[string]any{"message": "x"},
			func(c *Client) error { return noBody(c.raw.GetHeartbeatWithResponse(context.Background())) }, "GET /v2/status/heartbeat", 3},
		{"GET 502 is retried", 502, nil,
			func(c *Client) error { return noBody(c.raw.GetHeartbeatWithResponse(context.Background())) }, "GET /v2/status/heartbeat", 3},
		{"GET limiter 429 is retried", 429, map[string]any{"message": "2 per 1 second"},
			func(c *Client) error { return noBody(c.raw.GetHeartbeatWithResponse(context.Background())) }, "GET /v2/status/heartbeat", 3},
		{"GET 500 is not retried", 500, map[string]any{"message": "Internal Server Error"},
			func(c *Client) error { return noBody(c.raw.GetHeartbeatWithResponse(context.Background())) }, "GET /v2/status/heartbeat", 1},
		{"GET 404 is not retried", 404, map[string]any{"message": "x", "rc": "RequestNotFound"},
			func(c *Client) error { return noBody(c.raw.GetImageAsyncCheckWithResponse(context.Background(), "id")) }, "GET /v2/generate/check/id", 1},
		{"DELETE 503 is retried", 503, nil,
			func(c *Client) error {
				return noBody(c.raw.DeleteImageAsyncStatusWithResponse(context.Background(), "id"))
			}, "DELETE /v2/generate/status/id", 3},
		{"async POST 503 is never retried", 503, nil,
			func(c *Client) error {
				return noBody(c.raw.PostImageAsyncGenerateWithResponse(context.Background(), gen.GenerationInputStable{Prompt: "x"}))
			}, "POST /v2/generate/async", 1},
		{"async POST limiter 429 is never retried", 429, map[string]any{"message": "2 per 1 second"},
			func(c *Client) error {
				return noBody(c.raw.PostTextAsyncGenerateWithResponse(context.Background(), gen.GenerationInputKobold{Prompt: ptr("x")}))
			}, "POST /v2/generate/text/async", 1},
		{"TooManyPrompts is never retried", 429, map[string]any{"message": "too many", "rc": "TooManyPrompts"},
			func(c *Client) error { return noBody(c.raw.GetHeartbeatWithResponse(context.Background())) }, "GET /v2/status/heartbeat", 1},
		{"POST with an Idempotency-Key is retried", 503, nil,
			func(c *Client) error {
				return noBody(c.raw.PostTransferKudosWithResponse(context.Background(),
					&gen.PostTransferKudosParams{IdempotencyKey: ptr("k1")}, gen.PostTransferKudosJSONRequestBody{Username: ptr("a#1"), Amount: ptr(1)}))
			}, "POST /v2/kudos/transfer", 3},
		{"POST without an Idempotency-Key is not retried", 503, nil,
			func(c *Client) error {
				return noBody(c.raw.PostTransferKudosWithResponse(context.Background(), nil, gen.PostTransferKudosJSONRequestBody{Username: ptr("a#1"), Amount: ptr(1)}))
			}, "POST /v2/kudos/transfer", 1},
		{"PATCH is not retried", 503, nil,
			func(c *Client) error {
				return noBody(c.raw.PatchTeamSingleWithResponse(context.Background(), "t", gen.PatchTeamSingleJSONRequestBody{}))
			}, "PATCH /v2/teams/t", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeHorde(t)
				f.handle(tt.route, jsonHandler(tt.status, tt.body))
				c := newTestClient(t, f, nil, policy)
				err := tt.call(c)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tt.status, apiErr.StatusCode)
				method, path, _ := strings.Cut(tt.route, " ")
				assert.Equal(t, tt.hits, f.count(method, path))
			})
		})
	}
}

// TestRetryAfterIsWaited runs in virtual time: the retry waits the server's Retry-After.
func TestRetryAfterIsWaited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		var times []time.Time
		f.handle("GET /v2/users", func(w http.ResponseWriter, _ *http.Request) {
			times = append(times, time.Now())
			if len(times) == 1 {
				w.Header().Set("Retry-After", "7")
				writeJSON(w, 429, map[string]any{"message": "90 per 1 minute"})
				return
			}
			writeJSON(w, 200, []any{})
		})
		c := newTestClient(t, f, nil, WithRateLimiting(false),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Minute}))
		require.NoError(t, noBody(c.raw.GetUsersWithResponse(context.Background(), nil)))
		require.Len(t, times, 2)
		assert.GreaterOrEqual(t, times[1].Sub(times[0]), 7*time.Second)
	})
}

// TestRetryGivesUpBeforeTheDeadline: a Retry-After past the context's deadline ends the call at
// once with the server's answer, rather than sleeping into the deadline.
func TestRetryGivesUpBeforeTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("GET /v2/users", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "60")
			writeJSON(w, 503, map[string]any{"message": "maintenance"})
		})
		c := newTestClient(t, f, nil, WithRateLimiting(false))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		err := noBody(c.raw.GetUsersWithResponse(ctx, nil))
		require.Error(t, err)
		assert.Less(t, time.Since(start), time.Second)
		assert.Equal(t, 1, f.count("GET", "/v2/users"))
	})
}

// TestContextCancelStopsAWait: cancelling the context ends a backoff wait at once.
func TestContextCancelStopsAWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("GET /v2/users", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "30")
			writeJSON(w, 503, nil)
		})
		c := newTestClient(t, f, nil, WithRateLimiting(false))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- noBody(c.raw.GetUsersWithResponse(ctx, nil)) }()
		synctest.Wait() // the call is now waiting to retry
		start := time.Now()
		cancel()
		err := <-done
		require.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, time.Since(start), "the wait did not stop at once")
	})
}

// TestTransportErrorsBeforeWriteAreRetried: a connection that fails before the request is
// written is retried even for an async POST: the server cannot have seen it.
func TestTransportErrorsBeforeWriteAreRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("POST /v2/generate/async", jsonHandler(202, map[string]any{"id": "abc"}))
		flaky := &flakyTransport{next: &memTransport{hosts: map[string]http.Handler{fakeHost: f}}, failures: 2}
		c, err := NewClient(WithBaseURL("http://"+fakeHost+"/api/"), WithHTTPClient(&http.Client{Transport: flaky}))
		require.NoError(t, err)
		r, err := c.raw.PostImageAsyncGenerateWithResponse(context.Background(), gen.GenerationInputStable{Prompt: "x"})
		require.NoError(t, err)
		assert.Equal(t, 202, r.StatusCode())
		assert.Equal(t, 3, flaky.calls)
		assert.Equal(t, 1, f.count("POST", "/v2/generate/async"))
	})
}

// flakyTransport fails its first requests before writing anything.
type flakyTransport struct {
	next     http.RoundTripper
	failures int
	calls    int
}

func (t *flakyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.calls++
	if t.calls <= t.failures {
		return nil, errors.New("dial tcp: connection refused")
	}
	return t.next.RoundTrip(req)
}

func TestTransportErrorSaysWhichOperation(t *testing.T) {
	c, err := NewClient(WithBaseURL("http://nowhere.test/api/"),
		WithHTTPClient(&http.Client{Transport: &memTransport{hosts: map[string]http.Handler{}}}), WithoutRetries())
	require.NoError(t, err)
	_, err = c.raw.GetUserSingleWithResponse(context.Background(), "5")
	require.ErrorContains(t, err, "GET /v2/users/{user_id}")
}

func TestRequestTimeoutBoundsEachAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		block := make(chan struct{})
		f.handle("GET /v2/users", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-block:
			}
			writeJSON(w, 200, []any{})
		})
		c := newTestClient(t, f, nil, WithRequestTimeout(2*time.Second), WithoutRetries())
		start := time.Now()
		_, err := c.raw.GetUsersWithResponse(context.Background(), nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 2*time.Second, time.Since(start))
		close(block)
	})
}

func TestRateStateIsPerCall(t *testing.T) {
	f := newFakeHorde(t)
	f.handle("GET /v2/users/*", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if id != "3" { // user 3's answer carries no rate-limit headers
			w.Header().Set("X-RateLimit-Limit", "60")
			w.Header().Set("X-RateLimit-Remaining", "5"+id)
			w.Header().Set("X-RateLimit-Reset", "1800000000")
		}
		writeJSON(w, 200, map[string]any{"id": 1})
	})
	c := newTestClient(t, f, nil)
	var first, second, none RateState
	require.NoError(t, noBody(c.raw.GetUserSingleWithResponse(WithRateState(context.Background(), &first), "1")))
	require.NoError(t, noBody(c.raw.GetUserSingleWithResponse(WithRateState(context.Background(), &second), "2")))
	require.NoError(t, noBody(c.raw.GetUserSingleWithResponse(WithRateState(context.Background(), &none), "3")))
	assert.Equal(t, RateState{Route: "GET /v2/users/{user_id}", Limit: 60, Remaining: 51,
		Reset: time.Unix(1800000000, 0), Seen: first.Seen}, first)
	assert.Equal(t, 52, second.Remaining, "each call sees its own answer")
	assert.Equal(t, RateState{}, none)
}

func TestWithoutRetryContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		f.handle("POST /v2/generate/pop", jsonHandler(503, nil))
		c := newTestClient(t, f, nil)
		err := noBody(c.raw.PostImageJobPopWithResponse(WithoutRetry(context.Background()), gen.PopInputStable{}))
		require.Error(t, err)
		assert.Equal(t, 1, f.count("POST", "/v2/generate/pop"))
	})
}

func TestHeaderKeysAreCanonical(t *testing.T) {
	assert.Equal(t, http.CanonicalHeaderKey("apikey"), apiKeyHeader)
	assert.Equal(t, http.CanonicalHeaderKey("client-agent"), clientAgentHeader)
}

// TestCallerKeyHeaderIsReplaced: a key that a caller's request editor sets in any case is
// replaced by the policy's, and removed where the operation takes none.
func TestCallerKeyHeaderIsReplaced(t *testing.T) {
	f := newFakeHorde(t)
	f.handle("GET /v2/status/heartbeat", jsonHandler(200, map[string]any{}))
	c := newTestClient(t, f, nil, WithAPIKey(secretKey))
	editor := func(_ context.Context, req *http.Request) error {
		req.Header.Set("apikey", "caller-key")
		return nil
	}
	require.NoError(t, noBody(c.raw.GetHeartbeatWithResponse(context.Background(), editor)))
	assert.Empty(t, f.requests()[0].Header.Values("apikey"))
}

// TestEmptyIDIsRefused: a path parameter left empty matches no operation; nothing is sent.
func TestEmptyIDIsRefused(t *testing.T) {
	f := newFakeHorde(t)
	c := newTestClient(t, f, nil)
	_, err := c.Worker(context.Background(), "")
	require.ErrorContains(t, err, "is an id empty?")
	err = c.DeleteTeam(context.Background(), "")
	require.ErrorContains(t, err, "/api/v2/teams/")
	assert.Empty(t, f.requests())
}

package horde

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/horde-go/horde/gen"
)

// Client talks to one AI Horde. It is safe for concurrent use.
//
// Every operation of the API has a method that returns the decoded body, or an *APIError for a
// non-2xx answer; Raw reaches the generated client underneath.
type Client struct {
	raw *gen.ClientWithResponses

	cfg      config
	base     *url.URL
	hc       *http.Client // carries Horde requests: redirects strip the key off-host
	download *http.Client // carries image downloads: never sees the key
	routes   *routeTable
	limiters *limiters
	log      *slog.Logger

	agentValue, keyValue []string // header values, built once
}

// NewClient returns a client for the public AI Horde, or for the Horde the options name.
func NewClient(opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if !strings.HasSuffix(cfg.baseURL, "/") {
		cfg.baseURL += "/"
	}
	base, err := url.Parse(cfg.baseURL)
	if err != nil {
		return nil, optionError("WithBaseURL", "%v", err)
	}
	c := &Client{cfg: cfg, base: base, routes: loadRoutes(), limiters: newLimiters(), log: cfg.logger,
		agentValue: []string{cfg.agent}, keyValue: []string{cfg.apiKey}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.httpClient
	if hc == nil {
		hc = &http.Client{}
	}
	download := *hc
	c.download = &download
	own := *hc
	userRedirect := hc.CheckRedirect
	own.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !c.sameOrigin(req.URL) {
			req.Header.Del(apiKeyHeader)
			req.Header.Del(clientAgentHeader)
		}
		if userRedirect != nil {
			return userRedirect(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	c.hc = &own
	gc, err := gen.NewClientWithResponses(cfg.baseURL, gen.WithHTTPClient(doer{c}))
	if err != nil {
		return nil, fmt.Errorf("horde: creating the client: %w", err)
	}
	c.raw = gc
	return c, nil
}

// Raw returns the generated client underneath, for what the methods of Client do not cover (a
// request editor, a body the typed methods cannot express). Its requests go through the same
// key, agent, retry and rate-limit handling, but its responses are not errors when their status
// is not 2xx: check them, or turn them into *APIError with APIErrorFromResponse.
func (c *Client) Raw() *gen.ClientWithResponses { return c.raw }

// BaseURL returns the API root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// ClientAgent returns the Client-Agent the client sends.
func (c *Client) ClientAgent() string { return c.cfg.agent }

const (
	// Canonical forms: the code writes the header map directly. TestHeaderKeysAreCanonical
	// checks them against net/http.
	apiKeyHeader      = "Apikey"
	clientAgentHeader = "Client-Agent"
)

func (c *Client) sameOrigin(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host)
}

// relativePath returns the request path below the base path ("/v2/…"), escaped as sent.
func (c *Client) relativePath(u *url.URL) (string, bool) {
	if !c.sameOrigin(u) {
		return "", false
	}
	p := u.EscapedPath()
	basePath := strings.TrimSuffix(c.base.EscapedPath(), "/")
	if !strings.HasPrefix(p, basePath+"/") {
		return "", false
	}
	return p[len(basePath):], true
}

type noRetryKey struct{}

// WithoutRetry returns a context whose requests are sent once, whatever the retry policy:
// for callers that retry by their own rules, such as a worker's pop and submit.
func WithoutRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

type rateStateKey struct{}

// WithRateState returns a context that records the rate-limit state the server reports for
// the call made with it: after the call, *st holds the X-RateLimit-* view of that call's answer
// (st.Limit is 0 when the server sent none). The state belongs to the call, not to the client,
// so concurrent calls never see each other's; give each call its own RateState.
func WithRateState(ctx context.Context, st *RateState) context.Context {
	return context.WithValue(ctx, rateStateKey{}, st)
}

// doer is the gen.HttpRequestDoer through which every generated request goes.
type doer struct{ c *Client }

// Do sends a request to the Horde with the key, agent, limits and retries that apply to it.
func (d doer) Do(req *http.Request) (*http.Response, error) {
	c := d.c
	rel, horde := c.relativePath(req.URL)
	var rt *route
	if horde {
		var ok bool
		if rt, ok = c.routes.match(req.Method, rel); !ok {
			// Every generated operation has a route: a miss means an empty path parameter
			// (Worker(ctx, "") would ask for /v2/workers/) or a hand-made URL.
			return nil, fmt.Errorf("horde: %s %s: no operation of the AI Horde API has this path (is an id empty?)",
				req.Method, req.URL.EscapedPath())
		}
		// The value slices are shared by every request: net/http only reads them.
		req.Header[clientAgentHeader] = c.agentValue
		delete(req.Header, apiKeyHeader)
		if rt != nil && (rt.key == keyRequired || (rt.key == keyOptional && c.cfg.keySet)) {
			req.Header[apiKeyHeader] = c.keyValue
		}
	}
	attempts := c.cfg.retry.MaxAttempts
	if v, _ := req.Context().Value(noRetryKey{}).(bool); v || attempts < 1 {
		attempts = 1
	}
	safe := idempotent(req)
	// Whether a failed attempt was written matters only for a request that is not idempotent
	// and may be retried: only those pay for the trace.
	traceWrites := !safe && attempts > 1
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		if c.cfg.rateLimit && rt != nil {
			if err := c.limiters.wait(ctx, rt, rel); err != nil {
				return nil, fmt.Errorf("horde: %s: waiting for the rate limiter: %w", opName(req, rt), err)
			}
		}
		resp, written, err := c.send(req, attempt, traceWrites)
		if err != nil {
			if ctx.Err() != nil || attempt >= attempts || (written && !safe) {
				return nil, fmt.Errorf("horde: %s: %w", opName(req, rt), err)
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "horde: retrying after a transport error",
				slog.String("op", opName(req, rt)), slog.Int("attempt", attempt), slog.String("error", err.Error()))
			if werr := c.backoff(ctx, attempt, 0); werr != nil {
				return nil, fmt.Errorf("horde: %s: %w (retry abandoned: %w)", opName(req, rt), err, werr)
			}
			continue
		}
		if dst, _ := ctx.Value(rateStateKey{}).(*RateState); dst != nil && horde && resp.Header.Get("X-RateLimit-Limit") != "" {
			if st, ok := parseRateState(resp.Header, time.Now()); ok {
				st.Route = opName(req, rt)
				*dst = st
			}
		}
		retryAfter, retry := c.shouldRetry(req, resp, safe)
		if !retry || attempt >= attempts {
			return resp, nil
		}
		drainAndClose(resp.Body)
		c.log.LogAttrs(ctx, slog.LevelDebug, "horde: retrying",
			slog.String("op", opName(req, rt)), slog.Int("attempt", attempt), slog.Int("status", resp.StatusCode),
			slog.Duration("retry_after", retryAfter))
		if werr := c.backoff(ctx, attempt, retryAfter); werr != nil {
			return nil, fmt.Errorf("horde: %s: %d %s (retry abandoned: %w)", opName(req, rt), resp.StatusCode, http.StatusText(resp.StatusCode), werr)
		}
	}
}

// opName names a request's operation for errors and logs: "GET /v2/users/{user_id}".
func opName(req *http.Request, rt *route) string {
	if rt != nil {
		return rt.method + " " + rt.template
	}
	return req.Method + " " + req.URL.EscapedPath()
}

// send makes one attempt. written reports whether any of the request may have reached the
// server; it is only tracked when traceWrites is set, and is true otherwise.
func (c *Client) send(req *http.Request, attempt int, traceWrites bool) (resp *http.Response, written bool, err error) {
	ctx := req.Context()
	var wrote *atomic.Bool
	if traceWrites {
		wrote = new(atomic.Bool)
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteHeaderField: func(string, []string) { wrote.Store(true) },
			WroteRequest:     func(httptrace.WroteRequestInfo) { wrote.Store(true) },
		})
	}
	cancel := context.CancelFunc(func() {})
	if c.cfg.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
	}
	out := req
	if ctx != req.Context() {
		out = req.WithContext(ctx)
	}
	if attempt > 1 && req.GetBody != nil {
		// The first attempt consumed the body: send a fresh copy on a copy of the request.
		if out == req {
			out = req.WithContext(ctx)
		}
		if out.Body, err = req.GetBody(); err != nil {
			cancel()
			return nil, false, err
		}
	}
	resp, err = c.hc.Do(out)
	if err != nil {
		cancel()
		return nil, wrote == nil || wrote.Load(), err
	}
	if c.cfg.timeout > 0 {
		// The attempt's timeout covers reading the body, so it ends when the body is closed.
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	} else {
		cancel()
	}
	return resp, true, nil
}

// shouldRetry decides whether a response is worth another attempt, and how long the server
// asked to wait. A 429 body is read to tell a limiter 429 from TooManyPrompts, and put back.
func (c *Client) shouldRetry(req *http.Request, resp *http.Response, safe bool) (time.Duration, bool) {
	if resp.StatusCode < 400 {
		return 0, false
	}
	retryAfter, _ := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return retryAfter, safe
	case http.StatusTooManyRequests:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		drainAndClose(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		e := newAPIError(req.Method, req.URL.EscapedPath(), resp.StatusCode, resp.Header, body)
		return retryAfter, e.rateLimited() && safe
	}
	return 0, false
}

// backoff waits before retry number attempt: exponential with full jitter, or the server's
// Retry-After when longer, both capped by the policy's MaxDelay. It gives up at once when the
// wait would outlast the context's deadline.
func (c *Client) backoff(ctx context.Context, attempt int, retryAfter time.Duration) error {
	p := c.cfg.retry
	limit := p.BaseDelay << min(attempt-1, 20)
	if limit > p.MaxDelay || limit <= 0 {
		limit = p.MaxDelay
	}
	var wait time.Duration
	if limit > 0 {
		wait = rand.N(limit + 1) // #nosec: jitter, not security
	}
	wait = min(max(wait, retryAfter), p.MaxDelay)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		return fmt.Errorf("the next attempt (in %v) would pass the deadline", wait.Round(time.Millisecond))
	}
	return sleep(ctx, wait)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// drainAndClose reads a little of what is left, so the connection can be reused, and closes.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// cancelOnClose ends an attempt's timeout context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

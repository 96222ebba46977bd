package horde

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// memTransport serves requests in memory: each host maps to a handler. It starts no goroutine
// and touches no network, so tests can run inside a testing/synctest bubble (virtual time).
type memTransport struct {
	hosts map[string]http.Handler
}

func (t *memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := t.hosts[req.URL.Host]
	if !ok {
		return nil, &netError{"no such host " + req.URL.Host}
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	// Serve a copy, as a server would see it: the body read once, the headers as sent.
	in := req.Clone(req.Context())
	in.Body = http.NoBody
	if req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		_ = req.Body.Close()
		in.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	in.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err // the client gave up while the server worked
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

type netError struct{ msg string }

func (e *netError) Error() string { return e.msg }

// hit is a request the fake Horde received.
type hit struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// fakeHorde records requests and answers through per-route handlers ("METHOD /path", where the
// path is the escaped path below /api).
type fakeHorde struct {
	t      *testing.T
	mu     sync.Mutex
	hits   []hit
	routes map[string]http.HandlerFunc
}

func newFakeHorde(t *testing.T) *fakeHorde {
	return &fakeHorde{t: t, routes: map[string]http.HandlerFunc{}}
}

func (f *fakeHorde) handle(route string, h http.HandlerFunc) { f.routes[route] = h }

func (f *fakeHorde) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/api")
	f.mu.Lock()
	f.hits = append(f.hits, hit{r.Method, path, r.URL.RawQuery, r.Header.Clone(), body})
	h := f.routes[r.Method+" "+path]
	if h == nil {
		// Routes with an id: try the prefix form "METHOD /v2/generate/check/*".
		for route, rh := range f.routes {
			if p, ok := strings.CutSuffix(route, "*"); ok && strings.HasPrefix(r.Method+" "+path, p) {
				h = rh
			}
		}
	}
	f.mu.Unlock()
	if h == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "no route " + r.Method + " " + path, "rc": "RequestNotFound"})
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	h(w, r)
}

func (f *fakeHorde) requests() []hit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]hit(nil), f.hits...)
}

// count returns how many requests matched method and path (path may end in * for a prefix).
func (f *fakeHorde) count(method, path string) int {
	n := 0
	for _, h := range f.requests() {
		if h.Method != method {
			continue
		}
		if p, ok := strings.CutSuffix(path, "*"); ok && strings.HasPrefix(h.Path, p) || h.Path == path {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonHandler(status int, v any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, status, v) }
}

const fakeHost = "horde.test"

// newTestClient returns a client of the fake Horde at http://horde.test/api/, served in memory.
// extra maps further hosts (an R2 bucket, a redirect target) to handlers.
func newTestClient(t *testing.T, f http.Handler, extra map[string]http.Handler, opts ...Option) *Client {
	t.Helper()
	hosts := map[string]http.Handler{fakeHost: f}
	for h, hh := range extra {
		hosts[h] = hh
	}
	hc := &http.Client{Transport: &memTransport{hosts: hosts}}
	all := append([]Option{WithBaseURL("http://" + fakeHost + "/api/"), WithHTTPClient(hc)}, opts...)
	c, err := NewClient(all...)
	require.NoError(t, err)
	return c
}

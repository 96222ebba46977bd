package openai_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/openai"
)

func job() *worker.TextJob { return &worker.TextJob{ID: "j", Params: params.Text{Prompt: "p"}} }

func respond(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func TestHTTPErrors(t *testing.T) {
	htmlPage := "<!DOCTYPE html><html><head><title>500 Internal Server Error</title><style>body{color:red}</style>" +
		"<script>var x = '<b>';</script></head><body><h1>Internal   Server\n\nError</h1><p>" +
		strings.Repeat("The server encountered an internal error. ", 300) + "</p></body></html>"
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		status     int
		temporary  bool
		wantIn     []string
		wantNotIn  []string
		maxExcerpt int
	}{
		{"500 html page", respond(500, "text/html", htmlPage), 500, false,
			[]string{"500 Internal Server Error", "POST /v1/completions", "Internal Server Error The server encountered", "…"},
			[]string{"<", "color:red", "var x", "\n"}, 301},
		{"400 openai json error", respond(400, "application/json", `{"error":{"message":"prompt is too long","type":"invalid_request_error","code":400}}`), 400, false,
			[]string{"400 Bad Request", "prompt is too long"}, []string{"invalid_request_error"}, 0},
		{"400 vllm json error", respond(400, "application/json", `{"object":"error","message":"max_tokens must be at least 1","type":"BadRequestError","code":400}`), 400, false,
			[]string{"max_tokens must be at least 1"}, nil, 0},
		{"422 fastapi detail", respond(422, "application/json", `{"detail":[{"loc":["body","prompt"],"msg":"field required"}]}`), 422, false,
			[]string{"422", "field required"}, nil, 0},
		{"error as string", respond(401, "application/json", `{"error":"unauthorized"}`), 401, false,
			[]string{"401", "unauthorized"}, nil, 0},
		{"503 busy", respond(503, "application/json", `{"detail":{"msg":"Server is busy; please try again later.","type":"service_unavailable"}}`), 503, true,
			[]string{"503", "Server is busy"}, nil, 0},
		{"429 empty body", respond(429, "text/plain", ""), 429, true, []string{"429 Too Many Requests"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.Handler = tt.handler
			b := f.backend(t, openai.Config{})
			out, err := b.GenerateText(t.Context(), job())
			require.Error(t, err)
			assert.Zero(t, out)
			var he *openai.HTTPError
			require.True(t, errors.As(err, &he))
			assert.Equal(t, tt.status, he.StatusCode)
			assert.Equal(t, tt.temporary, he.Temporary())
			for _, w := range tt.wantIn {
				assert.Contains(t, err.Error(), w)
			}
			for _, w := range tt.wantNotIn {
				assert.NotContains(t, he.Body, w)
			}
			if tt.maxExcerpt > 0 {
				assert.LessOrEqual(t, utf8.RuneCountInString(he.Body), tt.maxExcerpt)
			}
		})
	}
}

func TestBadAnswers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"not json", respond(200, "text/plain", "Hello there"), "not the expected JSON"},
		{"html with 200", respond(200, "text/html", "<html><body>proxy login</body></html>"), "proxy login"},
		{"no choices", respond(200, "application/json", `{"choices":[]}`), "no choices[0].text"},
		{"null text", respond(200, "application/json", `{"choices":[{"text":null}]}`), "no choices[0].text"},
		{"chat shape", respond(200, "application/json", `{"choices":[{"message":{"content":"hi"}}]}`), "no choices[0].text"},
		{"wrong type", respond(200, "application/json", `{"choices":[{"text":42}]}`), "not the expected JSON"},
		{"truncated", respond(200, "application/json", `{"choices":[{"text":"abc`), "not the expected JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.Handler = tt.handler
			_, err := f.backend(t, openai.Config{}).GenerateText(t.Context(), job())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			var he *openai.HTTPError
			assert.False(t, errors.As(err, &he))
		})
	}
}

func TestEmptyTextIsAnAnswer(t *testing.T) {
	f := newFake(t)
	f.Text = ""
	out, err := f.backend(t, openai.Config{}).GenerateText(t.Context(), job())
	require.NoError(t, err)
	assert.Empty(t, out.Text)
}

// blockUntilGone answers only when the client has gone away; started reports each request.
func blockUntilGone(started chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	}
}

func TestTimeout(t *testing.T) {
	f := newFake(t)
	started := make(chan struct{}, 1)
	f.Handler = blockUntilGone(started)
	b := f.backend(t, openai.Config{Timeout: 20 * time.Millisecond})
	_, err := b.GenerateText(t.Context(), job())
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "POST /v1/completions")
}

func TestContextCancel(t *testing.T) {
	f := newFake(t)
	started := make(chan struct{}, 1)
	f.Handler = blockUntilGone(started)
	b := f.backend(t, openai.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := b.GenerateText(ctx, job())
	assert.ErrorIs(t, err, context.Canceled)
}

func TestConnectionError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	b, err := openai.New(openai.Config{BaseURL: url, APIKey: "sk-abcdef123456"})
	require.NoError(t, err)
	_, err = b.GenerateText(t.Context(), job())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "openai: POST /v1/completions "+url)
	assert.Contains(t, err.Error(), "connection refused")
	assert.Equal(t, 1, strings.Count(err.Error(), url), "the URL once: %v", err)
	assert.NotContains(t, err.Error(), "abcdef123456")
}

func TestAPIKey(t *testing.T) {
	const key = "sk-test-0123456789abcdef"
	f := newFake(t)
	b := f.backend(t, openai.Config{APIKey: key})
	_, err := b.GenerateText(t.Context(), job())
	require.NoError(t, err)
	_, err = b.Models(t.Context())
	require.NoError(t, err)
	for _, r := range f.requests() {
		assert.Equal(t, "Bearer "+key, r.Header.Get("Authorization"), r.Path)
		assert.NotContains(t, string(r.Body), key)
		assert.NotContains(t, r.RawQuery, key)
		for name, vals := range r.Header {
			if name != "Authorization" {
				assert.NotContains(t, strings.Join(vals, ","), key, name)
			}
		}
	}

	// A server that echoes the header back in its error: the key is redacted.
	f.Handler = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `{"error":{"message":"invalid key %s"}}`, r.Header.Get("Authorization"))
	}
	_, err = b.GenerateText(t.Context(), job())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), key)
	assert.Contains(t, err.Error(), "invalid key Bearer [redacted]")
	_, err = b.Models(t.Context())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), key)

	// Without a key, no Authorization header.
	g := newFake(t)
	_, err = g.backend(t, openai.Config{}).GenerateText(t.Context(), job())
	require.NoError(t, err)
	assert.Empty(t, g.requests()[0].Header.Values("Authorization"))
}

func TestModels(t *testing.T) {
	f := newFake(t)
	f.Models = []string{"koboldcpp/Llama-3-8B", "other"}
	b := f.backend(t, openai.Config{})
	got, err := b.Models(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"koboldcpp/Llama-3-8B", "other"}, got)
	r := f.requests()[0]
	assert.Equal(t, "GET", r.Method)
	assert.Equal(t, "/v1/models", r.Path)

	f.Models = nil
	got, err = b.Models(t.Context())
	require.NoError(t, err)
	assert.Empty(t, got)

	f.Handler = respond(404, "text/plain", "404 page not found")
	_, err = b.Models(t.Context())
	var he *openai.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 404, he.StatusCode)
	assert.Contains(t, err.Error(), "GET /v1/models")
}

func TestNilJob(t *testing.T) {
	f := newFake(t)
	_, err := f.backend(t, openai.Config{}).GenerateText(t.Context(), nil)
	require.Error(t, err)
	assert.Empty(t, f.requests())
}

func TestConcurrentUse(t *testing.T) {
	f := newFake(t)
	b := f.backend(t, openai.Config{Flavour: openai.VLLM})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			j := job()
			j.Params.Prompt = fmt.Sprint("prompt ", i)
			out, err := b.GenerateText(context.Background(), j)
			assert.NoError(t, err)
			assert.Equal(t, f.Text, out.Text)
		})
	}
	wg.Wait()
	assert.Len(t, f.requests(), 16)
}

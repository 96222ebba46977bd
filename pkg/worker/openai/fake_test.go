package openai_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/worker/openai"
)

// recorded is one request the fake received.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// fake is an httptest fake of an OpenAI-compatible server. By default it answers
// /v1/completions with {"choices":[{"text": Text}]} and /v1/models with Models.
type fake struct {
	*httptest.Server
	Text   string
	Models []string
	// Handler, when set, answers instead.
	Handler http.HandlerFunc

	mu   sync.Mutex
	reqs []recorded
}

func newFake(t *testing.T) *fake {
	f := &fake{Text: " and then it rained."}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
	h := f.Handler
	f.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/completions":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "cmpl-1", "object": "text_completion",
			"choices": []map[string]any{{"index": 0, "text": f.Text, "finish_reason": "length"}},
		})
	case "/v1/models":
		data := []map[string]any{}
		for _, m := range f.Models {
			data = append(data, map[string]any{"id": m, "object": "model"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
	default:
		http.NotFound(w, r)
	}
}

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// last returns the body of the last request, decoded.
func (f *fake) lastBody(t *testing.T) map[string]any {
	t.Helper()
	reqs := f.requests()
	require.NotEmpty(t, reqs)
	var m map[string]any
	require.NoError(t, json.Unmarshal(reqs[len(reqs)-1].Body, &m))
	return m
}

func (f *fake) backend(t *testing.T, cfg openai.Config) *openai.Backend {
	t.Helper()
	cfg.BaseURL = f.URL
	cfg.HTTPClient = f.Client()
	b, err := openai.New(cfg)
	require.NoError(t, err)
	return b
}

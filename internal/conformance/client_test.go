package conformance_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
)

// seen is what the test server saw of one request.
type seen struct {
	Method, EscapedPath, RawQuery, ContentType string
	Body                                       []byte
}

// recordingServer answers every request under /api/ with 200 {} and records it.
func recordingServer(t *testing.T) (*gen.Client, func() seen) {
	t.Helper()
	var mu sync.Mutex
	var last seen
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), body}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := gen.NewClient(srv.URL + "/api/")
	require.NoError(t, err)
	return c, func() seen { mu.Lock(); defer mu.Unlock(); return last }
}

func ptr[T any](v T) *T { return &v }

// TestClientPutsRequestsOnTheWire checks that the generated client sends the exact method, path,
// query and JSON the server expects, under a base path.
func TestClientPutsRequestsOnTheWire(t *testing.T) {
	c, last := recordingServer(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func() (*http.Response, error)
		method   string
		path     string
		query    string
		wantJSON string
	}{
		{
			name:   "GET without parameters",
			call:   func() (*http.Response, error) { return c.GetHeartbeat(ctx) },
			method: http.MethodGet, path: "/api/v2/status/heartbeat",
		},
		{
			name: "GET with query parameters",
			call: func() (*http.Response, error) {
				return c.GetModels(ctx, &gen.GetModelsParams{Type: ptr("text"), MinCount: ptr(2)})
			},
			method: http.MethodGet, path: "/api/v2/status/models", query: "type=text&min_count=2",
		},
		{
			name: "path parameter with slashes is escaped",
			call: func() (*http.Response, error) {
				return c.GetModelSingle(ctx, "aphrodite/NeverSleep/Llama-3 8B")
			},
			method: http.MethodGet, path: "/api/v2/status/models/aphrodite%2FNeverSleep%2FLlama-3%208B",
		},
		{
			name: "POST with a body sends false and zero values that are set",
			call: func() (*http.Response, error) {
				return c.PostImageAsyncGenerate(ctx, gen.GenerationInputStable{
					Prompt: "a lighthouse ### fog",
					R2:     ptr(false),
					NSFW:   ptr(false),
					Models: &[]string{"stable_diffusion"},
					Params: &gen.ModelGenerationInputStable{
						Steps:       ptr(0),
						CFGScale:    ptr(7.5),
						SamplerName: ptr(gen.SamplerNameKEulerA),
					},
				})
			},
			method: http.MethodPost, path: "/api/v2/generate/async",
			wantJSON: `{"prompt":"a lighthouse ### fog","r2":false,"nsfw":false,"models":["stable_diffusion"],
				"params":{"steps":0,"cfg_scale":7.5,"sampler_name":"k_euler_a"}}`,
		},
		{
			name: "DELETE with a path parameter",
			call: func() (*http.Response, error) {
				return c.DeleteImageAsyncStatus(ctx, "5f0a1e0c-7d40-4c55-a6b5-1a4a2bc5b1a9")
			},
			method: http.MethodDelete, path: "/api/v2/generate/status/5f0a1e0c-7d40-4c55-a6b5-1a4a2bc5b1a9",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.call()
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode)
			got := last()
			assert.Equal(t, tt.method, got.Method)
			assert.Equal(t, tt.path, got.EscapedPath)
			assert.Equal(t, tt.query, got.RawQuery)
			if tt.wantJSON == "" {
				assert.Empty(t, got.Body)
				return
			}
			assert.Equal(t, "application/json", got.ContentType)
			assert.JSONEq(t, tt.wantJSON, string(got.Body))
		})
	}
}

// TestOptionalFieldsAreOmitted checks that an unset optional field is not sent at all, so the
// server applies its own default (r2 and nsfw default to true on the server).
func TestOptionalFieldsAreOmitted(t *testing.T) {
	b, err := json.Marshal(gen.GenerationInputStable{Prompt: "x"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"prompt":"x"}`, string(b))
}

// TestImageModelsAbsentOrEmpty: an image request without models gets the server's default
// (stable_diffusion); an explicit empty list asks for any model, so both must be expressible.
func TestImageModelsAbsentOrEmpty(t *testing.T) {
	b, err := json.Marshal(gen.GenerationInputStable{Prompt: "x", Models: &[]string{}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"prompt":"x","models":[]}`, string(b))
	b, err = json.Marshal(gen.GenerationInputStable{Prompt: "x", Models: &[]string{"a"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"prompt":"x","models":["a"]}`, string(b))
}

package openai_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/openai"
)

// discoveryServer answers the routes in files with the recorded bodies; anything else is 404,
// as each of these servers answers the others' routes.
func discoveryServer(t *testing.T, files map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := files[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		data, err := os.ReadFile(filepath.Join("testdata", "discover", name))
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDiscover(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		model string // configured
		want  openai.Served
	}{
		{"llama.cpp", map[string]string{"GET /v1/models": "llamacpp_models.json", "GET /props": "llamacpp_props.json"}, "",
			openai.Served{Model: "Qwen2.5-7B-Instruct-Q4_K_M.gguf", ContextLength: 8192, Source: "GET /props n_ctx (llama.cpp)"}},
		{"vLLM", map[string]string{"GET /v1/models": "vllm_models.json"}, "",
			openai.Served{Model: "meta-llama/Llama-3.1-8B-Instruct", ContextLength: 16384, Source: "GET /v1/models max_model_len (vLLM)"}},
		{"KoboldCpp", map[string]string{"GET /v1/models": "koboldcpp_models.json",
			"GET /api/extra/true_max_context_length": "koboldcpp_true_max_context_length.json", "GET /api/v1/model": "koboldcpp_model.json"}, "",
			openai.Served{Model: "koboldcpp/Mistral-Nemo-Instruct-2407-Q4_K_M", ContextLength: 12288,
				Source: "GET /api/extra/true_max_context_length (KoboldCpp)"}},
		{"Ollama with num_ctx", map[string]string{"GET /v1/models": "ollama_models.json", "POST /api/show": "ollama_show.json"}, "",
			openai.Served{Model: "llama3.1:8b", ContextLength: 6144, Source: "POST /api/show num_ctx (Ollama)"}},
		{"Ollama without num_ctx", map[string]string{"GET /v1/models": "ollama_models.json", "POST /api/show": "ollama_show_default.json"}, "",
			openai.Served{Model: "llama3.1:8b", ContextLength: 2048, Source: "POST /api/show (Ollama: no num_ctx, its default)"}},
		{"configured model wins", map[string]string{"GET /v1/models": "vllm_models.json"}, "my/model",
			openai.Served{Model: "my/model"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := openai.New(openai.Config{BaseURL: discoveryServer(t, tt.files), Model: tt.model})
			require.NoError(t, err)
			got, err := b.Discover(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDiscoverNothing(t *testing.T) {
	b, err := openai.New(openai.Config{BaseURL: discoveryServer(t, nil)})
	require.NoError(t, err)
	_, err = b.Discover(t.Context())
	require.ErrorContains(t, err, "neither its model nor its context")
}

// TestLimitTextOffer: the worker offers min(served, configured) context and the served model
// when none is configured, and says why.
func TestLimitTextOffer(t *testing.T) {
	llama := map[string]string{"GET /v1/models": "llamacpp_models.json", "GET /props": "llamacpp_props.json"}
	tests := []struct {
		name      string
		files     map[string]string
		offer     worker.TextOffer
		want      worker.TextOffer
		wantNotes int
		wantErr   string
	}{
		{"served context is smaller", llama, worker.TextOffer{Models: []string{"koboldcpp/qwen"}, MaxLength: 512, MaxContextLength: 16384},
			worker.TextOffer{Models: []string{"koboldcpp/qwen"}, MaxLength: 512, MaxContextLength: 8192}, 1, ""},
		{"configured context is smaller", llama, worker.TextOffer{Models: []string{"m"}, MaxLength: 80, MaxContextLength: 4096},
			worker.TextOffer{Models: []string{"m"}, MaxLength: 80, MaxContextLength: 4096}, 0, ""},
		{"model from the server, normalised", map[string]string{"GET /v1/models": "ollama_models.json", "POST /api/show": "ollama_show.json"},
			worker.TextOffer{MaxLength: 512, MaxContextLength: 2048},
			worker.TextOffer{Models: []string{"llama3.1:8b"}, MaxLength: 512, MaxContextLength: 2048}, 1, ""},
		{"length leaves room for the prompt", map[string]string{"GET /v1/models": "ollama_models.json", "POST /api/show": "ollama_show_default.json"},
			worker.TextOffer{Models: []string{"m"}, MaxLength: 4096, MaxContextLength: 8192},
			worker.TextOffer{Models: []string{"m"}, MaxLength: 1024, MaxContextLength: 2048}, 2, ""},
		{"silent server, configured model", nil, worker.TextOffer{Models: []string{"m"}, MaxContextLength: 2048},
			worker.TextOffer{Models: []string{"m"}, MaxContextLength: 2048}, 1, ""},
		{"silent server, no model", nil, worker.TextOffer{MaxContextLength: 2048}, worker.TextOffer{}, 0, "no text model configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := openai.New(openai.Config{BaseURL: discoveryServer(t, tt.files)})
			require.NoError(t, err)
			o := tt.offer
			notes, err := b.LimitTextOffer(t.Context(), &o)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, o)
			assert.Len(t, notes, tt.wantNotes, "%q", notes)
		})
	}
}

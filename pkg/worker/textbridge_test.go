package worker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/openai"
)

// TestTextBridgeServesTextJobs: a text request on the Horde is served by a worker whose backend
// is an OpenAI-compatible completions server, and the requester reads the server's text.
func TestTextBridgeServesTextJobs(t *testing.T) {
	var mu sync.Mutex
	var sent []map[string]any
	// A llama.cpp server as it answers: its model list, its properties, completions.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"tiny","object":"model","created":1764000000,"owned_by":"llamacpp"}]}`))
	})
	mux.HandleFunc("GET /props", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"default_generation_settings":{"n_ctx":4096},"total_slots":1,"model_path":"/models/tiny.gguf"}`))
	})
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		sent = append(sent, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"choices":[{"text":" and they lived happily ever after.","index":0}]}`))
	})
	llm := httptest.NewServer(mux)
	defer llm.Close()
	backend, err := openai.New(openai.Config{BaseURL: llm.URL, Model: "tiny", MaxLength: 512, MaxContextLength: 4096})
	require.NoError(t, err)

	srv := hordetest.NewServer(
		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 1e6}),
		hordetest.WithUser(hordetest.User{Name: "owner", APIKey: "owner-key", Trusted: true}),
		hordetest.WithRateLimits(false), hordetest.WithTextModels("koboldcpp/tiny"))
	defer srv.Close()
	alice, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("alice-key"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	owner, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("owner-key"), horde.WithRateLimiting(false))
	require.NoError(t, err)

	w, err := worker.New(owner, worker.Settings{
		Text:        &worker.TextOffer{Name: "scribe", Models: []string{"koboldcpp/tiny"}, MaxLength: 512, MaxContextLength: 4096},
		BridgeAgent: "AI Horde Worker~aphrodite~oai:4:https://github.com/horde-go/horde/test",
		PopInterval: 5 * time.Millisecond,
	}, worker.Backends{Text: backend})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	// The Horde refuses a request that no worker it knows can serve: wait for the first pop.
	waitForCall(t, srv, "post_text_job_pop")

	res, err := alice.GenerateTextBody(context.Background(), gen.GenerationInputKobold{
		Prompt: ptr("Once upon a time"), Models: []string{"koboldcpp/tiny"},
		Params: &gen.ModelGenerationInputKobold{MaxLength: ptr(64), Temperature: ptr(0.7), TopP: ptr(0.9)},
	}, horde.PollInterval(time.Second))
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, err)
	require.Len(t, res.Texts, 1)
	assert.Equal(t, " and they lived happily ever after.", res.Texts[0].Text)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, sent, 1)
	assert.Equal(t, "Once upon a time", sent[0]["prompt"])
	assert.EqualValues(t, 64, sent[0]["max_tokens"])
	assert.EqualValues(t, 0.7, sent[0]["temperature"])
	assert.EqualValues(t, 0.9, sent[0]["top_p"])
}

// waitForCall waits until srv has answered an operation successfully.
func waitForCall(t *testing.T, srv *hordetest.Server, operation string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, c := range srv.Calls() {
			if c.Operation == operation && c.Status == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for a successful %s", operation)
		}
		time.Sleep(2 * time.Millisecond) // polling with a deadline
	}
}
func ptr[T any](v T) *T { return &v }

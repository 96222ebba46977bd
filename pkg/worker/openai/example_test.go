package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/openai"
)

// A text backend on a llama.cpp server (here an httptest stand-in), discovering the model
// name first.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			fmt.Fprint(w, `{"data":[{"id":"Llama-3-8B-Instruct"}]}`)
		case "/v1/completions":
			var req map[string]any
			_ = json.NewDecoder(r.Body).Decode(&req)
			fmt.Fprintf(w, `{"choices":[{"text":" a dragon (%v tokens, repeat_penalty %v)."}]}`, req["max_tokens"], req["repeat_penalty"])
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	cfg := openai.Config{
		BaseURL:          srv.URL + "/v1",
		Flavour:          openai.LlamaCpp,
		MaxLength:        256,
		MaxContextLength: 4096,
	}
	probe, err := openai.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	models, err := probe.Models(ctx)
	if err != nil || len(models) == 0 {
		fmt.Println("no model:", err)
		return
	}
	cfg.Model = models[0]
	backend, err := openai.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	var _ worker.TextBackend = backend // what the worker takes

	out, err := backend.GenerateText(ctx, &worker.TextJob{
		Params:    params.Text{Prompt: "Once upon a time there was", RepPen: params.Ptr(1.1)},
		MaxLength: 512, // capped to the server's 256
	})
	fmt.Println(models[0]+":", out.Text, err)
	// Output: Llama-3-8B-Instruct:  a dragon (256 tokens, repeat_penalty 1.1). <nil>
}

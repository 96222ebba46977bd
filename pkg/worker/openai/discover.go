package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/horde-go/horde/pkg/worker"
)

// Served is what a server says about the model it serves.
type Served struct {
	// Model is the served model's name as the server reports it ("" when it says none).
	Model string
	// ContextLength is the context the server runs the model with, in tokens (0 when it says
	// none).
	ContextLength int
	// Source says where ContextLength came from, for logs ("llama.cpp GET /props n_ctx", …).
	Source string
}

// Discover asks the server which model it serves and with what context. Each server family
// says it differently; the probes that do not apply answer 404 and are passed over:
//   - llama.cpp: GET /props, default_generation_settings.n_ctx (or n_ctx);
//   - vLLM and Aphrodite: GET /v1/models, data[].max_model_len;
//   - KoboldCpp: GET /api/extra/true_max_context_length, value; the model from
//     GET /api/v1/model, result;
//   - Ollama: POST /api/show for the model, its num_ctx parameter (else Ollama's default of
//     2048: without num_ctx, Ollama truncates prompts to it whatever the model allows).
//
// The model is the configured one, else the first of GET /v1/models (KoboldCpp's own name
// first). A server that answers none of the probes gives an error.
func (b *Backend) Discover(ctx context.Context) (Served, error) {
	var s Served
	var errs []error
	var models struct {
		Data []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if err := b.do(ctx, http.MethodGet, "/v1/models", nil, &models); err != nil {
		errs = append(errs, err)
	}
	for _, m := range models.Data {
		if s.Model == "" && (b.cfg.Model == "" || m.ID == b.cfg.Model) {
			s.Model = m.ID
			if m.MaxModelLen > 0 {
				s.ContextLength, s.Source = m.MaxModelLen, "GET /v1/models max_model_len (vLLM)"
			}
		}
	}
	if b.cfg.Model != "" {
		s.Model = b.cfg.Model
	}
	if s.ContextLength == 0 {
		var props struct {
			NCtx     int `json:"n_ctx"`
			Defaults struct {
				NCtx int `json:"n_ctx"`
			} `json:"default_generation_settings"`
		}
		if err := b.do(ctx, http.MethodGet, "/props", nil, &props); err == nil {
			if n := max(props.Defaults.NCtx, props.NCtx); n > 0 {
				s.ContextLength, s.Source = n, "GET /props n_ctx (llama.cpp)"
			}
		} else {
			errs = append(errs, err)
		}
	}
	if s.ContextLength == 0 {
		var v struct {
			Value int `json:"value"`
		}
		if err := b.do(ctx, http.MethodGet, "/api/extra/true_max_context_length", nil, &v); err == nil && v.Value > 0 {
			s.ContextLength, s.Source = v.Value, "GET /api/extra/true_max_context_length (KoboldCpp)"
			var m struct {
				Result string `json:"result"`
			}
			if b.cfg.Model == "" && b.do(ctx, http.MethodGet, "/api/v1/model", nil, &m) == nil && m.Result != "" {
				s.Model = m.Result
			}
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	if s.ContextLength == 0 && s.Model != "" {
		var show struct {
			Parameters string `json:"parameters"`
		}
		body := fmt.Appendf(nil, `{"model":%q}`, s.Model)
		if err := b.do(ctx, http.MethodPost, "/api/show", body, &show); err == nil {
			s.ContextLength, s.Source = 2048, "POST /api/show (Ollama: no num_ctx, its default)"
			if n := ollamaNumCtx(show.Parameters); n > 0 {
				s.ContextLength, s.Source = n, "POST /api/show num_ctx (Ollama)"
			}
		} else {
			errs = append(errs, err)
		}
	}
	if s.Model == "" && s.ContextLength == 0 {
		return s, fmt.Errorf("openai: the server says neither its model nor its context: %w", errors.Join(errs...))
	}
	return s, nil
}

// ollamaNumCtx reads num_ctx from Ollama's parameters text ("num_ctx 8192\nstop ...").
func ollamaNumCtx(params string) int {
	for line := range strings.SplitSeq(params, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "num_ctx" {
			if n, err := strconv.Atoi(f[1]); err == nil {
				return n
			}
		}
	}
	return 0
}

// hordeModelName is the name the scribe advertises for a served model: the server's, with the
// first "_" read as "/" when it has no "/" (a Hugging Face repository written as a file name).
func hordeModelName(served string) string {
	if served == "" || strings.Contains(served, "/") {
		return served
	}
	return strings.Replace(served, "_", "/", 1)
}

// LimitTextOffer implements worker.TextOfferLimiter: the worker offers the served model when
// the offer names none, and at most the context and length the server runs with.
func (b *Backend) LimitTextOffer(ctx context.Context, o *worker.TextOffer) ([]string, error) {
	s, err := b.Discover(ctx)
	if err != nil {
		if len(o.Models) == 0 {
			return nil, fmt.Errorf("no text model configured, and %w", err)
		}
		return []string{fmt.Sprintf("the server did not say its context size (%v): offering the configured %d tokens",
			err, o.MaxContextLength)}, nil
	}
	var notes []string
	if len(o.Models) == 0 {
		if s.Model == "" {
			return nil, errors.New("no text model configured, and the server names none")
		}
		o.Models = []string{hordeModelName(s.Model)}
		notes = append(notes, fmt.Sprintf("offering the served model %q", o.Models[0]))
	}
	if s.ContextLength > 0 && (o.MaxContextLength == 0 || s.ContextLength < o.MaxContextLength) {
		notes = append(notes, fmt.Sprintf("max_context_length %d, the served model's (%s); configured %d",
			s.ContextLength, s.Source, o.MaxContextLength))
		o.MaxContextLength = s.ContextLength
	}
	if o.MaxContextLength > 0 && o.MaxLength >= o.MaxContextLength {
		o.MaxLength = max(o.MaxContextLength/2, 1)
		notes = append(notes, fmt.Sprintf("max_length lowered to %d to leave room for the prompt", o.MaxLength))
	}
	return notes, nil
}

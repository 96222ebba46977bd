// Package openai is a text backend for the worker that bridges an OpenAI-compatible
// completions server: llama.cpp server, vLLM, Aphrodite, Ollama, KoboldCpp and TabbyAPI all
// serve POST {base}/v1/completions.
//
// Build a [Backend] with [New] and give it to the worker as its text backend. The worker
// advertises its own max_length and max_context_length; set Config.MaxLength and
// Config.MaxContextLength to what the server can really do, and the backend caps each job to
// them.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/horde-go/horde/pkg/worker"
)

// maxResponseBytes bounds the body read from the server.
const maxResponseBytes = 16 << 20

// Backend is a [worker.TextBackend] on an OpenAI-compatible completions server. It is safe for
// concurrent use.
type Backend struct {
	cfg Config
}

var _ worker.TextBackend = (*Backend)(nil)

// New validates cfg and returns a backend. It does no I/O. The error lists every invalid
// field by name.
func New(cfg Config) (*Backend, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Backend{cfg: cfg}, nil
}

// Config returns the backend's configuration with its defaults filled in.
func (b *Backend) Config() Config { return b.cfg }

// GenerateText sends the job to POST {base}/v1/completions and returns choices[0].text.
//
// Lengths: max_tokens is the job's max length (the worker's cap, else the payload's, else the
// Horde default 80) capped to Config.MaxLength; the context is the job's max context length
// (else 2048) capped to Config.MaxContextLength; when max_tokens would fill the context it is
// halved to context/2. The prompt is cut from the left (the oldest text goes) to
// (context − max_tokens) × Config.CharsPerToken characters: there is no tokenizer here, so the
// budget is an estimate (vLLM and Aphrodite also get truncate_prompt_tokens, which is exact).
//
// Fields, by [Flavour] (G generic, S strict, L llama.cpp, V vLLM, A Aphrodite, K KoboldCpp):
//
//	prompt              prompt (all)
//	max_length          max_tokens (all); K also gets max_context_length
//	temperature         temperature (all; S clamps it to 2)
//	top_p               top_p (all)
//	stop_sequence       stop (all, empty strings dropped; S sends the first 4)
//	Config.Seed         seed (all)
//	top_k               top_k (G L V A K; 0, which means off, is omitted in G, −1 in V A, 0 in L K)
//	min_p               min_p (G L V A K)
//	typical             typical_p (G L A), typical (K)
//	tfs                 tfs (G A K), tfs_z (L)
//	top_a               top_a (G A K)
//	rep_pen             repetition_penalty (G V A), repeat_penalty (L), rep_pen and
//	                    presence_penalty = rep_pen − 1 (K, whose OpenAI route derives rep_pen
//	                    from presence_penalty)
//	rep_pen_range       repeat_last_n (L), rep_pen_range (K)
//	rep_pen_slope       rep_pen_slope (K)
//	sampler_order       sampler_order (K)
//	dynatemp_range/_exponent  dynatemp_range, dynatemp_exponent (L K); dynatemp_min/_max =
//	                    temperature ∓ range and dynatemp_exponent (A)
//	smoothing_factor    smoothing_factor (A K)
//	use_default_badwordsids   ignore_eos (L V A), use_default_badwordsids (K)
//	(always, V A)       include_stop_str_in_output: true, truncate_prompt_tokens
//
// Fields with no equivalent for a flavour are not sent: repetition penalties are never mapped
// onto OpenAI's frequency_penalty or presence_penalty (additive, not multiplicative) except for
// KoboldCpp as said. The KoboldAI output flags singleline, frmtrmblln, frmtrmspch and
// frmttriminc are applied here to the returned text; frmtadsnsp (an input flag), soft_prompt
// and n (always 1 in a popped job) are ignored. The Horde expects the matched stop sequence
// in the text; only vLLM and Aphrodite are asked to keep it, the other servers strip it.
//
// Errors: a non-2xx answer is an [*HTTPError] (status and a bounded excerpt of the body); a
// connection error, a timeout or a cancelled context is wrapped (errors.Is works with
// context.Canceled and context.DeadlineExceeded); a body without choices[0].text is an error.
// The call does not retry: the worker faults the job.
func (b *Backend) GenerateText(ctx context.Context, job *worker.TextJob) (worker.TextOutput, error) {
	if job == nil {
		return worker.TextOutput{}, errors.New("openai: nil text job")
	}
	l := b.jobLimits(job)
	body, err := json.Marshal(b.buildRequest(job, l))
	if err != nil {
		return worker.TextOutput{}, fmt.Errorf("openai: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout(l))
	defer cancel()

	var resp struct {
		Choices []struct {
			Text *string `json:"text"`
		} `json:"choices"`
	}
	if err := b.do(ctx, http.MethodPost, "/v1/completions", body, &resp); err != nil {
		return worker.TextOutput{}, err
	}
	if len(resp.Choices) == 0 || resp.Choices[0].Text == nil {
		return worker.TextOutput{}, errors.New("openai: POST /v1/completions: answer has no choices[0].text")
	}
	out := worker.TextOutput{Text: applyFormat(*resp.Choices[0].Text, job.Params.Format)}
	if b.cfg.Seed != nil {
		out.Seed = *b.cfg.Seed
	}
	return out, nil
}

// Models returns the ids of the models the server serves (GET {base}/v1/models, data[].id),
// in the server's order.
func (b *Backend) Models(ctx context.Context) ([]string, error) {
	if b.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.cfg.Timeout)
		defer cancel()
	}
	var resp struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := b.do(ctx, http.MethodGet, "/v1/models", nil, &resp); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(resp.Data))
	for _, m := range resp.Data {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// do sends one request and decodes a 2xx JSON answer into out.
func (b *Backend) do(ctx context.Context, method, path string, body []byte, out any) error {
	what := method + " " + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.cfg.BaseURL+path, rd)
	if err != nil {
		return fmt.Errorf("openai: %s: %w", what, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+b.cfg.APIKey)
	}
	res, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in our own message
		}
		return fmt.Errorf("openai: %s %s: %w", what, redactURL(b.cfg.BaseURL), err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("openai: %s: read answer: %w", what, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &HTTPError{Op: what, StatusCode: res.StatusCode, Status: res.Status, Body: b.excerpt(data)}
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("openai: %s: answer is over %d bytes", what, maxResponseBytes)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("openai: %s: answer is not the expected JSON (%v): %s", what, err, b.excerpt(data))
	}
	return nil
}

// excerpt is a short, single-line, key-free rendering of an answer body.
func (b *Backend) excerpt(data []byte) string {
	return bodyExcerpt(data, b.cfg.APIKey)
}

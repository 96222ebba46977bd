// Package vision serves alchemy's caption and nsfw forms, and checks generated images for the
// worker's safety rules, with a vision-language model behind an OpenAI-compatible
// chat-completions server: llama.cpp's server with a multimodal projector, vLLM, Ollama,
// LM Studio.
//
//	v, err := vision.New(vision.Config{URL: "http://127.0.0.1:8080"})
//	backends := worker.Backends{Alchemy: v}   // caption and nsfw forms
//	settings.Safety = v                       // NSFW verdicts for an image backend without one
//
// # How it asks
//
// Each question is one POST /v1/chat/completions with the image as a data: URL in an
// image_url content part, temperature 0. A caption is the model's answer to CaptionPrompt. A
// yes/no question asks for exactly one word and is parsed strictly: "yes" or "no" (any case,
// a final full stop allowed); anything else is an error, never a guess. The model's name comes
// from GET /v1/models when Config.Model is empty. A 5xx answer or a connection error is tried
// again (Retries); the context bounds everything.
//
// # What the safety check promises
//
// CheckImage asks whether the image is sexual or otherwise not safe for work, and, when it is,
// whether it depicts a minor. A general vision model is not a trained CSAM classifier: it can
// miss what a dedicated model would catch, and the worker's rule (a CSAM verdict is always
// censored) is only as good as the model's answer. See docs/alchemy.md.
package vision

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// Default prompts.
const (
	DefaultCaptionPrompt = "Describe this image in one short sentence."
	DefaultNSFWPrompt    = "Is this image sexually explicit, nude, or otherwise not safe for work? Answer with exactly one word: yes or no."
	DefaultMinorPrompt   = "Does this image show a person who could be under 18 years old? Answer with exactly one word: yes or no."
)

// Config configures a Backend.
type Config struct {
	// URL is the server, such as http://127.0.0.1:8080 (a trailing /v1 is accepted). Required.
	URL string
	// Model is sent with each request; empty asks GET /v1/models for the first model.
	Model string
	// APIKey, when set, is sent as a bearer token. It never appears in errors or logs.
	APIKey string
	// CaptionPrompt, NSFWPrompt and MinorPrompt are the questions (defaults above).
	CaptionPrompt, NSFWPrompt, MinorPrompt string
	// Timeout bounds one request (default 60 s).
	Timeout time.Duration
	// Retries is how many times a 5xx or a connection error is tried again (default 2).
	Retries int
	// HTTPClient carries the requests (default a new client).
	HTTPClient *http.Client
	// Logger receives the backend's events (default: discard).
	Logger *slog.Logger
}

// Backend is an alchemy backend and a worker.SafetyChecker on a vision model.
type Backend struct {
	cfg   Config
	model string
}

var (
	_ worker.AlchemyBackend      = (*Backend)(nil)
	_ worker.AlchemyOfferLimiter = (*Backend)(nil)
	_ worker.SafetyChecker       = (*Backend)(nil)
)

// New checks the configuration (every error names the field and the rule) and returns a
// backend. It does not connect.
func New(cfg Config) (*Backend, error) {
	var errs []error
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSuffix(cfg.URL, "/"), "/v1"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("vision_url: must be an http or https URL with a host, got %q", cfg.URL))
	} else {
		cfg.URL = u.String()
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("vision_timeout: must not be negative, got %v", cfg.Timeout))
	}
	if cfg.Retries < 0 || cfg.Retries > 10 {
		errs = append(errs, fmt.Errorf("vision_retries: must be between 0 and 10, got %d", cfg.Retries))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.CaptionPrompt == "" {
		cfg.CaptionPrompt = DefaultCaptionPrompt
	}
	if cfg.NSFWPrompt == "" {
		cfg.NSFWPrompt = DefaultNSFWPrompt
	}
	if cfg.MinorPrompt == "" {
		cfg.MinorPrompt = DefaultMinorPrompt
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.Retries == 0 {
		cfg.Retries = 2
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Backend{cfg: cfg, model: cfg.Model}, nil
}

// Forms are the alchemy forms this backend serves.
var Forms = []params.AlchemyForm{params.FormCaption, params.FormNSFW}

// LimitAlchemyOffer keeps the forms this backend serves, and finds the model's name when none
// is configured.
func (b *Backend) LimitAlchemyOffer(ctx context.Context, o *worker.AlchemyOffer) ([]string, error) {
	if err := b.resolveModel(ctx); err != nil {
		return nil, err
	}
	var notes []string
	kept := o.Forms[:0:0]
	for _, f := range o.Forms {
		if slices.Contains(Forms, f) {
			kept = append(kept, f)
		} else {
			notes = append(notes, fmt.Sprintf("form %q dropped: the vision backend serves caption and nsfw only", f))
		}
	}
	if len(o.Forms) == 0 {
		kept = slices.Clone(Forms)
	}
	o.Forms = kept
	notes = append(notes, fmt.Sprintf("vision model %q at %s", b.model, b.cfg.URL))
	return notes, nil
}

func (b *Backend) resolveModel(ctx context.Context) error {
	if b.model != "" {
		return nil
	}
	var ans struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := b.do(ctx, http.MethodGet, "/v1/models", nil, &ans); err != nil {
		return err
	}
	if len(ans.Data) == 0 || ans.Data[0].ID == "" {
		return errors.New("vision: GET /v1/models lists no model; set vision_model")
	}
	b.model = ans.Data[0].ID
	return nil
}

// Alchemy runs one form: caption → {"caption": text}, nsfw → {"nsfw": bool}.
func (b *Backend) Alchemy(ctx context.Context, job *worker.AlchemyJob) (worker.AlchemyOutput, error) {
	img := job.Op.Source.Data
	if len(img) == 0 {
		return worker.AlchemyOutput{}, errors.New("vision: the form has no source image")
	}
	switch job.Op.Form {
	case params.FormCaption:
		text, err := b.ask(ctx, img, b.cfg.CaptionPrompt, 120)
		if err != nil {
			return worker.AlchemyOutput{}, err
		}
		text = strings.TrimSpace(text)
		if text == "" {
			return worker.AlchemyOutput{}, errors.New("vision: the model answered an empty caption")
		}
		return worker.AlchemyOutput{Result: map[string]any{"caption": text}}, nil
	case params.FormNSFW:
		yes, err := b.yesNo(ctx, img, b.cfg.NSFWPrompt)
		if err != nil {
			return worker.AlchemyOutput{}, err
		}
		return worker.AlchemyOutput{Result: map[string]any{"nsfw": yes}}, nil
	}
	return worker.AlchemyOutput{}, fmt.Errorf("vision: form %s is not served by this backend", job.Op.Form)
}

// CheckImage implements worker.SafetyChecker.
func (b *Backend) CheckImage(ctx context.Context, image []byte) (worker.SafetyVerdict, error) {
	nsfw, err := b.yesNo(ctx, image, b.cfg.NSFWPrompt)
	if err != nil {
		return worker.SafetyVerdict{}, err
	}
	if !nsfw {
		return worker.SafetyVerdict{}, nil
	}
	minor, err := b.yesNo(ctx, image, b.cfg.MinorPrompt)
	if err != nil {
		return worker.SafetyVerdict{}, err
	}
	return worker.SafetyVerdict{NSFW: true, CSAM: minor}, nil
}

// yesNo asks a yes/no question and parses the answer strictly.
func (b *Backend) yesNo(ctx context.Context, img []byte, question string) (bool, error) {
	ans, err := b.ask(ctx, img, question, 3)
	if err != nil {
		return false, err
	}
	return parseYesNo(ans)
}

// parseYesNo accepts "yes" or "no", in any case, with surrounding space and one final full
// stop; anything else is an error.
func parseYesNo(s string) (bool, error) {
	w := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	switch w {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("vision: the model answered %q to a yes/no question", clip(s))
}

// ask sends one question about an image and returns the model's text.
func (b *Backend) ask(ctx context.Context, img []byte, question string, maxTokens int) (string, error) {
	if err := b.resolveModel(ctx); err != nil {
		return "", err
	}
	mime := http.DetectContentType(img)
	if !strings.HasPrefix(mime, "image/") {
		return "", fmt.Errorf("vision: the source is not an image (%s)", mime)
	}
	body := map[string]any{
		"model": b.model,
		"messages": []any{map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "text", "text": question},
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(img)}},
		}}},
		"max_tokens":  maxTokens,
		"temperature": 0,
	}
	data, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	var ans struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := b.do(ctx, http.MethodPost, "/v1/chat/completions", data, &ans); err != nil {
		return "", err
	}
	if len(ans.Choices) == 0 {
		return "", errors.New("vision: POST /v1/chat/completions: the answer has no choices")
	}
	return ans.Choices[0].Message.Content, nil
}

// do sends a request, tries 5xx answers and connection errors again, and decodes the JSON.
func (b *Backend) do(ctx context.Context, method, path string, body []byte, out any) error {
	var last error
	for attempt := 0; attempt <= b.cfg.Retries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(time.Duration(attempt) * 250 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		retry, err := b.once(ctx, method, path, body, out)
		if err == nil || !retry || ctx.Err() != nil {
			return err
		}
		last = err
	}
	return last
}

func (b *Backend) once(ctx context.Context, method, path string, body []byte, out any) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.cfg.URL+path, rd)
	if err != nil {
		return false, fmt.Errorf("vision: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+b.cfg.APIKey)
	}
	resp, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return true, fmt.Errorf("vision: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return true, fmt.Errorf("vision: %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 500 {
		return true, fmt.Errorf("vision: %s %s: %s: %s", method, path, resp.Status, clip(string(data)))
	}
	if resp.StatusCode/100 != 2 {
		return false, fmt.Errorf("vision: %s %s: %s: %s", method, path, resp.Status, clip(string(data)))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return false, fmt.Errorf("vision: %s %s: the answer is not the expected JSON: %s", method, path, clip(string(data)))
	}
	return false, nil
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if b, _ := json.Marshal(s); len(s) > 160 && len(b) > 0 {
		return s[:160] + "…"
	}
	return s
}

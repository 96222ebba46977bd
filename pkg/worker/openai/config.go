package openai

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Flavour is the server family a [Backend] talks to. It decides which non-OpenAI extension
// fields carry the Horde's sampling fields (see [Backend.GenerateText] for the mapping).
type Flavour string

// Flavours.
const (
	// Generic sends the standard fields plus the extension names most servers accept or
	// ignore (top_k, min_p, typical_p, tfs, top_a, repetition_penalty). The default.
	Generic Flavour = "generic"
	// Strict sends only fields of the OpenAI completions API, with OpenAI's limits
	// (temperature at most 2, at most 4 stop sequences): for servers that reject unknown
	// fields.
	Strict Flavour = "openai"
	// LlamaCpp is the llama.cpp server (repeat_penalty, repeat_last_n, dynatemp_*, …).
	LlamaCpp Flavour = "llama.cpp"
	// VLLM is vLLM (repetition_penalty, top_k −1 for off, truncate_prompt_tokens,
	// include_stop_str_in_output).
	VLLM Flavour = "vllm"
	// Aphrodite is the Aphrodite engine: VLLM plus typical_p, tfs, top_a, dynamic
	// temperature and smoothing_factor.
	Aphrodite Flavour = "aphrodite"
	// KoboldCpp is KoboldCpp's OpenAI route, which reads the KoboldAI field names from the
	// same request body.
	KoboldCpp Flavour = "koboldcpp"
)

func (f Flavour) valid() bool {
	switch f {
	case Generic, Strict, LlamaCpp, VLLM, Aphrodite, KoboldCpp:
		return true
	}
	return false
}

// Defaults of [Config].
const (
	// DefaultMaxLength is the AI Horde bridge default of max_length; DefaultMaxContextLength
	// is the Horde's max_context_length for a request that names none (a smaller context would
	// miss those requests). LimitTextOffer lowers it to the served model's.
	DefaultMaxLength        = 80
	DefaultMaxContextLength = 2048
	// DefaultCharsPerToken is the characters-per-token ratio used to fit the prompt into the
	// context without a tokenizer. English averages about 4 characters per token with
	// current tokenizers; 3 leaves a margin for code, numbers and other languages.
	DefaultCharsPerToken = 3.0
)

// Bounds of [Config].
const (
	maxMaxLength        = 16384
	maxMaxContextLength = 1 << 20
	maxCharsPerToken    = 32
)

// Config configures a [Backend].
type Config struct {
	// BaseURL is the server, such as http://127.0.0.1:8080; a trailing "/v1" is accepted.
	// Required; http or https.
	BaseURL string
	// Model is the model name sent in each request. Empty omits the field, which servers
	// that serve one model (llama.cpp, KoboldCpp) accept; see [Backend.Models] to discover
	// the served name.
	Model string
	// APIKey, when set, is sent as "Authorization: Bearer <key>". It never appears in errors,
	// in String or in LogValue.
	APIKey string
	// Flavour is the server family; empty means [Generic].
	Flavour Flavour
	// Timeout bounds each generation. 0 derives it from the job, as the KoboldAI bridge
	// does: max_tokens/2 + 10 seconds.
	Timeout time.Duration
	// HTTPClient sends the requests; nil means a new http.Client without a timeout (the
	// context and Timeout bound each request).
	HTTPClient *http.Client
	// MaxLength is the most tokens the server generates per job (0 means
	// [DefaultMaxLength]; at most 16384). Jobs asking for more are capped.
	MaxLength int
	// MaxContextLength is the server's context size in tokens (0 means
	// [DefaultMaxContextLength]; at most 1048576). It must be above MaxLength.
	MaxContextLength int
	// CharsPerToken converts the token budget of the prompt into characters; 0 means
	// [DefaultCharsPerToken].
	CharsPerToken float64
	// Seed, when set, is sent as the seed of every request and reported as the output's
	// seed (the Horde's text payload carries no seed).
	Seed *int
}

// String describes the configuration without the API key.
func (c Config) String() string {
	key := ""
	if c.APIKey != "" {
		key = " api_key=[redacted]"
	}
	return fmt.Sprintf("openai.Config{base_url=%s model=%q flavour=%s max_length=%d max_context_length=%d timeout=%s%s}",
		redactURL(c.BaseURL), c.Model, c.Flavour, c.MaxLength, c.MaxContextLength, c.Timeout, key)
}

// LogValue describes the configuration for log/slog, without the API key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", redactURL(c.BaseURL)),
		slog.String("model", c.Model),
		slog.String("flavour", string(c.Flavour)),
		slog.Int("max_length", c.MaxLength),
		slog.Int("max_context_length", c.MaxContextLength),
		slog.Duration("timeout", c.Timeout),
		slog.Bool("api_key_set", c.APIKey != ""),
	)
}

// redactURL hides a password in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable url]"
	}
	return u.Redacted()
}

// validate checks c and fills the defaults. Each error names the field.
func (c *Config) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("openai: config %s: "+format, append([]any{field}, args...)...))
	}

	u, err := url.Parse(strings.TrimSpace(c.BaseURL))
	switch {
	case c.BaseURL == "":
		bad("BaseURL", "required")
	case err != nil:
		bad("BaseURL", "%q is not a URL", redactURL(c.BaseURL))
	case u.Scheme != "http" && u.Scheme != "https":
		bad("BaseURL", "%q: scheme must be http or https", u.Redacted())
	case u.Host == "":
		bad("BaseURL", "%q: no host", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		bad("BaseURL", "%q: must have no query or fragment", u.Redacted())
	default:
		u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/v1")
		u.RawPath = ""
		c.BaseURL = strings.TrimRight(u.String(), "/")
	}

	if strings.ContainsFunc(c.Model, isControl) {
		bad("Model", "%q has control characters", c.Model)
	}
	if strings.ContainsFunc(c.APIKey, isControl) || strings.TrimSpace(c.APIKey) != c.APIKey {
		bad("APIKey", "has control characters or surrounding spaces") // never echo the key
	}
	if c.Flavour == "" {
		c.Flavour = Generic
	} else if !c.Flavour.valid() {
		bad("Flavour", "%q is not one of generic, openai, llama.cpp, vllm, aphrodite, koboldcpp", c.Flavour)
	}
	if c.Timeout < 0 {
		bad("Timeout", "%s is negative", c.Timeout)
	}
	if c.MaxLength == 0 {
		c.MaxLength = DefaultMaxLength
	}
	if c.MaxContextLength == 0 {
		c.MaxContextLength = DefaultMaxContextLength
	}
	lengthsOK := true
	if c.MaxLength < 1 || c.MaxLength > maxMaxLength {
		bad("MaxLength", "%d is outside 1..%d", c.MaxLength, maxMaxLength)
		lengthsOK = false
	}
	if c.MaxContextLength < 2 || c.MaxContextLength > maxMaxContextLength {
		bad("MaxContextLength", "%d is outside 2..%d", c.MaxContextLength, maxMaxContextLength)
		lengthsOK = false
	}
	if lengthsOK && c.MaxLength >= c.MaxContextLength {
		bad("MaxLength", "%d must be below MaxContextLength %d (the prompt needs room)", c.MaxLength, c.MaxContextLength)
	}
	if c.CharsPerToken == 0 {
		c.CharsPerToken = DefaultCharsPerToken
	}
	if math.IsNaN(c.CharsPerToken) || c.CharsPerToken <= 0 || c.CharsPerToken > maxCharsPerToken {
		bad("CharsPerToken", "%g is outside (0, %d]", c.CharsPerToken, maxCharsPerToken)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	return errors.Join(errs...)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

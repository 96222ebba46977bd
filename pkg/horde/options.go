package horde

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// AnonymousAPIKey is the key of the Horde's anonymous user.
const AnonymousAPIKey = "0000000000"

// DefaultBaseURL is the public AI Horde's API root.
const DefaultBaseURL = "https://aihorde.net/api/"

// RepositoryURL is where this SDK lives; it is part of the default Client-Agent.
const RepositoryURL = "https://github.com/horde-go/horde"

// Environment variables read by FromEnv.
const (
	EnvURL    = "AI_HORDE_URL"
	EnvAPIKey = "AI_HORDE_API_KEY"
)

// modulePath is this module's import path, used to find its version in the build info.
const modulePath = "github.com/horde-go/horde"

// Version returns the version of this SDK as built into the program ("devel" when unknown).
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if info.Main.Path == modulePath && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path == modulePath {
			return dep.Version
		}
	}
	return "devel"
}

// DefaultClientAgent is the Client-Agent sent when none is configured: name:version:contact, as
// the Horde asks of its clients.
func DefaultClientAgent() string { return "horde-go:" + Version() + ":" + RepositoryURL }

// RetryPolicy says how requests are retried. Only requests that are safe to send again are
// retried: see Client.
type RetryPolicy struct {
	// MaxAttempts is the total number of tries of one request, at least 1.
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it, with full jitter.
	BaseDelay time.Duration
	// MaxDelay caps one backoff and one Retry-After wait.
	MaxDelay time.Duration
}

// DefaultRetryPolicy tries a request up to 4 times, backing off from 0.5 s up to 30 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}
}

// config is what the options set.
type config struct {
	apiKey      string
	keySet      bool
	agent       string
	baseURL     string
	httpClient  *http.Client
	logger      *slog.Logger
	retry       RetryPolicy
	rateLimit   bool
	timeout     time.Duration
	downloadMax int64
}

func defaultConfig() config {
	return config{
		apiKey:      AnonymousAPIKey,
		agent:       DefaultClientAgent(),
		baseURL:     DefaultBaseURL,
		retry:       DefaultRetryPolicy(),
		rateLimit:   true,
		downloadMax: 64 << 20,
	}
}

// Option configures a Client.
type Option func(*config) error

// optionError names the option that was given a bad value.
func optionError(option, format string, args ...any) error {
	return fmt.Errorf("horde: option %s: %s", option, fmt.Sprintf(format, args...))
}

// validHeaderValue rejects what would break a header or smuggle another one.
func validHeaderValue(v string) bool {
	return v != "" && !strings.ContainsAny(v, "\r\n\x00")
}

// WithAPIKey sets the API key. Without it the client uses the anonymous key on operations that
// require a key and sends no key on operations where a key is optional.
func WithAPIKey(key string) Option {
	return func(c *config) error {
		if !validHeaderValue(key) {
			return optionError("WithAPIKey", "the key must be non-empty and on one line")
		}
		c.apiKey, c.keySet = key, true
		return nil
	}
}

// WithClientAgent sets the Client-Agent header, "name:version:contact" by convention.
func WithClientAgent(agent string) Option {
	return func(c *config) error {
		if !validHeaderValue(strings.TrimSpace(agent)) {
			return optionError("WithClientAgent", "the agent must be non-empty and on one line, got %q", agent)
		}
		c.agent = strings.TrimSpace(agent)
		return nil
	}
}

// WithBaseURL sets the API root, for example https://aihorde.net/api/ or a simulator's URL.
func WithBaseURL(raw string) Option {
	return func(c *config) error {
		u, err := url.Parse(raw)
		if err != nil {
			return optionError("WithBaseURL", "%v", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return optionError("WithBaseURL", "the URL must be http or https, got %q", raw)
		}
		if u.Host == "" {
			return optionError("WithBaseURL", "the URL has no host: %q", raw)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return optionError("WithBaseURL", "the URL must not carry a query, fragment or user info: %q", raw)
		}
		c.baseURL = raw
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose transport carries the requests. The client is
// copied: its redirect policy is wrapped so that the API key never follows a redirect to
// another host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return optionError("WithHTTPClient", "the client is nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithLogger sets the logger for retries, rate-limit waits and generation progress.
// The API key never appears in a log record.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return optionError("WithLogger", "the logger is nil")
		}
		c.logger = l
		return nil
	}
}

// WithRetryPolicy sets how requests are retried.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MaxAttempts < 1 {
			return optionError("WithRetryPolicy", "MaxAttempts must be at least 1, got %d", p.MaxAttempts)
		}
		if p.BaseDelay < 0 || p.MaxDelay < p.BaseDelay {
			return optionError("WithRetryPolicy", "need 0 <= BaseDelay <= MaxDelay, got %v and %v", p.BaseDelay, p.MaxDelay)
		}
		c.retry = p
		return nil
	}
}

// WithoutRetries makes every request a single attempt.
func WithoutRetries() Option {
	return func(c *config) error {
		c.retry.MaxAttempts = 1
		return nil
	}
}

// WithRateLimiting turns the client-side rate limiter on (the default) or off. The limiter keeps
// every request under the server's published limits, so a well-behaved program never sees a
// limiter 429; turn it off only when something else paces the requests.
func WithRateLimiting(on bool) Option {
	return func(c *config) error {
		c.rateLimit = on
		return nil
	}
}

// WithRequestTimeout bounds each attempt of each request, including reading its body.
// Zero (the default) leaves requests bounded by their context only.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return optionError("WithRequestTimeout", "the timeout must not be negative, got %v", d)
		}
		c.timeout = d
		return nil
	}
}

// WithDownloadLimit caps the size of one downloaded image (64 MiB by default).
func WithDownloadLimit(bytes int64) Option {
	return func(c *config) error {
		if bytes <= 0 {
			return optionError("WithDownloadLimit", "the limit must be positive, got %d", bytes)
		}
		c.downloadMax = bytes
		return nil
	}
}

// FromEnv reads the base URL from AI_HORDE_URL and the API key from AI_HORDE_API_KEY, where
// they are set. Nothing else in the SDK reads the environment.
func FromEnv() Option {
	return func(c *config) error {
		var errs []error
		if v, ok := os.LookupEnv(EnvURL); ok && v != "" {
			errs = append(errs, WithBaseURL(v)(c))
		}
		if v, ok := os.LookupEnv(EnvAPIKey); ok && v != "" {
			errs = append(errs, WithAPIKey(v)(c))
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("horde: option FromEnv: %w", err)
		}
		return nil
	}
}

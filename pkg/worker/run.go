package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// RunOption adjusts Run.
type RunOption func(*runConfig)

type runConfig struct {
	logger     *slog.Logger
	httpClient *http.Client
	modelRef   *params.ImageModelReference
	clientOpts []horde.Option
	tune       func(*Settings)
	started    func(*Worker)
}

// WithLogger sends the worker's events to l.
func WithLogger(l *slog.Logger) RunOption { return func(c *runConfig) { c.logger = l } }

// WithHTTPClient carries the worker's requests (Horde calls, downloads, R2 uploads).
func WithHTTPClient(hc *http.Client) RunOption { return func(c *runConfig) { c.httpClient = hc } }

// WithModelReference gives the image model reference instead of fetching it from upstream.
func WithModelReference(ref *params.ImageModelReference) RunOption {
	return func(c *runConfig) { c.modelRef = ref }
}

// WithClientOptions adds options to the horde.Client that Run builds from the configuration.
func WithClientOptions(opts ...horde.Option) RunOption {
	return func(c *runConfig) { c.clientOpts = append(c.clientOpts, opts...) }
}

// WithSettings adjusts the loop's settings after they are derived from the configuration
// (intervals, timeouts, budgets).
func WithSettings(fn func(*Settings)) RunOption { return func(c *runConfig) { c.tune = fn } }

// WithStarted hands the running Worker to fn, for its Stats and Abort.
func WithStarted(fn func(*Worker)) RunOption { return func(c *runConfig) { c.started = fn } }

// Run serves the AI Horde with the given backends as cfg says, until ctx ends, then drains (see
// Worker.Run). It builds the client from cfg (key and URL; call cfg.ApplyEnv first for
// AI_HORDE_API_KEY and AI_HORDE_URL), logs the configuration's warnings and what the Horde
// grants the bridge agent, resolves the image models (meta instructions need the Horde's
// statistics and the model reference, fetched from upstream unless WithModelReference), and
// serves every kind that has a backend.
func Run(ctx context.Context, cfg *Config, b Backends, opts ...RunOption) error {
	if cfg == nil {
		return errors.New("worker: Run: no configuration")
	}
	rc := runConfig{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&rc)
	}
	warns, err := cfg.Validate()
	LogWarnings(rc.logger, warns)
	if err != nil {
		return err
	}
	clientOpts := append(cfg.ClientOptions(), horde.WithLogger(rc.logger))
	if rc.httpClient != nil {
		clientOpts = append(clientOpts, horde.WithHTTPClient(rc.httpClient))
	}
	c, err := horde.NewClient(append(clientOpts, rc.clientOpts...)...)
	if err != nil {
		return fmt.Errorf("worker: building the client: %w", err)
	}
	var kinds []horde.Kind
	if b.Image != nil {
		kinds = append(kinds, horde.KindImage)
	}
	if b.Text != nil {
		kinds = append(kinds, horde.KindText)
	}
	if b.Alchemy != nil {
		kinds = append(kinds, horde.KindAlchemy)
	}
	cfg.LogBridgeAgent(rc.logger, kinds...)
	src := ConfigSources{Kinds: kinds, Stats: c, Logger: rc.logger, ModelReference: rc.modelRef}
	if b.Image != nil && src.ModelReference == nil {
		if src.ModelReference, err = params.FetchImageModelReference(ctx, rc.httpClient, ""); err != nil {
			return fmt.Errorf("worker: fetching the image model reference: %w", err)
		}
	}
	if b.Text != nil && cfg.BrandedModel {
		u, err := c.FindUser(ctx)
		if err != nil {
			return fmt.Errorf("worker: finding the key's user for the branded text model: %w", err)
		}
		if u.Username != nil {
			src.UserAlias = *u.Username
		}
	}
	s, warns, err := cfg.Settings(ctx, src)
	LogWarnings(rc.logger, warns)
	if err != nil {
		return err
	}
	s.HTTPClient = rc.httpClient
	if rc.tune != nil {
		rc.tune(&s)
	}
	w, err := New(c, s, b)
	if err != nil {
		return err
	}
	if rc.started != nil {
		rc.started(w)
	}
	return w.Run(ctx)
}

package bridgedata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// Options are what NewWorker needs besides the configuration and the backends; all are
// optional.
type Options struct {
	// Logger receives the worker's events and the configuration's warnings.
	Logger *slog.Logger
	// HTTPClient carries the Horde requests, the downloads and the R2 uploads.
	HTTPClient *http.Client
	// ClientOptions are added to the client built from the configuration.
	ClientOptions []horde.Option
	// ModelReference is the image model reference; nil fetches it from upstream when the
	// worker serves images.
	ModelReference *params.ImageModelReference
	// Tune adjusts the settings derived from the configuration before the worker is built
	// (intervals, timeouts, a SafetyChecker).
	Tune func(*worker.Settings)
}

// NewWorker validates cfg (logging its warnings), builds the client from its key and URL (call
// cfg.ApplyEnv first for AI_HORDE_API_KEY and AI_HORDE_URL), resolves the image models (meta
// instructions need the Horde's statistics and the model reference), derives the Settings of
// every kind that has a backend, and returns worker.New's worker, ready to Run.
func NewWorker(ctx context.Context, cfg *Config, b worker.Backends, o Options) (*worker.Worker, error) {
	if cfg == nil {
		return nil, errors.New("bridgedata: NewWorker: no configuration")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	warns, err := cfg.Validate()
	LogWarnings(o.Logger, warns)
	if err != nil {
		return nil, err
	}
	clientOpts := append(cfg.ClientOptions(), horde.WithLogger(o.Logger))
	if o.HTTPClient != nil {
		clientOpts = append(clientOpts, horde.WithHTTPClient(o.HTTPClient))
	}
	c, err := horde.NewClient(append(clientOpts, o.ClientOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("bridgedata: building the client: %w", err)
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
	_, textNames := b.Text.(worker.TextOfferLimiter)
	src := Sources{Kinds: kinds, Stats: c, Logger: o.Logger, ModelReference: o.ModelReference, TextModelFromBackend: textNames}
	if b.Image != nil && src.ModelReference == nil {
		if src.ModelReference, err = params.FetchImageModelReference(ctx, o.HTTPClient, ""); err != nil {
			return nil, fmt.Errorf("bridgedata: fetching the image model reference: %w", err)
		}
	}
	if b.Text != nil && cfg.BrandedModel {
		u, err := c.FindUser(ctx)
		if err != nil {
			return nil, fmt.Errorf("bridgedata: finding the key's user for the branded text model: %w", err)
		}
		if u.Username != nil {
			src.UserAlias = *u.Username
		}
	}
	s, warns, err := cfg.Settings(ctx, src)
	LogWarnings(o.Logger, warns)
	if err != nil {
		return nil, err
	}
	s.HTTPClient = o.HTTPClient
	if o.Tune != nil {
		o.Tune(&s)
	}
	return worker.New(c, s, b)
}

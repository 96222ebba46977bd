package bridgedata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// Sources are what [Config.Settings] needs besides the configuration file.
type Sources struct {
	// Kinds are the kinds of work the worker serves (those it has a backend for).
	Kinds []horde.Kind
	// ModelReference is the image model reference; required to serve images.
	ModelReference *params.ImageModelReference
	// Stats gives the Horde's model statistics for "top N"/"bottom N" (a *horde.Client).
	Stats ModelStatsSource
	// TextModel is the model the text backend serves; empty means text_model.
	TextModel string
	// TextModelFromBackend says that the text backend names its model at start
	// (worker.TextOfferLimiter): with neither TextModel nor text_model, the offer is left
	// without a model for it to fill (branded_model still needs text_model).
	TextModelFromBackend bool
	// UserAlias is the account's alias (name#id, the username of find_user), needed only with
	// branded_model.
	UserAlias string
	// Logger goes into the Settings (nil: the loop's default).
	Logger *slog.Logger
}

// Settings turns the configuration into the worker's [worker.Settings]: the offer of each served
// kind (image models resolved with [ResolveImageModels]), threads, queue size, the NSFW switch,
// the statistics interval, the baseline lookup and the logger. The other Settings fields keep
// their zero values, which the loop replaces with its defaults. The warnings are those of the
// model resolution.
func (c *Config) Settings(ctx context.Context, src Sources) (worker.Settings, []Warning, error) {
	s := worker.Settings{
		Threads:             c.MaxThreads,
		QueueSize:           c.QueueSize,
		ServeNSFW:           c.NSFW,
		StatsInterval:       c.StatsOutputFrequency,
		Logger:              src.Logger,
		BridgeAgent:         c.BridgeAgent,
		PriorityUsernames:   slices.Clone(c.PriorityUsernames),
		RequireUpfrontKudos: c.RequireUpfrontKudos,
		ExtraSlowWorker:     c.ExtraSlowWorker,
	}
	if len(src.Kinds) == 0 {
		return worker.Settings{}, nil, errors.New("bridgedata: configuration: no kind of work to serve")
	}
	var warns []Warning
	var errs []error
	for _, k := range src.Kinds {
		switch k {
		case horde.KindImage:
			models, w, err := ResolveImageModels(ctx, c, src.Stats, src.ModelReference)
			warns = append(warns, w...)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			offer, err := c.ImageOffer(models, src.ModelReference)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.Image = &offer
		case horde.KindText:
			if src.TextModel == "" && strings.TrimSpace(c.TextModel) == "" && src.TextModelFromBackend && !c.BrandedModel {
				s.Text = &worker.TextOffer{Name: c.NameFor(horde.KindText), MaxLength: c.MaxLength, MaxContextLength: c.MaxContextLength}
				continue
			}
			offer, err := c.TextOffer(src.TextModel, src.UserAlias)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.Text = &offer
		case horde.KindAlchemy:
			offer, err := c.AlchemyOffer(nil)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.Alchemy = &offer
		default:
			errs = append(errs, fmt.Errorf("bridgedata: configuration: unknown kind %q", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return worker.Settings{}, warns, err
	}
	return s, warns, nil
}

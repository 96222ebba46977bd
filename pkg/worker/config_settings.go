package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// ConfigSources are what [Config.Settings] needs besides the configuration file.
type ConfigSources struct {
	// Kinds are the kinds of work the worker serves (those it has a backend for).
	Kinds []horde.Kind
	// ModelReference is the image model reference; required to serve images.
	ModelReference *params.ImageModelReference
	// Stats gives the Horde's model statistics for "top N"/"bottom N" (a *horde.Client).
	Stats ImageModelStatsSource
	// TextModel is the model the text backend serves; empty means text_model.
	TextModel string
	// UserAlias is the account's alias (name#id, the username of find_user), needed only with
	// branded_model.
	UserAlias string
	// Logger goes into the Settings (nil: the loop's default).
	Logger *slog.Logger
}

// Settings turns the configuration into the loop's [Settings]: the pop request of each served
// kind (image models resolved with [ResolveImageModels]), threads, queue size, the NSFW switch,
// the statistics interval, the baseline lookup and the logger. The other Settings fields keep
// their zero values, which the loop replaces with its defaults. The warnings are those of the
// model resolution.
func (c *Config) Settings(ctx context.Context, src ConfigSources) (Settings, []ConfigWarning, error) {
	s := Settings{
		Threads:       c.MaxThreads,
		QueueSize:     c.QueueSize,
		ServeNSFW:     c.NSFW,
		StatsInterval: c.StatsOutputFrequency,
		Logger:        src.Logger,
	}
	if len(src.Kinds) == 0 {
		return Settings{}, nil, errors.New("worker: configuration: no kind of work to serve")
	}
	var warns []ConfigWarning
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
			pop, err := c.ImagePopRequest(models)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.ImagePop = &pop
			s.BaselineOf = params.BaselineOf(src.ModelReference)
		case horde.KindText:
			pop, err := c.TextPopRequest(src.TextModel, src.UserAlias)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.TextPop = &pop
		case horde.KindAlchemy:
			pop, err := c.AlchemyPopRequest(nil)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.AlchemyPop = &pop
		default:
			errs = append(errs, fmt.Errorf("worker: configuration: unknown kind %q", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, warns, err
	}
	return s, warns, nil
}

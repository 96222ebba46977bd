package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/horde-go/horde/pkg/params"
)

// ImageOfferLimiter is implemented by an image backend that can tell what it really runs (the
// models whose files it has, the features its server supports, the largest image it can make).
// The worker calls it once, at the start of Run and before the first pop, so that the Horde hands
// the worker only jobs the backend can run. It must only narrow the offer, never widen it; notes
// say what it dropped and why (the worker logs them). An error stops Run.
type ImageOfferLimiter interface {
	LimitImageOffer(ctx context.Context, o *ImageOffer) (notes []string, err error)
}

// TextOfferLimiter is ImageOfferLimiter for text backends: the model they serve, its context
// size and the longest generation.
type TextOfferLimiter interface {
	LimitTextOffer(ctx context.Context, o *TextOffer) (notes []string, err error)
}

// AlchemyOfferLimiter is ImageOfferLimiter for alchemy backends: the forms they can run.
type AlchemyOfferLimiter interface {
	LimitAlchemyOffer(ctx context.Context, o *AlchemyOffer) (notes []string, err error)
}

// prepare lets the backends narrow the offers, checks what is left and builds the pop bodies.
func (w *Worker) prepare(ctx context.Context) error {
	note := func(kind string, notes []string) {
		for _, n := range notes {
			w.s.Logger.LogAttrs(ctx, slog.LevelInfo, "worker: the backend adjusted the offer",
				slog.String("kind", kind), slog.String("note", n))
		}
	}
	if l, ok := w.b.Image.(ImageOfferLimiter); ok && w.s.Image != nil {
		notes, err := l.LimitImageOffer(ctx, w.s.Image)
		note("image", notes)
		if err != nil {
			return fmt.Errorf("worker: the image backend: %w", err)
		}
	}
	if l, ok := w.b.Text.(TextOfferLimiter); ok && w.s.Text != nil {
		notes, err := l.LimitTextOffer(ctx, w.s.Text)
		note("text", notes)
		if err != nil {
			return fmt.Errorf("worker: the text backend: %w", err)
		}
	}
	if l, ok := w.b.Alchemy.(AlchemyOfferLimiter); ok && w.s.Alchemy != nil {
		notes, err := l.LimitAlchemyOffer(ctx, w.s.Alchemy)
		note("alchemy", notes)
		if err != nil {
			return fmt.Errorf("worker: the alchemy backend: %w", err)
		}
	}
	if errs := w.s.validateOffers(Backends{}); len(errs) > 0 {
		return fmt.Errorf("worker: nothing left to offer after the backends' limits: %w", errs[0])
	}
	if w.s.Image != nil {
		w.imagePop = w.s.imagePopBody()
		w.baselineOf = params.BaselineOf(w.s.Image.ModelReference)
	}
	if w.s.Text != nil {
		w.textPop = w.s.textPopBody()
	}
	if w.s.Alchemy != nil {
		w.alchemyPop = w.s.alchemyPopBody()
	}
	return nil
}

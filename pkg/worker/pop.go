package worker

import (
	"context"
	"fmt"
	"net/http"

	"github.com/horde-go/horde/pkg/horde"
)

// pop asks the Horde for work of one kind, once (the loop decides when to try again), and
// converts what it got into jobs. A pop that found nothing returns no job and no error.
func (w *Worker) pop(ctx context.Context, kind horde.Kind, amount int) ([]job, error) {
	ctx = horde.WithoutRetry(ctx)
	switch kind {
	case horde.KindImage:
		p, err := w.c.PopImageJob(ctx, w.imagePop)
		if err != nil {
			return nil, err
		}
		j, err := newImageWork(p, w.baselineOf)
		if err != nil || j == nil {
			return nil, convertError(err)
		}
		return []job{j}, nil
	case horde.KindText:
		p, err := w.c.PopTextJob(ctx, w.textPop)
		if err != nil {
			return nil, err
		}
		j, err := newTextWork(p)
		if err != nil || j == nil {
			return nil, convertError(err)
		}
		return []job{j}, nil
	default:
		body := w.alchemyPop
		body.Amount = &amount
		p, err := w.c.PopAlchemyJob(ctx, body)
		if err != nil {
			return nil, err
		}
		js, err := newAlchemyWork(p)
		if err != nil {
			return nil, convertError(err)
		}
		out := make([]job, len(js))
		for i, j := range js {
			out[i] = j
		}
		return out, nil
	}
}

func convertError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("worker: converting the popped job: %w", err)
}

// uploads returns the HTTP client for R2 uploads: it never carries the API key.
func (w *Worker) uploads() *http.Client {
	if w.s.HTTPClient != nil {
		return w.s.HTTPClient
	}
	return http.DefaultClient
}

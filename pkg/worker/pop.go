package worker

import (
	"context"
	"fmt"
	"net/http"

	"github.com/horde-go/horde/pkg/horde"
)

// pop asks the Horde for work of one kind, once (the loop decides when to try again), and
// converts what it got into jobs. A pop that found nothing returns no job and no error.
func (w *Worker) pop(ctx context.Context, kind Kind, amount int) ([]job, error) {
	ctx = horde.WithoutRetry(ctx)
	switch kind {
	case KindImage:
		r, err := w.c.PostImageJobPopWithResponse(ctx, *w.s.ImagePop)
		if err != nil {
			return nil, err
		}
		if err := popError(r.HTTPResponse, r.Body); err != nil {
			return nil, err
		}
		if r.JSON200 == nil {
			return nil, fmt.Errorf("worker: image pop: the answer has no body")
		}
		j, err := newImageJob(r.JSON200, w.s.BaselineOf)
		if err != nil || j == nil {
			return nil, convertError(err)
		}
		return []job{j}, nil
	case KindText:
		r, err := w.c.PostTextJobPopWithResponse(ctx, *w.s.TextPop)
		if err != nil {
			return nil, err
		}
		if err := popError(r.HTTPResponse, r.Body); err != nil {
			return nil, err
		}
		if r.JSON200 == nil {
			return nil, fmt.Errorf("worker: text pop: the answer has no body")
		}
		j, err := newTextJob(r.JSON200)
		if err != nil || j == nil {
			return nil, convertError(err)
		}
		return []job{j}, nil
	default:
		body := *w.s.AlchemyPop
		body.Amount = &amount
		r, err := w.c.PostInterrogatePopWithResponse(ctx, body)
		if err != nil {
			return nil, err
		}
		if err := popError(r.HTTPResponse, r.Body); err != nil {
			return nil, err
		}
		if r.JSON200 == nil {
			return nil, fmt.Errorf("worker: alchemy pop: the answer has no body")
		}
		js, err := newAlchemyJobs(r.JSON200)
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

func popError(resp *http.Response, body []byte) error { return horde.APIErrorFromResponse(resp, body) }

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

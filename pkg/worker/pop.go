package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/horde-go/horde/gen"
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
		w.noteMessages(ctx, p.Messages)
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
		w.noteMessages(ctx, p.Messages)
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

// maxSeenMessages bounds the ids of the messages already logged; the oldest are forgotten.
const maxSeenMessages = 256

// noteMessages logs each message the Horde's moderators sent this worker (they come with every
// pop until they expire), once, as the reference worker shows them to its owner.
func (w *Worker) noteMessages(ctx context.Context, msgs []gen.ResponseModelMessagePop) {
	if len(msgs) == 0 {
		return
	}
	w.mu.Lock()
	var fresh []gen.ResponseModelMessagePop
	for _, m := range msgs {
		if slices.Contains(w.seenMessages, m.ID) {
			continue
		}
		w.seenMessages = append(w.seenMessages, m.ID)
		fresh = append(fresh, m)
	}
	if n := len(w.seenMessages); n > maxSeenMessages {
		w.seenMessages = slices.Delete(w.seenMessages, 0, n-maxSeenMessages)
	}
	w.mu.Unlock()
	for _, m := range fresh {
		origin := "the Horde"
		if m.Origin != nil && *m.Origin != "" {
			origin = *m.Origin
		}
		w.s.Logger.LogAttrs(ctx, slog.LevelWarn, "worker: a message from "+origin, slog.String("message", m.Message),
			slog.String("id", m.ID), slog.Time("expiry", m.Expiry.Time))
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

package horde

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/horde-go/horde/gen"
)

// Session tracks the async requests started through it, so that Close can cancel those still
// pending on the Horde: a program that stops, or a helper that fails or panics mid-wait, leaves
// nothing queued to spend kudos. A Session is safe for concurrent use.
type Session struct {
	c       *Client
	mu      sync.Mutex
	pending map[string]Kind
	closed  bool
}

// NewSession returns an empty session.
func (c *Client) NewSession() *Session {
	return &Session{c: c, pending: map[string]Kind{}}
}

// ErrSessionClosed is returned by a Session's helpers after Close.
var ErrSessionClosed = errors.New("horde: session closed")

func (s *Session) add(kind Kind, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[id] = kind
}

func (s *Session) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, id)
}

func (s *Session) open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	return nil
}

// Track adds a request started elsewhere (through the generated client, say) so that Close
// cancels it; Untrack removes it once it is done.
func (s *Session) Track(kind Kind, id string) { s.add(kind, id) }

// Untrack removes a request from the session.
func (s *Session) Untrack(id string) { s.remove(id) }

// Pending returns the ids of the requests the session would cancel, by kind.
func (s *Session) Pending() map[string]Kind {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Kind, len(s.pending))
	for id, k := range s.pending {
		out[id] = k
	}
	return out
}

// GenerateImageBody is Client.GenerateImageBody, tracked by the session.
func (s *Session) GenerateImageBody(ctx context.Context, req gen.GenerationInputStable, opts ...GenerateOption) (*ImageResult, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	return s.c.generateImage(ctx, s, req, opts)
}

// GenerateTextBody is Client.GenerateTextBody, tracked by the session.
func (s *Session) GenerateTextBody(ctx context.Context, req gen.GenerationInputKobold, opts ...GenerateOption) (*TextResult, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	return s.c.generateText(ctx, s, req, opts)
}

// InterrogateBody is Client.InterrogateBody, tracked by the session.
func (s *Session) InterrogateBody(ctx context.Context, req gen.ModelInterrogationInputStable, opts ...GenerateOption) (*AlchemyResult, error) {
	if err := s.open(); err != nil {
		return nil, err
	}
	return s.c.interrogate(ctx, s, req, opts)
}

// Close cancels every request still pending and refuses new ones. It returns the errors of the
// cancellations that failed (a request the Horde no longer knows counts as cancelled).
func (s *Session) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	pending := s.pending
	s.pending = map[string]Kind{}
	s.mu.Unlock()
	var errs []error
	for id, kind := range pending {
		if err := s.c.Cancel(ctx, kind, id); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Cancel cancels a request on the Horde. Jobs already running still finish and are paid for.
func (c *Client) Cancel(ctx context.Context, kind Kind, id string) error {
	var err error
	switch kind {
	case KindImage:
		err = noBody(c.raw.DeleteImageAsyncStatusWithResponse(ctx, id))
	case KindText:
		err = noBody(c.raw.DeleteTextAsyncStatusWithResponse(ctx, id))
	case KindAlchemy:
		err = noBody(c.raw.DeleteInterrogationStatusWithResponse(ctx, id))
	default:
		return fmt.Errorf("horde: cancelling %s: unknown kind %q", id, kind)
	}
	if err != nil {
		return fmt.Errorf("horde: cancelling %s request %s: %w", kind, id, err)
	}
	return nil
}

package horde

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

// Kind is the kind of a generation request.
type Kind string

// The kinds of request the generation helpers make.
const (
	KindImage   Kind = "image"
	KindText    Kind = "text"
	KindAlchemy Kind = "alchemy"
)

var (
	// ErrFaulted: the Horde gave up on the request (done and faulted). The helper's result holds
	// whatever finished before.
	ErrFaulted = errors.New("horde: the request faulted")
	// ErrNotPossible: no worker on the Horde can serve the request as asked (is_possible false).
	// The helper cancels the request unless WaitWhenImpossible is given.
	ErrNotPossible = errors.New("horde: no worker can serve this request")
)

// GenerationError is the error of a generation helper once its request was accepted: the
// request faulted, could not be served, or the wait ended (context, transport). It wraps the
// cause (ErrFaulted, ErrNotPossible, context.Canceled, …), and the helper's result, returned
// beside it, holds what finished.
type GenerationError struct {
	Kind Kind
	// ID is the request's id on the Horde.
	ID string
	// Err is the cause.
	Err error
	// Message and Warnings are what the Horde said when it accepted the request: they explain
	// why no worker may serve it.
	Message  string
	Warnings []gen.RequestSingleWarning
	// Cancelled reports whether the request was cancelled on the Horde.
	Cancelled bool
}

// Error says which request failed and why, with the Horde's message and warnings.
func (e *GenerationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "horde: %s request %s: %v", e.Kind, e.ID, e.Err)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	for _, w := range e.Warnings {
		code, msg := "", ""
		if w.Code != nil {
			code = string(*w.Code)
		}
		if w.Message != nil {
			msg = *w.Message
		}
		fmt.Fprintf(&b, "; warning %s: %s", code, msg)
	}
	if e.Cancelled {
		b.WriteString(" (cancelled on the Horde)")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *GenerationError) Unwrap() error { return e.Err }

// Progress is a snapshot of a request while it waits and runs.
type Progress struct {
	Kind Kind
	ID   string
	// QueuePosition is the 1-based place in the queue; 0 once nothing waits.
	QueuePosition int
	// WaitTime is the Horde's estimate of the time left.
	WaitTime time.Duration
	// Waiting, Processing, Finished and Restarted count the request's jobs (images or texts).
	Waiting, Processing, Finished, Restarted int
	// Kudos is what the request has cost so far.
	Kudos float64
	// Possible is false when no worker can serve the request.
	Possible bool
	// Done and Faulted are the Horde's flags; a faulted request is also done.
	Done, Faulted bool
	// State is an alchemy request's overall state (waiting, processing, partial, done, faulted).
	State string
	// Elapsed is the time since the request was accepted.
	Elapsed time.Duration
}

// GenerateOption configures a generation helper.
type GenerateOption func(*generateConfig)

type generateConfig struct {
	onProgress     func(Progress)
	waitImpossible bool
	interval       time.Duration
	cleanupTimeout time.Duration
	maxPollErrors  int
}

func newGenerateConfig(opts []GenerateOption) generateConfig {
	cfg := generateConfig{interval: time.Second, cleanupTimeout: 30 * time.Second, maxPollErrors: 3}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// OnProgress calls fn with every snapshot of the request, in order, from the goroutine that
// waits. fn must not block for long.
func OnProgress(fn func(Progress)) GenerateOption {
	return func(c *generateConfig) { c.onProgress = fn }
}

// WaitWhenImpossible keeps waiting when the Horde reports that no worker can serve the request
// (a worker may come online), instead of cancelling it with ErrNotPossible.
func WaitWhenImpossible() GenerateOption {
	return func(c *generateConfig) { c.waitImpossible = true }
}

// PollInterval sets how often the request is checked; it is never below one second, and the
// rate limiter may space checks further to stay within the server's limits.
func PollInterval(d time.Duration) GenerateOption {
	return func(c *generateConfig) { c.interval = max(d, time.Second) }
}

// CleanupTimeout bounds the cancelling of the request and the fetching of partial results after
// the context ended (30 s by default); that work runs on a context detached from the caller's.
func CleanupTimeout(d time.Duration) GenerateOption {
	return func(c *generateConfig) { c.cleanupTimeout = max(d, time.Second) }
}

// waitFor polls until the request is done or faulted, reporting progress; it stops with
// ErrNotPossible, the context's error, or the poll's error after maxPollErrors failures in a row.
func (cfg *generateConfig) waitFor(ctx context.Context, started time.Time, poll func(context.Context) (Progress, error)) (Progress, error) {
	failures := 0
	var last Progress
	for {
		p, err := poll(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return last, ctx.Err()
		case err != nil:
			failures++
			if failures >= cfg.maxPollErrors || isPermanent(err) {
				return last, err
			}
		default:
			failures = 0
			p.Elapsed = time.Since(started)
			last = p
			if cfg.onProgress != nil {
				cfg.onProgress(p)
			}
			if p.Done || p.Faulted {
				return p, nil
			}
			if !p.Possible && !cfg.waitImpossible {
				return p, ErrNotPossible
			}
		}
		if err := sleep(ctx, cfg.interval); err != nil {
			return last, err
		}
	}
}

// isPermanent reports errors that polling again will not cure: the request is gone, or the key
// is wrong.
func isPermanent(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden)
}

// detached returns a context for cleanup after ctx ended: it keeps ctx's values, not its
// cancellation, and has its own timeout.
func (cfg *generateConfig) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cfg.cleanupTimeout)
}

// accepted checks the answer to an async submit.
func accepted(kind Kind, r genResponse, err error, body *gen.RequestAsync) (*gen.RequestAsync, error) {
	if err != nil {
		return nil, fmt.Errorf("horde: submitting the %s request: %w", kind, err)
	}
	if err := responseError(r); err != nil {
		return nil, fmt.Errorf("horde: the Horde refused the %s request: %w", kind, err)
	}
	if body == nil || body.ID == nil || *body.ID == "" {
		return nil, fmt.Errorf("horde: submitting the %s request: the %d answer carries no request id", kind, r.StatusCode())
	}
	return body, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// checkProgress reads a check or status body into a Progress.
func checkProgress(kind Kind, id string, s gen.RequestStatusCheck) Progress {
	return Progress{
		Kind: kind, ID: id,
		QueuePosition: deref(s.QueuePosition),
		WaitTime:      time.Duration(deref(s.WaitTime)) * time.Second,
		Waiting:       deref(s.Waiting),
		Processing:    deref(s.Processing),
		Finished:      deref(s.Finished),
		Restarted:     deref(s.Restarted),
		Kudos:         deref(s.Kudos),
		Possible:      s.IsPossible == nil || *s.IsPossible,
		Done:          deref(s.Done),
		Faulted:       deref(s.Faulted),
	}
}

// tracker records the requests a Session started; a nil tracker records nothing.
type tracker interface {
	add(kind Kind, id string)
	remove(id string)
}

type noTracker struct{}

func (noTracker) add(Kind, string) {}
func (noTracker) remove(string)    {}

// run drives one accepted request to its end. poll reads its progress; finish fetches the
// results of a request that is done (faulted or not); cancel cancels it on the Horde and
// returns what had finished. run guarantees that a request it leaves early, by error, context
// or panic, is cancelled on the Horde.
func run(ctx context.Context, cfg generateConfig, tr tracker, kind Kind, acc *gen.RequestAsync,
	poll func(context.Context) (Progress, error),
	finish func(context.Context) error,
	cancel func(context.Context) error,
) (err error) {
	id := *acc.ID
	tr.add(kind, id)
	defer tr.remove(id)
	settled := false
	defer func() {
		if settled {
			return
		}
		// A panic (in a progress callback, say) or an unexpected return: leave nothing queued.
		cctx, stop := cfg.detached(ctx)
		defer stop()
		_ = cancel(cctx)
	}()

	gerr := &GenerationError{Kind: kind, ID: id, Message: deref(acc.Message), Warnings: acc.Warnings}
	p, werr := cfg.waitFor(ctx, time.Now(), poll)
	if werr == nil {
		settled = true
		if ferr := finish(ctx); ferr != nil {
			gerr.Err = ferr
			return gerr
		}
		if p.Faulted {
			gerr.Err = ErrFaulted
			return gerr
		}
		return nil
	}
	settled = true
	gerr.Err = werr
	cctx, stop := cfg.detached(ctx)
	defer stop()
	if cerr := cancel(cctx); cerr == nil {
		gerr.Cancelled = true
	} else if !errors.Is(cerr, ErrNotFound) {
		gerr.Err = errors.Join(werr, fmt.Errorf("cancelling: %w", cerr))
	}
	return gerr
}

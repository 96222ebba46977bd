package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// Worker pops jobs from the AI Horde, runs them on its backends and submits the results.
//
// The loop, in short: one pop loop per kind served; a job holds a slot from its pop until its
// results are accepted (Threads + 2·QueueSize slots, so popping continues while finished jobs
// submit); at most Threads jobs run on the backends at once. A backend error, panic or timeout
// is reported to the Horde as faulted and the worker carries on. A finished result is kept and
// submitted again until the Horde accepts or refuses it for good, or the job expires.
type Worker struct {
	c  *horde.Client
	s  Settings
	b  Backends
	st stats

	slots chan struct{} // popped jobs not yet settled
	run   chan struct{} // jobs running on a backend

	// The pop request bodies, built by prepare from the offers.
	imagePop   gen.PopInputStable
	textPop    gen.PopInputKobold
	alchemyPop gen.InterrogationPopInput
	baselineOf func(model string) params.Baseline

	mu       sync.Mutex
	failures int // consecutive failed jobs
	// seenMessages are the ids of the Horde's messages already logged (noteMessages).
	seenMessages []string
	pausedUntil  time.Time // popping pauses after too many failures
	maintenance  atomic.Bool
	abortCtx     context.Context
	abortCancel  context.CancelFunc
	stopPops     context.CancelFunc
	jobs         sync.WaitGroup
	running      atomic.Bool
}

// New returns a worker that talks to the Horde through c. c should carry the worker owner's
// API key: the Horde refuses pops with the anonymous key.
func New(c *horde.Client, s Settings, b Backends) (*Worker, error) {
	if c == nil {
		return nil, errors.New("worker: a *horde.Client is required")
	}
	if err := s.validate(b); err != nil {
		return nil, err
	}
	s = s.withDefaults()
	w := &Worker{c: c, s: s, b: b}
	w.slots = make(chan struct{}, s.Threads+2*s.QueueSize)
	w.run = make(chan struct{}, s.Threads)
	w.st.init()
	return w, nil
}

// Abort stops the worker at once: no more pops, running jobs are cancelled and reported
// faulted. It is what a second Ctrl-C should call, during the graceful shutdown that
// cancelling Run's context starts; called earlier, it starts that shutdown too. Abort before
// Run has no effect.
func (w *Worker) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.abortCancel != nil {
		w.stopPops()
		w.abortCancel()
	}
}

// Run serves until ctx ends, then shuts down gracefully: it stops popping, reports jobs that
// did not start as faulted (so the Horde hands them to another worker), lets running jobs
// finish and submits their results, and returns. The drain is bounded by DrainTimeout and by
// Abort; what is still running then is reported faulted. Run returns nil after a shutdown it
// completed, or the error that stopped it.
func (w *Worker) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("worker: Run called twice")
	}
	// Jobs outlive ctx: they drain on a context that only the drain timeout or Abort ends.
	abortCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ctx, stopPops := context.WithCancel(ctx)
	w.mu.Lock()
	w.abortCtx, w.abortCancel, w.stopPops = abortCtx, cancel, stopPops
	w.mu.Unlock()
	defer cancel()
	defer stopPops()

	if err := w.prepare(ctx); err != nil {
		return err
	}
	w.logStart(ctx)
	var pops sync.WaitGroup
	if w.s.Image != nil {
		pops.Go(func() { w.popLoop(ctx, horde.KindImage) })
	}
	if w.s.Text != nil {
		pops.Go(func() { w.popLoop(ctx, horde.KindText) })
	}
	if w.s.Alchemy != nil {
		pops.Go(func() { w.popLoop(ctx, horde.KindAlchemy) })
	}
	statsDone := make(chan struct{})
	go w.statsLoop(ctx, statsDone)

	pops.Wait() // ctx ended
	<-statsDone
	w.s.Logger.LogAttrs(abortCtx, slog.LevelInfo, "worker: stopping: no more pops; draining jobs",
		slog.Int("in_flight", len(w.slots)))
	drained := make(chan struct{})
	go func() { w.jobs.Wait(); close(drained) }()
	timer := time.NewTimer(w.s.DrainTimeout)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
		w.s.Logger.Warn("worker: drain timeout: aborting in-flight jobs")
		cancel()
		<-drained
	case <-abortCtx.Done():
		<-drained
	}
	w.logStats(abortCtx, "worker: stopped")
	return nil
}

func (w *Worker) logStart(ctx context.Context) {
	kinds := []string{}
	for k, on := range map[horde.Kind]bool{horde.KindImage: w.s.Image != nil, horde.KindText: w.s.Text != nil, horde.KindAlchemy: w.s.Alchemy != nil} {
		if on {
			kinds = append(kinds, string(k))
		}
	}
	w.s.Logger.LogAttrs(ctx, slog.LevelInfo, "worker: starting",
		slog.Any("kinds", kinds), slog.Int("threads", w.s.Threads), slog.Int("queue_size", w.s.QueueSize),
		slog.String("horde", w.c.BaseURL()))
	if o := w.s.Image; o != nil {
		w.s.Logger.LogAttrs(ctx, slog.LevelInfo, "worker: image offer", slog.String("name", o.Name),
			slog.Any("models", o.Models), slog.Int("max_pixels", o.MaxPixels), slog.Bool("img2img", o.AllowImg2Img),
			slog.Bool("painting", o.AllowPainting), slog.Bool("post_processing", o.AllowPostProcessing),
			slog.Bool("controlnet", o.AllowControlNet), slog.Bool("lora", o.AllowLoRA), slog.Bool("safety_checker", w.s.Safety != nil))
	}
	if o := w.s.Text; o != nil {
		w.s.Logger.LogAttrs(ctx, slog.LevelInfo, "worker: text offer", slog.String("name", o.Name),
			slog.Any("models", o.Models), slog.Int("max_length", o.MaxLength), slog.Int("max_context_length", o.MaxContextLength))
	}
	if o := w.s.Alchemy; o != nil {
		w.s.Logger.LogAttrs(ctx, slog.LevelInfo, "worker: alchemy offer", slog.String("name", o.Name), slog.Any("forms", o.Forms))
	}
	w.logBridgeAgent(ctx)
}

// acquireSlot waits for room for one more job, or for ctx to end.
func (w *Worker) acquireSlot(ctx context.Context) bool {
	select {
	case w.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *Worker) releaseSlot() { <-w.slots }

// popLoop pops one kind of job until ctx ends.
func (w *Worker) popLoop(ctx context.Context, kind horde.Kind) {
	for ctx.Err() == nil {
		if wait := w.pauseLeft(); wait > 0 {
			w.s.Logger.LogAttrs(ctx, slog.LevelWarn, "worker: pausing pops after consecutive failed jobs",
				slog.String("kind", string(kind)), slog.Duration("for", wait))
			if sleep(ctx, wait) != nil {
				return
			}
			continue
		}
		if !w.acquireSlot(ctx) {
			return
		}
		// The slot may have been freed by the very failure that started a pause: look again,
		// so that no pop goes out after the pause began.
		if w.pauseLeft() > 0 {
			w.releaseSlot()
			continue
		}
		// An alchemy pop may return several forms: ask for as many as there are free slots.
		held := 1
		for held < w.popAmount(kind) && w.tryAcquireSlot() {
			held++
		}
		used, wait := w.popOnce(ctx, kind, held)
		for range held - used {
			w.releaseSlot()
		}
		if wait > 0 && sleep(ctx, wait) != nil {
			return
		}
	}
}

// popAmount is how many jobs one pop of kind may return.
func (w *Worker) popAmount(kind horde.Kind) int {
	if kind == horde.KindAlchemy {
		return w.s.Alchemy.PerPop
	}
	return 1
}

// popOnce makes one pop for at most held jobs (the slots the caller holds). Each job it starts
// owns one of those slots; it returns how many it used and how long to wait.
func (w *Worker) popOnce(ctx context.Context, kind horde.Kind, held int) (used int, wait time.Duration) {
	// The pop itself runs on the drain context: once the server hands out a job, cancelling the
	// request would lose it (the server would wait out its ttl). A stop only prevents new pops.
	popped, err := w.pop(w.abortCtx, kind, held)
	if err != nil {
		if ctx.Err() != nil {
			return 0, 0
		}
		w.st.popErrors.Add(1)
		w.observe(Event{Type: EventPopFailed, Kind: kind, Cause: popErrorCause(err)})
		return 0, w.popErrorWait(ctx, kind, err)
	}
	if w.maintenance.Swap(false) {
		w.s.Logger.LogAttrs(ctx, slog.LevelInfo, "worker: maintenance mode is over", slog.String("kind", string(kind)))
	}
	if len(popped) == 0 {
		w.st.emptyPops.Add(1)
		w.observe(Event{Type: EventEmptyPop, Kind: kind})
		return 0, w.s.PopInterval
	}
	for i, j := range popped {
		// A server that returned more than asked: hand the extra back at once as faulted
		// rather than sit on it.
		w.startJob(ctx, j, i >= held)
	}
	return min(len(popped), held), 0
}

// tryAcquireSlot takes a slot if one is free.
func (w *Worker) tryAcquireSlot() bool {
	select {
	case w.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// popErrorCause classifies a failed pop for metrics.
func popErrorCause(err error) string {
	var apiErr *horde.APIError
	switch {
	case errors.Is(err, horde.ErrMaintenance):
		return "maintenance"
	case !errors.As(err, &apiErr):
		return "network"
	case apiErr.StatusCode == http.StatusTooManyRequests:
		return "rate_limited"
	case apiErr.StatusCode >= 500:
		return "server"
	}
	return "refused"
}

// configErrorWait multiplies PopErrorInterval after a pop refused for the worker's
// configuration (30 s by default).
const configErrorWait = 6

// popErrorWait logs a failed pop and says how long to wait before the next one.
func (w *Worker) popErrorWait(ctx context.Context, kind horde.Kind, err error) time.Duration {
	wait := w.s.PopErrorInterval
	var apiErr *horde.APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
		wait = apiErr.RetryAfter
	}
	switch {
	case errors.Is(err, horde.ErrMaintenance):
		if !w.maintenance.Swap(true) {
			w.s.Logger.LogAttrs(ctx, slog.LevelWarn, "worker: the Horde put this worker in maintenance mode; waiting it out",
				slog.String("kind", string(kind)), slog.String("error", err.Error()))
		}
	case apiErr != nil && apiErr.StatusCode/100 == 4 && apiErr.StatusCode != http.StatusTooManyRequests:
		// A refusal of the worker itself (bad key, a name taken by another user or another kind
		// of worker, unknown models): retrying soon will not help; say what to fix.
		wait = max(wait, configErrorWait*w.s.PopErrorInterval)
		w.s.Logger.LogAttrs(ctx, slog.LevelError, "worker: the Horde refused the pop: check the API key, the worker name and the models",
			slog.String("kind", string(kind)), slog.String("error", err.Error()), slog.Duration("retry_in", wait))
	default:
		w.s.Logger.LogAttrs(ctx, slog.LevelWarn, "worker: pop failed",
			slog.String("kind", string(kind)), slog.String("error", err.Error()), slog.Duration("retry_in", wait))
	}
	return wait
}

func (w *Worker) pauseLeft() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Until(w.pausedUntil)
}

// jobEnded records how a job ended for the consecutive-failure pause.
func (w *Worker) jobEnded(ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ok {
		w.failures = 0
		return
	}
	w.failures++
	if w.failures >= w.s.MaxConsecutiveFailures {
		w.failures = 0
		w.pausedUntil = time.Now().Add(w.s.FailurePause)
		w.st.pauses.Add(1)
	}
}

// startJob runs a popped job in its own goroutine; the job owns one slot until it is settled.
// A job handed back (no room, or the worker stopping) is reported faulted at once.
func (w *Worker) startJob(ctx context.Context, j job, handBack bool) {
	w.st.popped.Add(1)
	w.st.poppedByKind(j.kind()).Add(1)
	w.observe(Event{Type: EventPopped, Kind: j.kind(), Model: j.model()})
	w.jobs.Go(func() {
		if !handBack {
			defer w.releaseSlot()
		}
		w.handle(ctx, j, handBack)
	})
}

// handle takes one job from its pop to its end.
func (w *Worker) handle(popCtx context.Context, j job, handBack bool) {
	jobCtx := w.abortCtx
	limit := j.ttl(w.s.DefaultTTL)
	if w.s.MaxJobTime > 0 {
		limit = min(limit, w.s.MaxJobTime)
	}
	deadline := j.popped().Add(limit)
	var runErr error
	switch {
	case handBack:
		runErr = errHandedBack
	default:
		runErr = w.runJob(popCtx, jobCtx, j, deadline)
	}
	if runErr != nil {
		j.fault(runErr)
		w.s.Logger.LogAttrs(jobCtx, slog.LevelWarn, "worker: job faulted",
			slog.String("kind", string(j.kind())), slog.String("id", j.id()), slog.String("error", runErr.Error()))
	}
	end := Event{Type: EventJobDone, Kind: j.kind(), Model: j.model()}
	switch res := w.submitJob(jobCtx, j); {
	case runErr != nil || res == settledFailed:
		w.st.faulted.Add(1)
		w.jobEnded(false)
		end.Type = EventJobFaulted
	case res == settledGone:
		// The Horde dropped the job (expired, or its request cancelled): not the worker's fault.
		w.st.abandoned.Add(1)
		w.jobEnded(true)
		end.Type = EventJobAbandoned
	default:
		w.st.done.Add(1)
		w.jobEnded(true)
	}
	end.Duration = time.Since(j.popped())
	w.observe(end)
	w.st.addDurations(j.generation().Durations())
}

var (
	errHandedBack = errors.New("no room to run this job: handed back")
	errShutdown   = errors.New("the worker is shutting down: handed back before it started")
)

// runJob prepares the job, waits for a run slot and runs it on its backend under the job's
// deadline, with a watchdog for backends that ignore their context.
func (w *Worker) runJob(popCtx, jobCtx context.Context, j job, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(jobCtx, deadline)
	defer cancel()
	if err := j.prepare(ctx, w); err != nil {
		return err
	}
	select {
	case w.run <- struct{}{}:
	case <-popCtx.Done():
		return errShutdown
	case <-ctx.Done():
		return fmt.Errorf("waiting to run: %w", context.Cause(ctx))
	}
	defer func() { <-w.run }()
	if popCtx.Err() != nil {
		return errShutdown
	}
	started := time.Now()
	w.observe(Event{Type: EventBackendStarted, Kind: j.kind(), Model: j.model()})
	defer func() {
		w.observe(Event{Type: EventBackendFinished, Kind: j.kind(), Model: j.model(), Duration: time.Since(started)})
	}()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("backend panic: %v", p)
			}
		}()
		done <- j.execute(ctx, w)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The watchdog: a backend that does not return by the deadline is given up on. Its
		// goroutine ends whenever the backend does.
		w.st.stuck.Add(1)
		return fmt.Errorf("the backend did not finish in time: %w", ctx.Err())
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

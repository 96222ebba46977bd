package worker

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/worker/internal/lifecycle"
)

// Stats is a snapshot of what a worker did.
type Stats struct {
	// Popped, Done and Faulted count jobs: popped, settled with every result accepted, and
	// settled otherwise (backend failure, refusal, expiry). Abandoned counts jobs the Horde no
	// longer had when their results came (not a fault). Done + Faulted + Abandoned + InFlight
	// = Popped.
	Popped, Done, Faulted, Abandoned, InFlight int64
	// PoppedByKind splits Popped by kind.
	PoppedByKind map[horde.Kind]int64
	// Submitted counts accepted submits (one per result); Kudos is what they earned.
	Submitted int64
	Kudos     float64
	// EmptyPops and PopErrors count pops that found nothing or failed.
	EmptyPops, PopErrors int64
	// SubmitRetries, UploadErrors, Duplicates, Gone, Refused and Expired count submit events.
	SubmitRetries, UploadErrors, Duplicates, Gone, Refused, Expired int64
	// Stuck counts jobs given up on by the watchdog; Pauses the consecutive-failure pauses.
	Stuck, Pauses int64
	// ImageSteps adds up the sampling steps of the images generated (steps × images), the
	// "it" of a worker's it/s.
	ImageSteps int64
	// TimeInState adds up the time jobs spent in each state of their life, by the state's name
	// ("GENERATING", "SUBMITTING", …, as the AI Horde's worker SDK names them).
	TimeInState map[string]time.Duration
	// Uptime is the time since the worker was built.
	Uptime time.Duration
}

type stats struct {
	started                                                         time.Time
	popped, done, faulted, submitted, emptyPops, popErrors          atomic.Int64
	submitRetries, uploadErrors, duplicates, gone, refused, expired atomic.Int64
	stuck, pauses, abandoned, imageSteps                            atomic.Int64
	image, text, alchemy                                            atomic.Int64
	kudosBits                                                       atomic.Uint64
	mu                                                              sync.Mutex
	durations                                                       map[lifecycle.State]time.Duration
}

func (s *stats) init() {
	s.started = time.Now()
	s.durations = map[lifecycle.State]time.Duration{}
}

func (s *stats) poppedByKind(k horde.Kind) *atomic.Int64 {
	switch k {
	case horde.KindImage:
		return &s.image
	case horde.KindText:
		return &s.text
	}
	return &s.alchemy
}

func (s *stats) addKudos(k float64) {
	for {
		old := s.kudosBits.Load()
		if s.kudosBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+k)) {
			return
		}
	}
}

func (s *stats) addDurations(d map[lifecycle.State]time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for st, v := range d {
		s.durations[st] += v
	}
}

// ItPerSecond is the image steps generated per second of uptime.
func (s Stats) ItPerSecond() float64 {
	if sec := s.Uptime.Seconds(); sec > 0 {
		return float64(s.ImageSteps) / sec
	}
	return 0
}

// Stats returns a snapshot of the worker's counters.
func (w *Worker) Stats() Stats {
	s := &w.st
	out := Stats{
		Popped: s.popped.Load(), Done: s.done.Load(), Faulted: s.faulted.Load(), Abandoned: s.abandoned.Load(),
		PoppedByKind: map[horde.Kind]int64{horde.KindImage: s.image.Load(), horde.KindText: s.text.Load(), horde.KindAlchemy: s.alchemy.Load()},
		Submitted:    s.submitted.Load(), Kudos: math.Float64frombits(s.kudosBits.Load()),
		EmptyPops: s.emptyPops.Load(), PopErrors: s.popErrors.Load(),
		SubmitRetries: s.submitRetries.Load(), UploadErrors: s.uploadErrors.Load(), Duplicates: s.duplicates.Load(),
		Gone: s.gone.Load(), Refused: s.refused.Load(), Expired: s.expired.Load(),
		Stuck: s.stuck.Load(), Pauses: s.pauses.Load(), ImageSteps: s.imageSteps.Load(),
		Uptime: time.Since(s.started),
	}
	out.InFlight = out.Popped - out.Done - out.Faulted - out.Abandoned
	s.mu.Lock()
	out.TimeInState = make(map[string]time.Duration, len(s.durations))
	for k, v := range s.durations {
		out.TimeInState[string(k)] = v
	}
	s.mu.Unlock()
	return out
}

func (w *Worker) statsLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	if w.s.StatsInterval <= 0 {
		return
	}
	t := time.NewTicker(w.s.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.logStats(ctx, "worker: stats")
		}
	}
}

func (w *Worker) logStats(ctx context.Context, msg string) {
	st := w.Stats()
	w.s.Logger.LogAttrs(ctx, slog.LevelInfo, msg,
		slog.Int64("popped", st.Popped), slog.Int64("done", st.Done), slog.Int64("faulted", st.Faulted),
		slog.Int64("in_flight", st.InFlight), slog.Int64("submitted", st.Submitted),
		slog.Float64("kudos", st.Kudos), slog.Int64("pop_errors", st.PopErrors),
		slog.Int64("submit_retries", st.SubmitRetries), slog.Duration("uptime", st.Uptime.Round(time.Second)))
}

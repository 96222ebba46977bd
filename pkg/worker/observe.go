package worker

import (
	"time"

	"github.com/horde-go/horde/pkg/horde"
)

// Observer receives what happens in a worker, for metrics and health checks (package
// pkg/worker/metrics has a Prometheus one). Observe is called from the worker's goroutines,
// concurrently; it must be quick and must not block.
type Observer interface {
	Observe(Event)
}

// EventType says what an Event reports.
type EventType string

// The events of a worker.
const (
	// EventPopped: a job (an image job, a text job, or one alchemy form) was popped. Model
	// is its model (the form's name for alchemy).
	EventPopped EventType = "popped"
	// EventEmptyPop: a pop found no job.
	EventEmptyPop EventType = "empty_pop"
	// EventPopFailed: a pop failed; Cause is rate_limited, maintenance, refused (the worker's
	// key, name or models), server (5xx) or network.
	EventPopFailed EventType = "pop_failed"
	// EventBackendStarted and EventBackendFinished bracket a job's run on its backend;
	// Finished carries the run's Duration.
	EventBackendStarted  EventType = "backend_started"
	EventBackendFinished EventType = "backend_finished"
	// EventSubmitRetry: a submit failed and will be tried again.
	EventSubmitRetry EventType = "submit_retry"
	// EventSubmitted: the Horde accepted a result; Kudos is its reward.
	EventSubmitted EventType = "submitted"
	// EventJobDone, EventJobFaulted and EventJobAbandoned end a job: delivered; failed (and
	// reported faulted); dropped by the Horde (expired or cancelled), no one's fault. Duration
	// is the time from the pop.
	EventJobDone      EventType = "done"
	EventJobFaulted   EventType = "faulted"
	EventJobAbandoned EventType = "abandoned"
)

// Event is one thing that happened in a worker.
type Event struct {
	Type EventType
	Kind horde.Kind
	// Model is the job's model (the form's name for alchemy); "" for pop events.
	Model string
	// Cause classifies a failed pop.
	Cause string
	// Duration is the backend's run time, or a finished job's time since its pop.
	Duration time.Duration
	// Kudos is the reward of an accepted submit.
	Kudos float64
	// Time is when it happened.
	Time time.Time
}

// observe sends an event to the configured observer, if any.
func (w *Worker) observe(e Event) {
	if w.s.Observer == nil {
		return
	}
	e.Time = time.Now()
	w.s.Observer.Observe(e)
}

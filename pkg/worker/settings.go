package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Settings is everything a worker needs, in the worker's own terms: what it offers the Horde
// for each kind of work, and how its loop behaves. A bridgeData.yaml file becomes Settings
// through package bridgedata; a Go program writes them directly. The zero value of a loop
// setting means its default.
type Settings struct {
	// Image, Text and Alchemy are what the worker offers for each kind of work; a nil one means
	// the worker does not serve that kind (it also needs the matching backend).
	Image   *ImageOffer
	Text    *TextOffer
	Alchemy *AlchemyOffer

	// BridgeAgent is "name:version:url", sent with every pop (default DefaultBridgeAgent()).
	// The Horde grants features and kudos by its name: see the package documentation.
	BridgeAgent string
	// PriorityUsernames are the accounts (name#id) whose requests the worker takes first.
	PriorityUsernames []string
	// RequireUpfrontKudos takes only requests whose requester has the kudos up front.
	RequireUpfrontKudos bool
	// ExtraSlowWorker marks a worker slow enough that only requests that allow extra-slow
	// workers reach it.
	ExtraSlowWorker bool

	// Safety classifies generated images whose backend gave no verdict (see ImageOutput).
	Safety SafetyChecker
	// Observer receives the worker's events, for metrics and health (see
	// pkg/worker/metrics).
	Observer Observer

	// Threads is how many jobs run at once (default 1).
	Threads int
	// QueueSize is how many jobs are popped ahead of the running ones (default 1).
	QueueSize int
	// ServeNSFW is false for a safe-for-work worker: the Horde sends it no request that allows
	// NSFW, and every image classified NSFW is censored.
	ServeNSFW bool

	// PopInterval is the wait after a pop that found no job (default 1 s). After a pop that
	// found one, the next pop goes out as soon as there is room for another job.
	PopInterval time.Duration
	// PopErrorInterval is the wait after a failed pop (default 5 s); a 429's Retry-After is
	// honoured when longer.
	PopErrorInterval time.Duration
	// MaxConsecutiveFailures is how many jobs in a row may fail before popping pauses for
	// FailurePause (defaults 3 and 60 s).
	MaxConsecutiveFailures int
	FailurePause           time.Duration

	// SubmitAttempts is the budget of quick submit attempts, with exponential backoff from
	// SubmitBackoff (defaults 10 and 1 s, capped at 30 s). A finished result is never dropped
	// when the budget is spent: it is submitted again every ResubmitInterval (default 30 s)
	// until the Horde accepts it, refuses it for good, or the job expires (JobExpiry).
	SubmitAttempts   int
	SubmitBackoff    time.Duration
	ResubmitInterval time.Duration
	// JobExpiry is how long after its pop a job's results are still worth submitting
	// (default 30 min: R2 upload links are valid that long).
	JobExpiry time.Duration

	// MaxJobTime caps the time a job may run, when shorter than its ttl (0: the ttl alone).
	MaxJobTime time.Duration
	// DefaultTTL bounds a job whose pop carried no ttl (default 150 s, the server's text TTL).
	DefaultTTL time.Duration
	// UploadTimeout bounds one R2 upload (default 10 s). Source images are downloaded through
	// the client's Download (retries, timeout, size cap, never the API key).
	UploadTimeout time.Duration
	// HTTPClient carries R2 uploads (default http.DefaultClient); it never sees the API key.
	HTTPClient *http.Client

	// DrainTimeout bounds the graceful shutdown (default 5 min): after it, in-flight jobs are
	// aborted and reported faulted.
	DrainTimeout time.Duration
	// StatsInterval is how often a stats line is logged (0: only at the end).
	StatsInterval time.Duration

	// Logger receives the worker's events (default: discard).
	Logger *slog.Logger
}

func (s *Settings) withDefaults() Settings {
	out := *s
	setDefault(&out.Threads, 1)
	setDefault(&out.QueueSize, 1)
	setDefault(&out.PopInterval, time.Second)
	setDefault(&out.PopErrorInterval, 5*time.Second)
	setDefault(&out.MaxConsecutiveFailures, 3)
	setDefault(&out.FailurePause, time.Minute)
	setDefault(&out.SubmitAttempts, 10)
	setDefault(&out.SubmitBackoff, time.Second)
	setDefault(&out.ResubmitInterval, 30*time.Second)
	setDefault(&out.JobExpiry, 30*time.Minute)
	setDefault(&out.DefaultTTL, 150*time.Second)
	setDefault(&out.UploadTimeout, 10*time.Second)
	setDefault(&out.DrainTimeout, 5*time.Minute)
	if out.BridgeAgent == "" {
		out.BridgeAgent = DefaultBridgeAgent()
	}
	if out.Image != nil {
		o := out.Image.withDefaults()
		out.Image = &o
	}
	if out.Text != nil {
		o := out.Text.withDefaults()
		out.Text = &o
	}
	if out.Alchemy != nil {
		o := out.Alchemy.withDefaults()
		out.Alchemy = &o
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

func (s *Settings) validate(b Backends) error {
	var errs []error
	bad := func(field, rule string, v any) {
		errs = append(errs, fmt.Errorf("worker: settings: %s: %s, got %v", field, rule, v))
	}
	if s.Threads < 0 || s.Threads > 100 {
		bad("Threads", "must be between 1 and 100", s.Threads)
	}
	if s.QueueSize < 0 || s.QueueSize > 100 {
		bad("QueueSize", "must be between 0 and 100", s.QueueSize)
	}
	for name, d := range map[string]time.Duration{"PopInterval": s.PopInterval, "PopErrorInterval": s.PopErrorInterval,
		"FailurePause": s.FailurePause, "SubmitBackoff": s.SubmitBackoff, "ResubmitInterval": s.ResubmitInterval,
		"JobExpiry": s.JobExpiry, "DefaultTTL": s.DefaultTTL, "MaxJobTime": s.MaxJobTime, "UploadTimeout": s.UploadTimeout,
		"DrainTimeout": s.DrainTimeout, "StatsInterval": s.StatsInterval} {
		if d < 0 {
			bad(name, "must not be negative", d)
		}
	}
	if s.SubmitAttempts < 0 {
		bad("SubmitAttempts", "must not be negative", s.SubmitAttempts)
	}
	pairs := []struct {
		kind    string
		pop     bool
		backend bool
	}{{"image", s.Image != nil, b.Image != nil}, {"text", s.Text != nil, b.Text != nil}, {"alchemy", s.Alchemy != nil, b.Alchemy != nil}}
	serves := false
	for _, p := range pairs {
		switch {
		case p.pop && !p.backend:
			errs = append(errs, fmt.Errorf("worker: settings: %s work is offered but no %s backend is given", p.kind, p.kind))
		case p.backend && !p.pop:
			errs = append(errs, fmt.Errorf("worker: settings: a %s backend is given but no %s offer", p.kind, p.kind))
		case p.pop:
			serves = true
		}
	}
	if !serves && len(errs) == 0 {
		errs = append(errs, errors.New("worker: settings: the worker serves nothing: give at least one offer and its backend"))
	}
	errs = append(errs, s.validateOffers(b)...)
	return errors.Join(errs...)
}

package lifecycle

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/horde-go/horde/pkg/horde"
)

// ErrInvalidTransition is wrapped by the error of a transition the table does not allow.
var ErrInvalidTransition = errors.New("lifecycle: invalid state transition")

// ErrErrorLimit is wrapped by the error of a retry that would exceed a state's error limit.
var ErrErrorLimit = errors.New("lifecycle: error limit reached")

// Step is one entry of a generation's history.
type Step struct {
	State State
	At    time.Time
}

// Safety is the safety check's verdict on one result.
type Safety struct {
	// NSFW is true when the result is not safe for work.
	NSFW bool
	// CSAM is true when the result must never be delivered; it is always censored.
	CSAM bool
	// Censored is true when the result was replaced or withheld.
	Censored bool
}

// GenerationOptions configure a Generation.
type GenerationOptions struct {
	// Table is the transition table; nil picks the default for the kind (see NewGeneration).
	Table Table
	// BlackBox uses the black-box table: the backend reports only generating and done.
	BlackBox bool
	// ErrorLimits caps the attempts per state; nil means DefaultErrorLimits().
	ErrorLimits map[State]int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Generation is the state machine of one generation (one job's batch of results) on a worker.
// It is safe for concurrent use.
//
// Decisions on the upstream SDK's behaviour, which this type deliberately does not copy:
//   - Leaving ERROR is checked: only the states the table lists under ERROR may follow (a retry
//     of a stage, or ABORTED). Upstream accepts any state after ERROR.
//   - ERROR, and the interrupts ABORTED, USER_REQUESTED_ABORT and ABANDONED, may follow any state
//     that is not final; nothing follows a final state (COMPLETE, REPORTED_FAILED,
//     USER_ABORT_COMPLETE, ABANDONED). Upstream lets ERROR follow COMPLETE.
//   - An error limit of N allows N attempts of a state: after the N-th error, re-entering the
//     state fails with ErrErrorLimit. Abort stays possible after a limit is reached (upstream's
//     strict mode then refuses even the abort, so the job can never be reported).
//   - Entering the current state again is an error, never a silent no-op.
//   - Nothing panics: every refused transition is an error.
type Generation struct {
	mu         sync.Mutex
	id         string
	kind       horde.Kind
	table      Table
	blackBox   bool
	limits     map[State]int
	now        func() time.Time
	state      State
	history    []Step
	errors     map[State]int
	failures   []error
	resultIDs  []string
	results    map[string][]byte
	safety     map[string]Safety
	lastActive State // the newest state that is not ERROR
}

// NewGeneration returns a generation in NOT_STARTED with one result slot per id.
// The default table is the base table for images, and for text and alchemy the base table with
// the safety check skippable; BlackBox selects the black-box table instead.
func NewGeneration(id string, kind horde.Kind, resultIDs []string, opts GenerationOptions) (*Generation, error) {
	if id == "" {
		return nil, errors.New("worker: a generation needs an id")
	}
	if len(resultIDs) == 0 {
		return nil, fmt.Errorf("worker: generation %s: needs at least one result id", id)
	}
	switch kind {
	case horde.KindImage, horde.KindText, horde.KindAlchemy:
	default:
		return nil, fmt.Errorf("worker: generation %s: unknown kind %q", id, kind)
	}
	g := &Generation{
		id: id, kind: kind, table: opts.Table, blackBox: opts.BlackBox, limits: opts.ErrorLimits, now: opts.Now,
		state: StateNotStarted, lastActive: StateNotStarted,
		errors: map[State]int{}, resultIDs: append([]string(nil), resultIDs...),
		results: make(map[string][]byte, len(resultIDs)), safety: map[string]Safety{},
	}
	switch {
	case g.blackBox:
		g.table = blackBoxTable()
	case g.table == nil && kind == horde.KindImage:
		g.table = baseTable()
	case g.table == nil:
		g.table = skippableTable()
	default:
		if err := g.table.Validate(); err != nil {
			return nil, err
		}
	}
	if g.limits == nil {
		g.limits = DefaultErrorLimits()
	}
	if g.now == nil {
		g.now = time.Now
	}
	g.history = []Step{{StateNotStarted, g.now()}}
	return g, nil
}

var skippableTable = sync.OnceValue(func() Table { return baseTable().WithSafetySkippable() })

// ID returns the generation's id.
func (g *Generation) ID() string { return g.id }

// Kind returns what the generation produces.
func (g *Generation) Kind() horde.Kind { return g.kind }

// BlackBox reports whether the generation uses the black-box table.
func (g *Generation) BlackBox() bool { return g.blackBox }

// State returns the current state.
func (g *Generation) State() State {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state
}

// ResultIDs returns the ids of the result slots, in order.
func (g *Generation) ResultIDs() []string { return append([]string(nil), g.resultIDs...) }

// To moves the generation to next, if the table and the error limits allow it.
func (g *Generation) To(next State) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.to(next)
}

func (g *Generation) to(next State) error {
	cur := g.state
	switch {
	case cur.Final():
		return fmt.Errorf("%w: generation %s is over (%s), cannot enter %s", ErrInvalidTransition, g.id, cur, next)
	case next == cur:
		return fmt.Errorf("%w: generation %s is already %s", ErrInvalidTransition, g.id, cur)
	case next == StateError:
		g.errors[g.lastActive]++
	case next.interrupt():
	case !g.table.Allows(cur, next):
		return fmt.Errorf("%w: generation %s: %s → %s", ErrInvalidTransition, g.id, cur, next)
	}
	if limit, ok := g.limits[next]; ok && next != StateError && g.errors[next] >= limit {
		return fmt.Errorf("%w: generation %s failed %d times in %s", ErrErrorLimit, g.id, g.errors[next], next)
	}
	g.state = next
	if next != StateError {
		g.lastActive = next
	}
	g.history = append(g.history, Step{next, g.now()})
	return nil
}

// Fail records err and moves the generation to ERROR. The caller then retries (moves back to
// the stage, while its error limit allows) or aborts.
func (g *Generation) Fail(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.failures = append(g.failures, err)
	}
	return g.to(StateError)
}

// CanRetry reports whether the generation may enter s again: it is in ERROR, the table allows
// s after ERROR, and s's error limit is not reached.
func (g *Generation) CanRetry(s State) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != StateError || !g.table.Allows(StateError, s) {
		return false
	}
	limit, ok := g.limits[s]
	return !ok || g.errors[s] < limit
}

// Abort moves the generation to ABORTED, recording why. It is allowed from any state that is
// not final, even after an error limit was reached.
func (g *Generation) Abort(reason error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if reason != nil {
		g.failures = append(g.failures, reason)
	}
	return g.to(StateAborted)
}

// LastActive returns the newest state that was not ERROR.
func (g *Generation) LastActive() State {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastActive
}

// ErrorCount returns how many times the generation failed in s.
func (g *Generation) ErrorCount(s State) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.errors[s]
}

// Failures returns the errors recorded by Fail and Abort.
func (g *Generation) Failures() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]error(nil), g.failures...)
}

// History returns every state entered, with when.
func (g *Generation) History() []Step {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Step(nil), g.history...)
}

// Durations returns the time spent in each state; a state entered more than once adds up,
// and the current state counts up to now.
func (g *Generation) Durations() map[State]time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[State]time.Duration{}
	for i, s := range g.history {
		end := g.now()
		if i+1 < len(g.history) {
			end = g.history[i+1].At
		}
		out[s.State] += end.Sub(s.At)
	}
	return out
}

// SetResult stores the result of one slot. Results are kept until the generation is over:
// a submit that fails never loses them.
func (g *Generation) SetResult(resultID string, data []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.hasSlot(resultID) {
		return fmt.Errorf("worker: generation %s has no result slot %q", g.id, resultID)
	}
	g.results[resultID] = data
	return nil
}

func (g *Generation) hasSlot(id string) bool {
	for _, r := range g.resultIDs {
		if r == id {
			return true
		}
	}
	return false
}

// Result returns the stored result of a slot.
func (g *Generation) Result(resultID string) ([]byte, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d, ok := g.results[resultID]
	return d, ok
}

// HasAllResults reports whether every slot has a result.
func (g *Generation) HasAllResults() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.results) == len(g.resultIDs)
}

// SetSafety records the safety verdict on one slot's result. CSAM is always censored: the
// result is dropped and Censored set. It needs the result first.
func (g *Generation) SetSafety(resultID string, s Safety) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.results[resultID]; !ok {
		return fmt.Errorf("worker: generation %s: safety verdict for %q before its result", g.id, resultID)
	}
	if s.CSAM {
		s.Censored = true
	}
	if s.Censored {
		g.results[resultID] = nil
	}
	g.safety[resultID] = s
	return nil
}

// Safety returns the safety verdict on a slot, if one was recorded.
func (g *Generation) Safety(resultID string) (Safety, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.safety[resultID]
	return s, ok
}

// SafetyDone reports whether every slot has a safety verdict.
func (g *Generation) SafetyDone() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.safety) == len(g.resultIDs)
}

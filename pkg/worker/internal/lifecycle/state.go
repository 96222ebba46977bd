package lifecycle

import (
	_ "embed"
	"fmt"
	"slices"
	"sync"

	"go.yaml.in/yaml/v4"
)

// State is a step in the life of one generation on a worker.
type State string

// The states of a generation, as the AI Horde's worker SDK names them.
const (
	StateNotStarted             State = "NOT_STARTED"
	StateError                  State = "ERROR"
	StatePreloading             State = "PRELOADING"
	StatePreloadingComplete     State = "PRELOADING_COMPLETE"
	StateGenerating             State = "GENERATING"
	StateGenerationComplete     State = "GENERATION_COMPLETE"
	StatePendingPostProcessing  State = "PENDING_POST_PROCESSING"
	StatePostProcessing         State = "POST_PROCESSING"
	StatePostProcessingComplete State = "POST_PROCESSING_COMPLETE"
	StatePendingSafetyCheck     State = "PENDING_SAFETY_CHECK"
	StateSafetyChecking         State = "SAFETY_CHECKING"
	StateSafetyCheckComplete    State = "SAFETY_CHECK_COMPLETE"
	StatePendingSubmit          State = "PENDING_SUBMIT"
	StateSubmitting             State = "SUBMITTING"
	StateSubmitComplete         State = "SUBMIT_COMPLETE"
	StateComplete               State = "COMPLETE"
	StateAborted                State = "ABORTED"
	StateReportedFailed         State = "REPORTED_FAILED"
	StateUserRequestedAbort     State = "USER_REQUESTED_ABORT"
	StateUserAbortComplete      State = "USER_ABORT_COMPLETE"
	StateAbandoned              State = "ABANDONED"
)

// AllStates lists every state, in the upstream order.
func AllStates() []State {
	return []State{StateNotStarted, StateError, StatePreloading, StatePreloadingComplete, StateGenerating,
		StateGenerationComplete, StatePendingPostProcessing, StatePostProcessing, StatePostProcessingComplete,
		StatePendingSafetyCheck, StateSafetyChecking, StateSafetyCheckComplete, StatePendingSubmit, StateSubmitting,
		StateSubmitComplete, StateComplete, StateAborted, StateReportedFailed, StateUserRequestedAbort,
		StateUserAbortComplete, StateAbandoned}
}

// Final reports whether nothing can follow s: the generation is over.
func (s State) Final() bool {
	switch s {
	case StateComplete, StateReportedFailed, StateUserAbortComplete, StateAbandoned:
		return true
	}
	return false
}

// Failing reports whether s is on the way to a failure.
func (s State) Failing() bool {
	switch s {
	case StateError, StateAborted, StateReportedFailed, StateUserRequestedAbort, StateAbandoned:
		return true
	}
	return false
}

// Pending reports whether s waits for work to start.
func (s State) Pending() bool {
	switch s {
	case StateNotStarted, StatePreloadingComplete, StatePendingPostProcessing, StatePendingSafetyCheck, StatePendingSubmit:
		return true
	}
	return false
}

// Milestone reports whether s marks a finished stage.
func (s State) Milestone() bool {
	switch s {
	case StateGenerationComplete, StatePostProcessingComplete, StateSafetyCheckComplete:
		return true
	}
	return false
}

// interrupt reports the states a generation may enter from any state that is not final.
func (s State) interrupt() bool {
	return s == StateAborted || s == StateUserRequestedAbort || s == StateAbandoned
}

// Table maps each state to the states that may follow it.
type Table map[State][]State

var (
	//go:embed transitions/base_transitions.yaml
	baseYAML []byte
	//go:embed transitions/black_box_transitions.yaml
	blackBoxYAML []byte
)

// ParseTable reads a transition table from YAML (state: [next states]) and validates it.
func ParseTable(data []byte) (Table, error) {
	var t Table
	if err := yaml.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("worker: reading a transition table: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// mustTable parses an embedded table; the tests prove that each one parses.
func mustTable(data []byte) Table {
	t, err := ParseTable(data)
	if err != nil {
		return Table{}
	}
	return t
}

// The embedded tables, parsed once and never modified: generations share them.
var (
	baseTable     = sync.OnceValue(func() Table { return mustTable(baseYAML) })
	blackBoxTable = sync.OnceValue(func() Table { return mustTable(blackBoxYAML) })
)

// BaseTable is the full table: preloading, generation, post-processing, safety check, submit.
func BaseTable() Table { return baseTable().Clone() }

// BlackBoxTable is the table of a backend that reports only "generating" and "done".
func BlackBoxTable() Table { return blackBoxTable().Clone() }

// Validate checks that every state named is known and every target is also a key.
func (t Table) Validate() error {
	known := map[State]bool{}
	for _, s := range AllStates() {
		known[s] = true
	}
	for from, tos := range t {
		if !known[from] {
			return fmt.Errorf("worker: transition table: unknown state %q", from)
		}
		for _, to := range tos {
			if !known[to] {
				return fmt.Errorf("worker: transition table: %s → unknown state %q", from, to)
			}
			if _, ok := t[to]; !ok {
				return fmt.Errorf("worker: transition table: %s → %s, which has no entry", from, to)
			}
		}
	}
	if _, ok := t[StateNotStarted]; !ok {
		return fmt.Errorf("worker: transition table: no entry for %s", StateNotStarted)
	}
	return nil
}

// Clone returns a deep copy.
func (t Table) Clone() Table {
	out := make(Table, len(t))
	for k, v := range t {
		out[k] = slices.Clone(v)
	}
	return out
}

// WithoutSubmit derives the table of a generation that is not submitted (a local run): the
// submit states go, and every state that led to one leads to COMPLETE instead.
func (t Table) WithoutSubmit() Table {
	out := t.Clone()
	submit := []State{StatePendingSubmit, StateSubmitting, StateSubmitComplete}
	for _, s := range submit {
		delete(out, s)
	}
	for from, tos := range out {
		kept := tos[:0]
		lost := false
		for _, to := range tos {
			if slices.Contains(submit, to) {
				lost = true
				continue
			}
			kept = append(kept, to)
		}
		if lost && from != StateError && !slices.Contains(kept, StateComplete) {
			kept = append(kept, StateComplete)
		}
		out[from] = kept
	}
	return out
}

// WithSafetySkippable derives the table of a generation whose safety check may be skipped (text
// and alchemy): generation and post-processing may go straight to PENDING_SUBMIT.
func (t Table) WithSafetySkippable() Table {
	out := t.Clone()
	for _, s := range []State{StateGenerationComplete, StatePostProcessingComplete} {
		if tos, ok := out[s]; ok && !slices.Contains(tos, StatePendingSubmit) {
			out[s] = append(tos, StatePendingSubmit)
		}
	}
	return out
}

// Allows reports whether the table lists to after from.
func (t Table) Allows(from, to State) bool { return slices.Contains(t[from], to) }

// DefaultErrorLimits are the attempts a generation gets in each retriable state: three for the
// work, ten for submitting and for a user's abort.
func DefaultErrorLimits() map[State]int {
	return map[State]int{
		StatePreloading: 3, StateGenerating: 3, StatePostProcessing: 3, StateSafetyChecking: 3,
		StateSubmitting: 10, StateUserRequestedAbort: 10,
	}
}

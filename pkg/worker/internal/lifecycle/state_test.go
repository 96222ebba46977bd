package lifecycle

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"
)

// readYAMLTable reads a transition file independently of ParseTable.
func readYAMLTable(t *testing.T, path string) map[State][]State {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[State][]State
	require.NoError(t, yaml.Unmarshal(data, &m))
	return m
}

// TestTransitionsFromYAML checks every (from, to) pair of both tables: a transition is allowed
// exactly when the YAML lists it, or when it is ERROR or an interrupt from a state that is not
// final.
func TestTransitionsFromYAML(t *testing.T) {
	for _, tc := range []struct {
		file     string
		blackBox bool
	}{{"transitions/base_transitions.yaml", false}, {"transitions/black_box_transitions.yaml", true}} {
		t.Run(tc.file, func(t *testing.T) {
			want := readYAMLTable(t, tc.file)
			for from := range want {
				for _, to := range AllStates() {
					g, err := NewGeneration("g", horde.KindImage, []string{"r"}, GenerationOptions{BlackBox: tc.blackBox, Table: Table(want)})
					require.NoError(t, err)
					g.state = from
					if from != StateError {
						g.lastActive = from
					}
					allowed := slices.Contains(want[from], to) ||
						(!from.Final() && (to == StateError || to.interrupt()) && to != from)
					err = g.To(to)
					if allowed {
						assert.NoError(t, err, "%s → %s", from, to)
						assert.Equal(t, to, g.State())
					} else {
						assert.ErrorIs(t, err, ErrInvalidTransition, "%s → %s", from, to)
						assert.Equal(t, from, g.State(), "a refused transition changed the state")
					}
				}
			}
		})
	}
}

func TestEmbeddedTablesMatchYAML(t *testing.T) {
	assert.Equal(t, Table(readYAMLTable(t, "transitions/base_transitions.yaml")), BaseTable())
	assert.Equal(t, Table(readYAMLTable(t, "transitions/black_box_transitions.yaml")), BlackBoxTable())
	require.NoError(t, BaseTable().Validate())
	require.NoError(t, BlackBoxTable().Validate())
}

func TestDerivedTables(t *testing.T) {
	noSubmit := BaseTable().WithoutSubmit()
	require.NoError(t, noSubmit.Validate())
	assert.Equal(t, []State{StateError, StateComplete}, noSubmit[StateSafetyCheckComplete])
	assert.NotContains(t, noSubmit[StateError], StateSubmitting)
	for _, s := range []State{StatePendingSubmit, StateSubmitting, StateSubmitComplete} {
		assert.NotContains(t, noSubmit, s)
	}
	skippable := BaseTable().WithSafetySkippable()
	assert.Equal(t, []State{StatePendingPostProcessing, StatePendingSafetyCheck, StateError, StatePendingSubmit}, skippable[StateGenerationComplete])
	assert.Equal(t, []State{StatePendingSafetyCheck, StateError, StatePendingSubmit}, skippable[StatePostProcessingComplete])
	textNoSubmit := skippable.WithoutSubmit()
	assert.Equal(t, []State{StatePendingPostProcessing, StatePendingSafetyCheck, StateError, StateComplete}, textNoSubmit[StateGenerationComplete])
	assert.Len(t, BaseTable(), 21)

	bad := Table{StateNotStarted: {"NOPE"}}
	require.Error(t, bad.Validate())
	require.Error(t, Table{StateNotStarted: {StateGenerating}}.Validate(), "a target without an entry")
	_, err := ParseTable([]byte("NOT_STARTED: [GENERATING]\nGENERATING: [COMPLETE]\nCOMPLETE: []\n"))
	require.NoError(t, err)
	_, err = ParseTable([]byte(":"))
	require.Error(t, err)
}

func walk(t *testing.T, g *Generation, states ...State) {
	t.Helper()
	for _, s := range states {
		require.NoError(t, g.To(s), "→ %s", s)
	}
}

func TestHappyPaths(t *testing.T) {
	g, err := NewGeneration("img", horde.KindImage, []string{"a", "b"}, GenerationOptions{})
	require.NoError(t, err)
	walk(t, g, StatePreloading, StatePreloadingComplete, StateGenerating, StateGenerationComplete,
		StatePendingPostProcessing, StatePostProcessing, StatePostProcessingComplete, StatePendingSafetyCheck,
		StateSafetyChecking, StateSafetyCheckComplete, StatePendingSubmit, StateSubmitting, StateSubmitComplete, StateComplete)
	assert.True(t, g.State().Final())

	text, err := NewGeneration("txt", horde.KindText, []string{"t"}, GenerationOptions{})
	require.NoError(t, err)
	walk(t, text, StateGenerating, StateGenerationComplete, StatePendingSubmit, StateSubmitting, StateSubmitComplete, StateComplete)

	box, err := NewGeneration("box", horde.KindImage, []string{"a"}, GenerationOptions{BlackBox: true})
	require.NoError(t, err)
	require.Error(t, box.To(StatePreloading), "black-box mode has no preloading")
	walk(t, box, StateGenerating, StatePendingSafetyCheck, StateSafetyChecking, StatePendingSubmit, StateSubmitting, StateSubmitComplete, StateComplete)
}

// TestErrorLimits: the limit of a state is its number of attempts; submit gets ten.
func TestErrorLimits(t *testing.T) {
	g, err := NewGeneration("g", horde.KindImage, []string{"r"}, GenerationOptions{})
	require.NoError(t, err)
	walk(t, g, StateGenerating)
	for attempt := 1; attempt <= 3; attempt++ {
		require.NoError(t, g.Fail(errors.New("cuda oom")))
		assert.Equal(t, attempt, g.ErrorCount(StateGenerating))
		if attempt < 3 {
			require.True(t, g.CanRetry(StateGenerating))
			require.NoError(t, g.To(StateGenerating))
		}
	}
	assert.False(t, g.CanRetry(StateGenerating))
	require.ErrorIs(t, g.To(StateGenerating), ErrErrorLimit)
	assert.Equal(t, StateError, g.State())
	// Upstream refuses even the abort here; the job could never be reported. Not so here.
	require.NoError(t, g.Abort(errors.New("gave up")))
	require.NoError(t, g.To(StateReportedFailed))
	assert.Len(t, g.Failures(), 4)

	s, err := NewGeneration("s", horde.KindImage, []string{"r"}, GenerationOptions{BlackBox: true})
	require.NoError(t, err)
	walk(t, s, StateGenerating, StatePendingSubmit, StateSubmitting)
	for range 9 {
		require.NoError(t, s.Fail(errors.New("503")))
		require.NoError(t, s.To(StateSubmitting))
	}
	require.NoError(t, s.Fail(errors.New("503")))
	require.ErrorIs(t, s.To(StateSubmitting), ErrErrorLimit, "the eleventh submit attempt")
}

// TestLeavingErrorIsChecked: upstream accepts any state after ERROR; here only retries the
// table lists under ERROR.
func TestLeavingErrorIsChecked(t *testing.T) {
	g, err := NewGeneration("g", horde.KindImage, []string{"r"}, GenerationOptions{})
	require.NoError(t, err)
	walk(t, g, StatePreloading)
	require.NoError(t, g.Fail(nil))
	assert.Equal(t, StatePreloading, g.LastActive())
	require.ErrorIs(t, g.To(StateComplete), ErrInvalidTransition)
	require.ErrorIs(t, g.To(StateSubmitComplete), ErrInvalidTransition)
	require.NoError(t, g.To(StateGenerating))

	done, err := NewGeneration("d", horde.KindText, []string{"r"}, GenerationOptions{})
	require.NoError(t, err)
	walk(t, done, StateGenerating, StateGenerationComplete, StatePendingSubmit, StateSubmitting, StateSubmitComplete, StateComplete)
	require.ErrorIs(t, done.Fail(nil), ErrInvalidTransition, "nothing follows COMPLETE, not even ERROR")
	require.ErrorIs(t, done.Abort(nil), ErrInvalidTransition)
}

func TestResultsAndSafety(t *testing.T) {
	g, err := NewGeneration("g", horde.KindImage, []string{"a", "b"}, GenerationOptions{})
	require.NoError(t, err)
	require.Error(t, g.SetSafety("a", Safety{}), "a verdict needs the result first")
	require.Error(t, g.SetResult("zzz", []byte("x")))
	require.NoError(t, g.SetResult("a", []byte("img-a")))
	assert.False(t, g.HasAllResults())
	require.NoError(t, g.SetResult("b", []byte("img-b")))
	assert.True(t, g.HasAllResults())
	require.NoError(t, g.SetSafety("a", Safety{NSFW: true}))
	assert.False(t, g.SafetyDone())
	require.NoError(t, g.SetSafety("b", Safety{CSAM: true}))
	assert.True(t, g.SafetyDone())
	data, _ := g.Result("a")
	assert.Equal(t, []byte("img-a"), data)
	data, ok := g.Result("b")
	assert.True(t, ok)
	assert.Nil(t, data, "CSAM is never kept")
	s, _ := g.Safety("b")
	assert.True(t, s.Censored)
	assert.Equal(t, []string{"a", "b"}, g.ResultIDs())
}

func TestDurations(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	g, err := NewGeneration("g", horde.KindText, []string{"r"}, GenerationOptions{Now: clock})
	require.NoError(t, err)
	now = now.Add(time.Second)
	walk(t, g, StateGenerating)
	now = now.Add(5 * time.Second)
	require.NoError(t, g.Fail(nil))
	now = now.Add(time.Second)
	walk(t, g, StateGenerating)
	now = now.Add(2 * time.Second)
	d := g.Durations()
	assert.Equal(t, time.Second, d[StateNotStarted])
	assert.Equal(t, 7*time.Second, d[StateGenerating])
	assert.Equal(t, time.Second, d[StateError])
	assert.Len(t, g.History(), 4)
}

func TestNewGenerationRejects(t *testing.T) {
	_, err := NewGeneration("", horde.KindImage, []string{"r"}, GenerationOptions{})
	require.Error(t, err)
	_, err = NewGeneration("g", horde.KindImage, nil, GenerationOptions{})
	require.Error(t, err)
	_, err = NewGeneration("g", "video", []string{"r"}, GenerationOptions{})
	require.Error(t, err)
	_, err = NewGeneration("g", horde.KindImage, []string{"r"}, GenerationOptions{Table: Table{StateNotStarted: {"X"}}})
	require.Error(t, err)
	require.True(t, StatePendingSubmit.Pending())
	require.True(t, StateGenerationComplete.Milestone())
	require.True(t, StateAborted.Failing())
	require.False(t, StateComplete.Failing())
}

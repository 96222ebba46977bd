package worker

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
)

// fakeChecker is a SafetyChecker with a fixed answer that counts its calls.
type fakeChecker struct {
	verdict SafetyVerdict
	err     error
	calls   atomic.Int64
}

func (f *fakeChecker) CheckImage(context.Context, []byte) (SafetyVerdict, error) {
	f.calls.Add(1)
	return f.verdict, f.err
}

// TestUncheckedImages: an image whose backend gave no verdict is checked by Settings.Safety;
// without a checker it is delivered only to jobs that need no verdict, and a job that needs
// one is faulted instead of being delivered unchecked.
func TestUncheckedImages(t *testing.T) {
	tests := []struct {
		name         string
		nsfw, censor bool // the request allows NSFW; it asks for the NSFW censor
		serveNSFW    bool
		checker      *fakeChecker
		wantState    string
		wantCensored bool
	}{
		{"no checker, no verdict needed", true, false, true, nil, "done", false},
		{"no checker, the job asks for the censor", false, true, true, nil, "faulted", false},
		{"no checker, a safe-for-work worker", false, false, false, nil, "faulted", false},
		{"checker says safe", false, true, true, &fakeChecker{}, "done", false},
		{"checker says nsfw", false, true, true, &fakeChecker{verdict: SafetyVerdict{NSFW: true}}, "done", true},
		{"checker says csam", true, false, true, &fakeChecker{verdict: SafetyVerdict{CSAM: true}}, "done", true},
		{"checker fails", false, true, true, &fakeChecker{err: errors.New("vision server down")}, "faulted", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			f := false
			r, err := h.requester.Raw().PostImageAsyncGenerateWithResponse(context.Background(), gen.GenerationInputStable{
				Prompt: "a lighthouse", R2: &f, NSFW: &tt.nsfw, CensorNSFW: &tt.censor,
				Params: &gen.ModelGenerationInputStable{Width: ptrTo(64), Height: ptrTo(64)}})
			require.NoError(t, err)
			require.Equal(t, http.StatusAccepted, r.StatusCode(), "%s", r.Body)
			s := imageSettings()
			s.ServeNSFW = tt.serveNSFW
			if tt.checker != nil {
				s.Safety = tt.checker
			}
			w, err := New(h.owner, s, Backends{Image: &fakeImage{}})
			require.NoError(t, err)
			stop := runWorker(t, w)
			waitFor(t, "the job settled", func() bool { return w.Stats().Done+w.Stats().Faulted >= 1 })
			require.NoError(t, stop())
			// The Horde hands a faulted job out again: the worker may have popped it once more
			// before it stopped, and each pop must end the same way.
			jobs := h.srv.Jobs()
			require.NotEmpty(t, jobs)
			for _, j := range jobs {
				assert.Equal(t, tt.wantState, j.State)
				assert.Equal(t, tt.wantCensored, j.Censored)
			}
			if tt.checker != nil {
				// A job popped again is handed back unrun when the worker stops.
				calls := tt.checker.calls.Load()
				assert.True(t, calls >= 1 && calls <= int64(len(jobs)), "the checker saw %d images of %d jobs", calls, len(jobs))
			}
		})
	}
}

// TestBackendVerdictWins: a backend's own verdict is used as it is; the checker is not asked.
func TestBackendVerdictWins(t *testing.T) {
	h := newHarness(t)
	h.submitImages(t, 1, false)
	checker := &fakeChecker{verdict: SafetyVerdict{CSAM: true}}
	s := imageSettings()
	s.Safety = checker
	w, err := New(h.owner, s, Backends{Image: flaggingImage{}})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "the job done", func() bool { return w.Stats().Done == 1 })
	require.NoError(t, stop())
	assert.Zero(t, checker.calls.Load())
	assert.False(t, h.srv.Jobs()[0].Censored)
}

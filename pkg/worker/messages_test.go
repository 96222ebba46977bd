package worker

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
)

// syncBuffer is a bytes.Buffer safe for the worker's goroutines and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestHordeMessagesAreLoggedOnce: a message the Horde's moderators send the worker comes with
// every pop until it expires; the worker logs it once, with its origin.
func TestHordeMessagesAreLoggedOnce(t *testing.T) {
	h := newHarness(t, hordetest.WithUser(hordetest.User{Name: "mod", APIKey: "mod-key-0000042", Moderator: true}))
	var logs syncBuffer
	s := imageSettings()
	s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	w, err := New(h.owner, s, Backends{Image: &fakeImage{}})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "a pop", func() bool { return w.Stats().EmptyPops > 0 })
	info, err := h.owner.WorkerByName(context.Background(), "test-worker")
	require.NoError(t, err)
	mod, err := horde.NewClient(horde.WithBaseURL(h.srv.URL), horde.WithAPIKey("mod-key-0000042"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	_, err = mod.SendWorkerMessage(context.Background(), gen.InputModelMessage{WorkerID: info.ID, Message: "please update your worker", Expiry: new(2)})
	require.NoError(t, err)
	pops := w.Stats().EmptyPops
	waitFor(t, "three more pops", func() bool { return w.Stats().EmptyPops >= pops+3 })
	require.NoError(t, stop())
	assert.Equal(t, 1, strings.Count(logs.String(), "please update your worker"), logs.String())
	assert.Contains(t, logs.String(), "a message from AI Horde Moderators")
}

package comfyui

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/worker"
)

// endToEnd is a simulator with a requester, alice, and a worker with these settings and
// backends, running and popped once. stop ends the worker and checks it ended cleanly.
type endToEnd struct {
	srv   *hordetest.Server
	alice *horde.Client
	stop  func()
}

func startEndToEnd(t *testing.T, s worker.Settings, b worker.Backends) endToEnd {
	t.Helper()
	srv := hordetest.NewServer(hordetest.WithRateLimits(false),
		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 1e6}),
		hordetest.WithUser(hordetest.User{Name: "owner", APIKey: "owner-key-0123456789", Trusted: true}))
	t.Cleanup(srv.Close)
	owner, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("owner-key-0123456789"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	s.PopInterval = 5 * time.Millisecond
	w, err := worker.New(owner, s, b)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); w.Stats().EmptyPops == 0; {
		require.True(t, time.Now().Before(deadline), "the worker pops")
		time.Sleep(2 * time.Millisecond) // polling with a deadline
	}
	alice, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("alice-key"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		require.NoError(t, <-done)
	}
	t.Cleanup(stop)
	return endToEnd{srv: srv, alice: alice, stop: stop}
}

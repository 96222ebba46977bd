package hordetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad input never crashes the server nor yields a 500 (except the documented submit quirk).
func TestGarbageBodies(t *testing.T) {
	s := newTestServer(t)
	paths := []string{"v2/generate/async", "v2/generate/pop", "v2/generate/submit", "v2/generate/text/async",
		"v2/generate/text/pop", "v2/generate/text/submit", "v2/interrogate/async", "v2/interrogate/pop",
		"v2/interrogate/submit", "v2/kudos/transfer"}
	bodies := []string{"", "null", "[]", `"x"`, "{", `{"params": []}`, `{"prompt": 5}`, `{"models": "x"}`,
		`{"name": 3}`, `{"id": []}`, `{"prompt":"a\u0000b"}`, `{"forms": [{"name": "nope"}]}`, `{"amount": "lots"}`}
	for _, p := range paths {
		for _, b := range bodies {
			r := call(t, s, "POST", p, keyWorker, b)
			assert.Contains(t, []int{200, 202, 400, 401, 403, 404, 429}, r.status, "%s %q -> %d %s", p, b, r.status, r.raw)
		}
	}
	for _, p := range []string{"v2/generate/check/%2F..", "v2/generate/status/x%00y", "v2/users/-1", "v2/workers/%20", "v2/status/models?min_count=x"} {
		r := call(t, s, "GET", p, "", nil)
		assert.Less(t, r.status, 500, "%s -> %d", p, r.status)
	}
	require.Equal(t, 200, call(t, s, "GET", "v2/status/heartbeat", "", nil).status)
}

func TestWorkerMaintenanceAndUpfront(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))
	require.Equal(t, 200, popImage(t, s, nil).status)
	require.True(t, s.SetWorkerMaintenance("w1", true))
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
	p := popImage(t, s, nil)
	assert.Equal(t, 403, p.status)
	assert.Equal(t, "WorkerMaintenance", p.str("rc"))
	s.SetWorkerMaintenance("w1", false)

	// require_upfront_kudos: bob (50 kudos, floor 25) cannot afford K on a refreshing pop.
	clk.Advance(31 * time.Second)
	require.True(t, s.SetKudos(keyAlice, 20))
	p = popImage(t, s, map[string]any{"require_upfront_kudos": true})
	require.Empty(t, p.str("id"), string(p.raw))
	assert.Equal(t, 1.0, p.body["skipped"].(map[string]any)["kudos"])
	// Within 30 s the flag is not stored: it reads false (server quirk).
	p = popImage(t, s, map[string]any{"require_upfront_kudos": true})
	assert.NotEmpty(t, p.str("id"))
}

func TestExpiredIntrospection(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk), WithRequestExpiry(time.Minute))
	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"}).str("id")
	clk.Advance(time.Minute + time.Second)
	assert.Equal(t, []string{a}, s.Expired())
	assert.Empty(t, s.Requests())
}

// Many clients and workers at once: every job is submitted exactly once (run with -race).
func TestConcurrentClientsAndWorkers(t *testing.T) {
	s := newTestServer(t, WithUser(User{Name: "many", APIKey: "many-key-0005", Kudos: 1e6, Concurrency: 1000}))
	const clients, perClient, workers = 4, 10, 3
	var wg sync.WaitGroup
	ids := make(chan string, clients*perClient)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				r := call(t, s, "POST", "v2/generate/async", "many-key-0005", map[string]any{"prompt": "x", "r2": false})
				if r.status == 202 {
					ids <- r.str("id")
				}
			}
		}()
	}
	total := int64(clients * perClient)
	var submitted atomic.Int64
	allDone := make(chan struct{})
	var once sync.Once
	var wwg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			name := fmt.Sprintf("cw%d", w)
			for {
				select {
				case <-allDone:
					return
				default:
				}
				p := popImage(t, s, map[string]any{"name": name, "amount": 3})
				if p.str("id") == "" {
					continue
				}
				for _, j := range p.body["ids"].([]any) {
					call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": j, "generation": "R2", "seed": 1})
					if submitted.Add(1) == total {
						once.Do(func() { close(allDone) })
					}
				}
			}
		}()
	}
	wg.Wait()
	close(ids)
	select {
	case <-allDone:
	case <-time.After(30 * time.Second):
		once.Do(func() { close(allDone) })
		t.Error("workers did not drain the queue in time")
	}
	wwg.Wait()
	n := 0
	for id := range ids {
		n++
		info, ok := s.Request(id)
		require.True(t, ok)
		require.Len(t, info.Jobs, 1)
		assert.Equal(t, 1, info.Jobs[0].Submits)
		assert.Equal(t, 1, info.Jobs[0].SubmitAttempts)
	}
	assert.Equal(t, clients*perClient, n)
}

func TestStyleNotFound(t *testing.T) {
	s := newTestServer(t)
	for _, p := range []string{"v2/generate/async", "v2/generate/text/async"} {
		r := call(t, s, "POST", p, keyAlice, map[string]any{"prompt": "x", "style": "my-style"})
		require.Equal(t, 404, r.status, p)
		assert.Equal(t, "StyleNotFound", r.str("rc"))
	}
}

func TestWorkerAutoMaintenanceAfterDrops(t *testing.T) {
	s := newTestServer(t, WithUser(User{Name: "many", APIKey: "many-key-0005", Kudos: 1e6, Concurrency: 1000}))
	for i := 0; i < 21; i++ {
		call(t, s, "POST", "v2/generate/async", "many-key-0005", map[string]any{"prompt": "x", "r2": false})
		p := popImage(t, s, nil)
		require.NotEmpty(t, p.str("id"), "drop %d: %s", i, p.raw)
		call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "", "seed": 0, "state": "faulted"})
	}
	w := call(t, s, "GET", "v2/workers/name/w1", "", nil)
	assert.Equal(t, true, w.body["maintenance_mode"])
	p := popImage(t, s, nil)
	assert.Equal(t, "WorkerMaintenance", p.str("rc"))
}

// The queue is ordered by the requester's kudos at activation (+50 per 10 s waited), then age.
func TestQueuePriorityByKudos(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))
	poor := call(t, s, "POST", "v2/generate/async", keyBob, map[string]any{"prompt": "x", "r2": false}).str("id")
	rich := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false}).str("id")
	assert.Equal(t, []string{rich, poor}, s.Queued("image"), "1000 kudos beat 50")
	// After 200 s (20 bumps of 50) bob's 50 kudos count as 1050 and beat alice's fresh 1000.
	late := call(t, s, "POST", "v2/generate/async", keyBob, map[string]any{"prompt": "x", "r2": false}).str("id")
	clk.Advance(200 * time.Second)
	newer := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false}).str("id")
	assert.Equal(t, []string{rich, poor, late, newer}, s.Queued("image"))
}

func TestWorkerPut(t *testing.T) {
	s := newTestServer(t, WithUser(User{Name: "mod", APIKey: "mod-key-000004", Moderator: true}))
	popImage(t, s, nil)
	id := call(t, s, "GET", "v2/workers/name/w1", "", nil).str("id")
	tests := []struct {
		name   string
		key    string
		body   map[string]any
		status int
		rc     string
	}{
		{"not owner", keyAlice, map[string]any{"maintenance": true}, 403, "NotOwner"},
		{"pause needs mod", keyWorker, map[string]any{"paused": true}, 403, "NotModerator"},
		{"nothing", keyWorker, map[string]any{}, 400, "NoWorkerModSelected"},
		{"bad key", "nope", map[string]any{"maintenance": true}, 401, "InvalidAPIKey"},
		{"unknown team", keyWorker, map[string]any{"team": "t"}, 404, "TeamNotFound"},
		{"maintenance", keyWorker, map[string]any{"maintenance": true, "maintenance_msg": "brb"}, 200, ""},
		{"mod pauses", "mod-key-000004", map[string]any{"paused": true}, 200, ""},
		{"rename", keyWorker, map[string]any{"name": "w1-renamed"}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "PUT", "v2/workers/"+id, tc.key, tc.body)
			require.Equal(t, tc.status, r.status, string(r.raw))
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
	assert.Equal(t, 404, call(t, s, "PUT", "v2/workers/nope", keyWorker, map[string]any{"maintenance": true}).status)
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
	p := popImage(t, s, map[string]any{"name": "w1-renamed"})
	assert.Equal(t, "WorkerMaintenance", p.str("rc"))
	assert.Equal(t, "brb", p.str("message"))
}

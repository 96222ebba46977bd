package hordetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIPTimeoutOperations(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, modUser(), WithClock(clk))
	tests := []struct {
		name, method, path, key string
		body                    any
		status                  int
		rc                      string
	}{
		{"add without hours", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "192.0.2.1"}, 400, ""},
		{"add for too long", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "192.0.2.1", "hours": 721}, 400, ""},
		{"add a short address", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "1.2.3", "hours": 1}, 400, ""},
		{"add without a key", "POST", "v2/operations/ipaddr", "", map[string]any{"ipaddr": "192.0.2.1", "hours": 1}, 400, ""},
		{"add a bad address", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "192.0.2.300", "hours": 1}, 400, "BadRequest"},
		{"a bad address before the key check", "POST", "v2/operations/ipaddr", keyAlice, map[string]any{"ipaddr": "192.0.2.300", "hours": 1}, 400, "BadRequest"},
		{"a CIDR with host bits crashes", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "192.0.2.1/24", "hours": 1}, 500, ""},
		{"a bad prefix length crashes", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "192.0.2.0/33", "hours": 1}, 500, ""},
		{"a bad CIDR", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "abcdefg/24", "hours": 1}, 400, "BadRequest"},
		{"add by a user", "POST", "v2/operations/ipaddr", keyAlice, map[string]any{"ipaddr": "192.0.2.1", "hours": 1}, 403, "NotModerator"},
		{"add by a bad key", "POST", "v2/operations/ipaddr", "nope", map[string]any{"ipaddr": "192.0.2.1", "hours": 1}, 401, "InvalidAPIKey"},
		{"add an address", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "192.0.2.1", "hours": 1}, 200, ""},
		{"add a block", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "198.51.100.0/24", "hours": 2}, 200, ""},
		{"add an IPv6 block", "POST", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "2001:db8::/64", "hours": 3}, 200, ""},
		{"look up a CIDR while blocks exist crashes", "GET", "v2/operations/ipaddr/198.51.100.0%2F24", keyMod, nil, 500, ""},
		{"look up a bad address", "GET", "v2/operations/ipaddr/nowhere", keyMod, nil, 400, "BadRequest"},
		{"look up by a user", "GET", "v2/operations/ipaddr/192.0.2.1", keyAlice, nil, 403, "NotModerator"},
		{"remove a bad address", "DELETE", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "192.0.2.300"}, 400, "BadRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
	clk.Advance(10 * time.Second)
	list := call(t, s, "GET", "v2/operations/ipaddr", keyMod, nil)
	assert.Equal(t, []any{
		map[string]any{"ipaddr": "198.51.100.0/24", "seconds": 7190.0},
		map[string]any{"ipaddr": "2001:db8::/64", "seconds": 10790.0},
	}, list.list, "the list shows blocks only")
	one := call(t, s, "GET", "v2/operations/ipaddr/198.51.100.9", keyMod, nil)
	assert.Equal(t, []any{map[string]any{"ipaddr": "198.51.100.0/24", "seconds": 7190.0}}, one.list)
	direct := call(t, s, "GET", "v2/operations/ipaddr/192.0.2.1", keyMod, nil)
	assert.Equal(t, []any{map[string]any{"ipaddr": "192.0.2.1", "seconds": 3590.0}}, direct.list)

	for _, ip := range []string{"192.0.2.1", "198.51.100.9", "2001:db8::5"} {
		r := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"}, "X-Forwarded-For", ip)
		assert.Equal(t, "TimeoutIP", r.str("rc"), ip)
		assert.Equal(t, 403, r.status)
	}
	chk := call(t, s, "GET", "v2/generate/check/nope", "", nil, "X-Forwarded-For", "192.0.2.1")
	assert.Equal(t, "Forbidden", chk.str("rc"), "checks from an address in timeout need a client agent")
	chk = call(t, s, "GET", "v2/generate/check/nope", "", nil, "X-Forwarded-For", "192.0.2.1", "Client-Agent", "app:1:me")
	assert.Equal(t, "RequestNotFound", chk.str("rc"))
	w := popImage(t, s, nil)
	require.Equal(t, 200, w.status)
	blocked := call(t, s, "POST", "v2/generate/pop", keyWorker, map[string]any{"name": "w9", "models": []string{"stable_diffusion"}},
		"X-Forwarded-For", "198.51.100.20")
	assert.Equal(t, "TimeoutIP", blocked.str("rc"), "workers are refused too")

	call(t, s, "DELETE", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "192.0.2.1"})
	call(t, s, "DELETE", "v2/operations/ipaddr", keyMod, map[string]any{"ipaddr": "198.51.100.0/24"})
	for _, ip := range []string{"192.0.2.1", "198.51.100.9"} {
		r := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"}, "X-Forwarded-For", ip)
		assert.Equal(t, 202, r.status, "%s: %s", ip, r.raw)
	}
	clk.Advance(3 * time.Hour)
	assert.Empty(t, call(t, s, "GET", "v2/operations/ipaddr", keyMod, nil).list, "timeouts run out")
}

func TestBlockWorkerIP(t *testing.T) {
	s := newTestServer(t, modUser())
	for _, p := range []struct{ name, ip string }{{"v4", "192.0.2.7"}, {"v6", "2001:db8:1:2::9"}} {
		r := call(t, s, "POST", "v2/generate/pop", keyWorker, map[string]any{"name": p.name, "models": []string{"stable_diffusion"},
			"bridge_agent": "AI Horde Worker reGen:13.0.0:https://example.org"}, "X-Forwarded-For", p.ip)
		require.Equal(t, 200, r.status, "%s", r.raw)
	}
	v4 := call(t, s, "GET", "v2/workers/name/v4", "", nil).str("id")
	v6 := call(t, s, "GET", "v2/workers/name/v6", "", nil).str("id")
	tests := []struct {
		name, method, id, key string
		body                  any
		status                int
		rc                    string
	}{
		{"no days", "PUT", v4, keyMod, map[string]any{}, 400, ""},
		{"too many days", "PUT", v4, keyMod, map[string]any{"days": 31}, 400, ""},
		{"by a user", "PUT", v4, keyAlice, map[string]any{"days": 1}, 403, "NotModerator"},
		{"unknown worker", "PUT", "00000000-0000-4000-8000-000000000000", keyMod, map[string]any{"days": 1}, 404, "WorkerNotFound"},
		{"block v4", "PUT", v4, keyMod, map[string]any{"days": 1}, 200, ""},
		{"block v6", "PUT", v6, keyMod, map[string]any{"days": 2}, 200, ""},
		{"unblock by a user", "DELETE", v4, keyAlice, nil, 403, "NotModerator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, "v2/operations/block_worker_ipaddr/"+tc.id, tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
	assert.Equal(t, []any{map[string]any{"ipaddr": "2001:db8:1:2::/64", "seconds": 172800.0}},
		call(t, s, "GET", "v2/operations/ipaddr", keyMod, nil).list, "an IPv6 worker's /64 is blocked")
	one := call(t, s, "GET", "v2/operations/ipaddr/192.0.2.7", keyMod, nil)
	assert.Equal(t, []any{map[string]any{"ipaddr": "192.0.2.7", "seconds": 86400.0}}, one.list)
	r := call(t, s, "POST", "v2/generate/pop", keyWorker, map[string]any{"name": "v4", "models": []string{"stable_diffusion"}}, "X-Forwarded-For", "192.0.2.7")
	assert.Equal(t, "TimeoutIP", r.str("rc"))
	assert.Equal(t, 200, call(t, s, "DELETE", "v2/operations/block_worker_ipaddr/"+v4, keyMod, nil).status)
	assert.Equal(t, 200, call(t, s, "DELETE", "v2/operations/block_worker_ipaddr/"+v6, keyMod, nil).status)
	assert.Empty(t, call(t, s, "GET", "v2/operations/ipaddr", keyMod, nil).list)
	r = call(t, s, "POST", "v2/generate/pop", keyWorker, map[string]any{"name": "v4", "models": []string{"stable_diffusion"}}, "X-Forwarded-For", "192.0.2.7")
	assert.Equal(t, 200, r.status, "%s", r.raw)
}

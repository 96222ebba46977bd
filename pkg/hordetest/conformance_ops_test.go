package hordetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// driveOperations exercises, for TestConformanceEveryOperation, the operations on teams,
// shared keys, users and workers (moderation), worker messages, filters, IP timeouts,
// documents, horde modes, kudos awards and aesthetics: successes and errors.
func driveOperations(t *testing.T, s *Server, clk *FakeClock, step func(method, path, key string, body any, want int) resp) {
	t.Helper()
	const mod, admin = "mod-key-000004", "admin-key-0005"
	_, err := s.AddUser(User{Name: "admin", APIKey: admin, Admin: true, Moderator: true})
	require.NoError(t, err)
	none := "00000000-0000-4000-8000-000000000000"
	w1 := step("GET", "v2/workers/name/w1", "", nil, 200).str("id")
	require.NotEmpty(t, w1)

	// Teams.
	tm := step("POST", "v2/teams", keyWorker, map[string]any{"name": "Direct Action", "info": "mutual aid"}, 200).str("id")
	step("POST", "v2/teams", keyAlice, map[string]any{"name": "Untrusted"}, 403)
	step("POST", "v2/teams", keyWorker, map[string]any{"name": "direct action"}, 400)
	step("POST", "v2/teams", keyWorker, map[string]any{"name": "ab"}, 400)
	step("PUT", "v2/workers/"+w1, keyWorker, map[string]any{"team": tm}, 200)
	step("PUT", "v2/workers/"+w1, keyWorker, map[string]any{"team": none}, 404)
	step("GET", "v2/teams", "", nil, 200)
	step("GET", "v2/teams/"+tm, "", nil, 200)
	step("GET", "v2/teams/"+tm, keyAlice, nil, 403)
	step("GET", "v2/teams/"+none, "", nil, 404)
	step("PATCH", "v2/teams/"+tm, keyWorker, map[string]any{"info": "new info", "name": "Direct Action II"}, 200)
	step("PATCH", "v2/teams/"+tm, keyAlice, map[string]any{"info": "not mine"}, 403)
	step("PATCH", "v2/teams/"+tm, keyWorker, map[string]any{}, 400)
	step("DELETE", "v2/teams/"+tm, keyAlice, nil, 403)
	step("DELETE", "v2/teams/"+tm, mod, nil, 200)
	step("DELETE", "v2/teams/"+tm, mod, nil, 404)

	// Shared keys, also as generation keys.
	sk := step("PUT", "v2/sharedkeys", keyAlice, map[string]any{"kudos": 100, "name": "friends", "expiry": 30, "max_image_steps": 40}, 200).str("id")
	step("PUT", "v2/sharedkeys", AnonymousAPIKey, map[string]any{}, 403)
	step("GET", "v2/sharedkeys/"+sk, "", nil, 200)
	step("GET", "v2/sharedkeys/"+none, "", nil, 401)
	step("PATCH", "v2/sharedkeys/"+sk, keyAlice, map[string]any{"kudos": 200}, 200)
	step("PATCH", "v2/sharedkeys/"+sk, keyBob, map[string]any{"kudos": 200}, 403)
	step("PATCH", "v2/sharedkeys/"+sk, keyAlice, map[string]any{}, 400)
	clk.Advance(time.Second)
	step("POST", "v2/generate/async", sk, map[string]any{"prompt": "x", "params": map[string]any{"steps": 50}}, 400)
	step("POST", "v2/generate/async", sk, map[string]any{"prompt": "x", "params": map[string]any{"steps": 20}}, 202)
	step("GET", "v2/find_user", sk, nil, 200)
	step("DELETE", "v2/sharedkeys/"+sk, keyBob, nil, 403)
	step("DELETE", "v2/sharedkeys/"+sk, keyAlice, nil, 200)
	step("DELETE", "v2/sharedkeys/"+sk, keyAlice, nil, 401)

	// Users and workers.
	step("PUT", "v2/users/2", mod, map[string]any{"trusted": true, "worker_invited": 2, "vpn": true}, 200)
	step("PUT", "v2/users/2", keyAlice, map[string]any{"trusted": true}, 403)
	step("PUT", "v2/users/2", admin, map[string]any{"kudos": 10, "moderator": false}, 200)
	step("PUT", "v2/users/2", mod, map[string]any{"kudos": 10}, 403)
	step("PUT", "v2/users/2", keyBob, map[string]any{"contact": "bob@example.org", "public_workers": true}, 200)
	step("PUT", "v2/users/2", keyBob, map[string]any{}, 400)
	step("PUT", "v2/users/2", keyBob, map[string]any{"username": "x"}, 400)
	step("PUT", "v2/users/999", mod, map[string]any{"trusted": true}, 404)
	step("DELETE", "v2/users/2", keyAlice, nil, 403)
	step("DELETE", "v2/users/4", keyAlice, nil, 403)
	step("DELETE", "v2/users/abc", keyAlice, nil, 404)
	step("DELETE", "v2/users/2", keyBob, nil, 200)
	step("DELETE", "v2/users/2", keyBob, nil, 403)
	step("PUT", "v2/users/2", keyBob, map[string]any{"undelete": true}, 200)
	w2 := popImage(t, s, map[string]any{"name": "w2", "max_pixels": 64 * 64}) // takes no job: it must stay deletable
	require.Equal(t, 200, w2.status, "%s", w2.raw)
	w2id := step("GET", "v2/workers/name/w2", "", nil, 200).str("id")
	step("DELETE", "v2/workers/"+w2id, keyBob, nil, 403)
	step("DELETE", "v2/workers/"+w2id, keyWorker, nil, 200)
	step("DELETE", "v2/workers/"+w2id, keyWorker, nil, 404)
	step("DELETE", "v2/workers/"+w1, keyWorker, nil, 423)

	// Worker messages, delivered in pops.
	msg := step("POST", "v2/workers/messages", keyWorker, map[string]any{"worker_id": w1, "message": "hello", "expiry": 2}, 200).str("id")
	step("POST", "v2/workers/messages", keyAlice, map[string]any{"worker_id": w1, "message": "hi", "expiry": 2}, 403)
	step("POST", "v2/workers/messages", keyWorker, map[string]any{"worker_id": none, "message": "x", "expiry": 1}, 404)
	step("POST", "v2/workers/messages", keyWorker, map[string]any{"worker_id": w1, "message": ""}, 400)
	step("GET", "v2/workers/messages", keyWorker, nil, 200)
	step("GET", "v2/workers/messages?validity=all&worker_id="+w1, mod, nil, 200)
	step("GET", "v2/workers/messages?user_id=3", keyWorker, nil, 403)
	step("GET", "v2/workers/messages?validity=old", mod, nil, 400)
	step("GET", "v2/workers/messages/"+msg, "", nil, 200)
	step("GET", "v2/workers/messages/"+none, "", nil, 404)
	p := popImage(t, s, nil)
	assert.Len(t, p.body["messages"], 1)
	step("DELETE", "v2/workers/messages/"+msg, keyAlice, nil, 403)
	step("DELETE", "v2/workers/messages/"+msg, keyWorker, nil, 200)

	// Filters and the prompt check.
	f := step("PUT", "v2/filters", mod, map[string]any{"regex": "badword", "filter_type": 10, "replacement": "goodword"}, 200).str("id")
	step("PUT", "v2/filters", mod, map[string]any{"regex": "evil", "filter_type": 11}, 200)
	step("PUT", "v2/filters", mod, map[string]any{"regex": "worse", "filter_type": 20, "description": "second group"}, 200)
	step("PUT", "v2/filters", keyAlice, map[string]any{"regex": "x", "filter_type": 10}, 403)
	step("PUT", "v2/filters", mod, map[string]any{"regex": "x", "filter_type": 5}, 400)
	step("GET", "v2/filters", mod, nil, 200)
	step("GET", "v2/filters?filter_type=10&contains=bad", mod, nil, 200)
	step("GET", "v2/filters", keyAlice, nil, 403)
	check := step("POST", "v2/filters", mod, map[string]any{"prompt": "a badword, worse"}, 200)
	assert.Equal(t, "2", check.str("suspicion"))
	step("POST", "v2/filters", mod, map[string]any{}, 400)
	step("GET", "v2/filters/regex", mod, nil, 200)
	step("GET", "v2/filters/regex?filter_type=10", keyAlice, nil, 403)
	step("GET", "v2/filters/"+f, mod, nil, 200)
	step("GET", "v2/filters/999", mod, nil, 404)
	step("PATCH", "v2/filters/"+f, mod, map[string]any{"description": "swap it"}, 200)
	step("PATCH", "v2/filters/"+f, mod, map[string]any{}, 400)

	// IP timeouts: a refused prompt puts its address into timeout.
	far := []string{"X-Forwarded-For", "198.51.100.7"}
	clk.Advance(time.Second)
	r := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "badword worse", "replacement_filter": false}, far...)
	assert.Equal(t, 400, r.status, "%s", r.raw)
	step("GET", "v2/operations/ipaddr/198.51.100.7", mod, nil, 200)
	step("DELETE", "v2/filters/"+f, mod, nil, 200)
	step("DELETE", "v2/filters/"+f, mod, nil, 404)
	step("POST", "v2/operations/ipaddr", mod, map[string]any{"ipaddr": "198.51.100.0/24", "hours": 1}, 200)
	step("POST", "v2/operations/ipaddr", mod, map[string]any{"ipaddr": "203.0.113.5", "hours": 2}, 200)
	step("POST", "v2/operations/ipaddr", mod, map[string]any{"ipaddr": "not.an.ip", "hours": 1}, 400)
	step("POST", "v2/operations/ipaddr", keyAlice, map[string]any{"ipaddr": "203.0.113.5", "hours": 1}, 403)
	step("GET", "v2/operations/ipaddr", mod, nil, 200)
	step("GET", "v2/operations/ipaddr", keyAlice, nil, 403)
	step("GET", "v2/operations/ipaddr/bad.ip.addr", mod, nil, 400)
	clk.Advance(time.Second)
	r = call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"}, "X-Forwarded-For", "203.0.113.5")
	assert.Equal(t, 403, r.status, "%s", r.raw)
	step("DELETE", "v2/operations/ipaddr", mod, map[string]any{"ipaddr": "203.0.113.5"}, 200)
	step("DELETE", "v2/operations/ipaddr", mod, map[string]any{"ipaddr": "bad.ip.addr"}, 400)
	step("PUT", "v2/operations/block_worker_ipaddr/"+w1, mod, map[string]any{"days": 1}, 200)
	step("DELETE", "v2/operations/block_worker_ipaddr/"+w1, mod, nil, 200)
	step("PUT", "v2/operations/block_worker_ipaddr/"+w1, keyAlice, map[string]any{"days": 1}, 403)
	step("PUT", "v2/operations/block_worker_ipaddr/"+w1, mod, map[string]any{"days": 0}, 400)
	step("DELETE", "v2/operations/block_worker_ipaddr/"+none, mod, nil, 404)

	// Documents, modes, awards, aesthetics.
	for _, d := range []string{"terms", "privacy", "sponsors"} {
		step("GET", "v2/documents/"+d, "", nil, 200)
		step("GET", "v2/documents/"+d+"?format=markdown", "", nil, 200)
		step("GET", "v2/documents/"+d+"?format=pdf", "", nil, 400)
	}
	step("PUT", "v2/status/modes", admin, map[string]any{"maintenance_mode": false, "invite_only_mode": false, "raid_mode": false}, 200)
	step("PUT", "v2/status/modes", mod, map[string]any{"maintenance_mode": true}, 403)
	step("PUT", "v2/status/modes", mod, map[string]any{}, 400)
	step("POST", "v2/kudos/award", keyAlice, map[string]any{"username": "bob#2", "amount": 5}, 200)
	step("POST", "v2/kudos/award", keyBob, map[string]any{"username": "alice#1"}, 403)
	step("POST", "v2/kudos/award", keyAlice, map[string]any{"username": "nobody#999"}, 400)
	step("POST", "v2/generate/rate/"+none, "", map[string]any{"best": none}, 404)
	step("POST", "v2/generate/rate/"+none, "", map[string]any{"ratings": []map[string]any{{"id": none, "rating": 11}}}, 400)
}

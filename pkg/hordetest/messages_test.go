package hordetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkerMessagePost(t *testing.T) {
	s := newTestServer(t, modUser())
	popImage(t, s, nil)
	w1 := call(t, s, "GET", "v2/workers/name/w1", "", nil).str("id")
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'o'
	}
	tests := []struct {
		name, key string
		body      map[string]any
		status    int
		rc        string
	}{
		{"no message", keyWorker, map[string]any{"worker_id": w1, "expiry": 1}, 400, ""},
		{"empty message", keyWorker, map[string]any{"worker_id": w1, "message": "", "expiry": 1}, 400, ""},
		{"long origin", keyMod, map[string]any{"worker_id": w1, "message": "m", "origin": string(long), "expiry": 1}, 400, ""},
		{"short worker id", keyWorker, map[string]any{"worker_id": "abc", "message": "m", "expiry": 1}, 400, ""},
		{"expiry over 30 days", keyWorker, map[string]any{"worker_id": w1, "message": "m", "expiry": 721}, 400, ""},
		{"missing key", "", map[string]any{"worker_id": w1, "message": "m", "expiry": 1}, 400, ""},
		{"bad key", "nope", map[string]any{"worker_id": w1, "message": "m", "expiry": 1}, 401, "InvalidAPIKey"},
		{"anonymous", AnonymousAPIKey, map[string]any{"worker_id": w1, "message": "m", "expiry": 1}, 403, "AnonForbidden"},
		{"unknown worker", keyWorker, map[string]any{"worker_id": "00000000-0000-4000-8000-000000000000", "message": "m", "expiry": 1}, 404, "WorkerNotFound"},
		{"someone else's worker", keyAlice, map[string]any{"worker_id": w1, "message": "m", "expiry": 1}, 403, "MessagesOnlyOwnWorkers"},
		{"no worker from a non-moderator crashes", keyAlice, map[string]any{"message": "m", "expiry": 1}, 500, ""},
		{"no expiry crashes", keyWorker, map[string]any{"worker_id": w1, "message": "m"}, 500, ""},
		{"owner", keyWorker, map[string]any{"worker_id": w1, "message": "m", "origin": "ignored", "expiry": 1}, 200, ""},
		{"moderator", keyMod, map[string]any{"worker_id": w1, "message": "m", "expiry": 1}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "POST", "v2/workers/messages", tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
			switch tc.name {
			case "owner":
				assert.Equal(t, "3", r.str("origin"), "a non-moderator's origin is their id")
				assert.Equal(t, "3", r.str("user_id"))
				assert.Equal(t, w1, r.str("worker_id"))
			case "moderator":
				assert.Equal(t, "AI Horde Moderators", r.str("origin"))
			}
		})
	}
}

func TestWorkerMessageListAndDelivery(t *testing.T) {
	clk := NewFakeClock(t0)
	// A broadcast message has no worker_id and worker details list messages without ids, as
	// the server sends them (the converter's fix-ups say so).
	s := newTestServer(t, modUser(), WithClock(clk))
	popImage(t, s, nil)
	popText(t, s, nil)
	w1 := call(t, s, "GET", "v2/workers/name/w1", "", nil).str("id")
	clk.Advance(time.Hour)
	own := call(t, s, "POST", "v2/workers/messages", keyWorker, map[string]any{"worker_id": w1, "message": "to w1", "expiry": 1})
	require.Equal(t, 200, own.status, "%s", own.raw)
	assert.Equal(t, "Sat, 28 Nov 2026 12:00:00 -0000", own.str("created"), "created is when the server started (the column default is evaluated once)")
	all := call(t, s, "POST", "v2/workers/messages", keyMod, map[string]any{"message": "to everyone", "expiry": 3, "origin": "mods"})
	require.Equal(t, 200, all.status, "%s", all.raw)
	assert.NotContains(t, all.body, "worker_id")
	call(t, s, "POST", "v2/workers/messages", keyMod, map[string]any{"worker_id": w1, "message": "short", "expiry": 1})

	ip := popImage(t, s, nil)
	assert.Len(t, ip.body["messages"], 3)
	tp := popText(t, s, nil)
	require.Len(t, tp.body["messages"], 1, "other workers get the broadcast only")
	m := tp.body["messages"].([]any)[0].(map[string]any)
	assert.Equal(t, "to everyone", m["message"])
	assert.Equal(t, "mods", m["origin"])
	assert.Equal(t, all.str("id"), m["id"])

	details := call(t, s, "GET", "v2/workers/"+w1, keyMod, nil)
	msgs := details.body["messages"].([]any)
	require.Len(t, msgs, 2, "details list the worker's own messages")
	assert.NotContains(t, msgs[0], "id")
	assert.Equal(t, "3", msgs[0].(map[string]any)["user_id"])

	list := func(key, query string) resp {
		return call(t, s, "GET", "v2/workers/messages"+query, key, nil)
	}
	assert.Len(t, list(keyWorker, "").list, 2, "a user sees their messages and broadcasts")
	assert.Len(t, list(keyMod, "").list, 3)
	assert.Len(t, list(keyMod, "?user_id=3").list, 2)
	assert.Len(t, list(keyMod, "?worker_id="+w1).list, 2)
	assert.Len(t, list(keyMod, "?page=2").list, 2, "pages advance by one message")
	assert.Equal(t, 403, list(keyWorker, "?user_id=3").status, "a non-moderator's user_id never equals their id")
	assert.Equal(t, "BadRequest", list(keyMod, "?validity=soon").str("rc"))
	assert.Equal(t, 400, list(keyMod, "?page=x").status)
	assert.Equal(t, 500, list(keyMod, "?page=0").status)
	assert.Equal(t, 500, list(keyMod, "?worker_id=abc").status)

	clk.Advance(90 * time.Minute)
	assert.Len(t, list(keyMod, "").list, 1)
	assert.Len(t, list(keyMod, "?validity=expired").list, 2)
	assert.Len(t, list(keyMod, "?validity=all").list, 3)
	assert.Len(t, popImage(t, s, nil).body["messages"], 1, "expired messages are not delivered")

	get := call(t, s, "GET", "v2/workers/messages/"+own.str("id"), "", nil)
	assert.Equal(t, "to w1", get.str("message"))
	assert.Equal(t, "WorkermessageNotFound", call(t, s, "GET", "v2/workers/messages/00000000-0000-4000-8000-000000000000", "", nil).str("rc"))
	assert.Equal(t, 500, call(t, s, "GET", "v2/workers/messages/abc", "", nil).status)
	assert.Equal(t, "Forbidden", call(t, s, "DELETE", "v2/workers/messages/"+own.str("id"), keyAlice, nil).str("rc"))
	assert.Equal(t, 400, call(t, s, "DELETE", "v2/workers/messages/"+own.str("id"), "", nil).status)
	assert.Equal(t, 200, call(t, s, "DELETE", "v2/workers/messages/"+own.str("id"), keyWorker, nil).status)
	assert.Equal(t, 200, call(t, s, "DELETE", "v2/workers/messages/"+all.str("id"), keyMod, nil).status)
	assert.Equal(t, 404, call(t, s, "DELETE", "v2/workers/messages/"+all.str("id"), keyMod, nil).status)
}

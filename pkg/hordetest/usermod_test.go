package hordetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const keyAdmin = "admin-key-0005"

func TestUserPut(t *testing.T) {
	s := newTestServer(t, modUser(), WithUser(User{Name: "admin", APIKey: keyAdmin, Admin: true}))
	tests := []struct {
		name, key, user string
		body            map[string]any
		status          int
		rc              string
		want            map[string]any
	}{
		{"unknown user", keyMod, "999", map[string]any{"trusted": true}, 404, "UserNotFound", nil},
		{"missing key", "", "2", map[string]any{"trusted": true}, 400, "", nil},
		{"bad key", "nope", "2", map[string]any{"trusted": true}, 401, "InvalidAPIKey", nil},
		{"schema first", keyMod, "2", map[string]any{"concurrency": 501}, 400, "", nil},
		{"kudos needs an admin", keyMod, "2", map[string]any{"kudos": 5}, 403, "NotAdmin", nil},
		{"admin kudos", keyAdmin, "2", map[string]any{"kudos": 5.9, "monthly_kudos": 10, "usage_multiplier": 2}, 200, "",
			map[string]any{"new_kudos": 55.0, "monthly_kudos": 10.0, "usage_multiplier": 2.0}},
		{"admin makes a moderator, who is trusted", keyAdmin, "2", map[string]any{"moderator": true}, 200, "", map[string]any{"moderator": true}},
		{"roles need a moderator", keyAlice, "2", map[string]any{"customizer": true}, 403, "NotModerator", nil},
		{"moderator roles", keyMod, "1", map[string]any{"worker_invited": 3, "customizer": true, "vpn": true, "service": true, "special": true, "flagged": false}, 200, "",
			map[string]any{"worker_invited": 3.0, "customizer": true, "vpn": true, "service": true, "special": true, "flagged": false}},
		{"education raises concurrency", keyMod, "1", map[string]any{"education": true}, 200, "", map[string]any{"education": true, "concurrency": 200.0}},
		{"and lowers it back", keyMod, "1", map[string]any{"education": false}, 200, "", map[string]any{"education": false, "concurrency": 30.0}},
		{"reset suspicion", keyMod, "1", map[string]any{"reset_suspicion": false}, 200, "", map[string]any{"new_suspicion": 0.0}},
		{"admin comment", keyMod, "1", map[string]any{"admin_comment": "looks fine"}, 200, "", map[string]any{"admin_comment": "looks fine"}},
		{"self settings", keyAlice, "1", map[string]any{"public_workers": true, "username": "Alicia", "contact": "a@example.org"}, 200, "",
			map[string]any{"public_workers": true, "username": "Alicia", "contact": "a@example.org"}},
		{"not someone else's", keyWorker, "1", map[string]any{"contact": "b@example.org"}, 403, "NotModerator", nil},
		{"username too long", keyAlice, "1", map[string]any{"username": "abcdefghijklmnopqrstuvwxyz012345"}, 400, "TooLongUserName", nil},
		{"proxy passkey needs a service caller", keyBob, "2", map[string]any{"generate_proxy_passkey": true}, 403, "NonServiceForbidden", nil},
		{"undelete a live user", keyAlice, "1", map[string]any{"undelete": true}, 400, "UserNotDeleted", nil},
		{"nothing", keyAlice, "1", map[string]any{}, 400, "NoUserModSelected", nil},
		{"anonymous cannot set its own", AnonymousAPIKey, "0", map[string]any{"public_workers": true}, 403, "AnonForbiddenUserMod", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "PUT", "v2/users/"+tc.user, tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
			for k, v := range tc.want {
				assert.Equal(t, v, r.body[k], k)
			}
		})
	}
	bob := call(t, s, "GET", "v2/users/2", "", nil)
	assert.Equal(t, true, bob.body["moderator"])
	assert.Equal(t, true, bob.body["trusted"])
	assert.EqualValues(t, 65, bob.num("kudos"), "5 from the admin, 10 monthly kudos paid at once")
	alice := call(t, s, "GET", "v2/users/1", keyAlice, nil)
	assert.Equal(t, "Alicia#1", alice.str("username"))
	assert.Equal(t, "a@example.org", alice.str("contact"))
	assert.Equal(t, true, alice.body["service"])
	assert.EqualValues(t, 3, alice.num("worker_invited"))
}

// TestProxyPasskey: the server's passkeys are 22 characters (token_urlsafe(16); the document
// says 16, which the converter repairs).
func TestProxyPasskey(t *testing.T) {
	s := newTestServer(t, modUser())
	call(t, s, "PUT", "v2/users/1", keyMod, map[string]any{"service": true})
	pk := call(t, s, "PUT", "v2/users/1", keyAlice, map[string]any{"generate_proxy_passkey": true})
	require.Equal(t, 200, pk.status, "%s", pk.raw)
	assert.Len(t, pk.str("proxy_passkey"), 22)
}

func TestUserPutKeepsEarlierChanges(t *testing.T) {
	s := newTestServer(t, modUser())
	// trusted comes before public_workers; the mod may do both, alice only the second.
	r := call(t, s, "PUT", "v2/users/2", keyAlice, map[string]any{"public_workers": true, "customizer": true})
	assert.Equal(t, "NotModerator", r.str("rc"))
	r = call(t, s, "PUT", "v2/users/2", keyBob, map[string]any{"concurrency": 3, "public_workers": true})
	assert.Equal(t, "NotModerator", r.str("rc"))
	popImage(t, s, nil)
	wid := call(t, s, "GET", "v2/workers/name/w1", "", nil).str("id")
	call(t, s, "PUT", "v2/workers/"+wid, keyMod, map[string]any{"paused": true})
	r = call(t, s, "PUT", "v2/users/3", keyMod, map[string]any{"trusted": true, "undelete": true})
	assert.Equal(t, "UserNotDeleted", r.str("rc"))
	w := call(t, s, "GET", "v2/workers/"+wid, keyMod, nil)
	assert.Equal(t, false, w.body["paused"], "trust, applied before the refused change, unpaused the worker")
}

func TestUserDelete(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, modUser(), WithClock(clk))
	popImage(t, s, nil)
	key := newKey(t, s, keyWorker, map[string]any{})
	tests := []struct {
		name, key, user string
		status          int
		rc              string
	}{
		{"not a number", keyBob, "bob", 404, "UserNotFound"},
		{"unknown user", keyBob, "999", 404, "UserNotFound"},
		{"bad key", "nope", "2", 401, "InvalidAPIKey"},
		{"no key crashes", "", "2", 500, ""},
		{"anonymous", AnonymousAPIKey, "2", 403, "AnonForbiddenUser"},
		{"a moderator", keyAlice, "4", 403, "CannotDeleteMod"},
		{"someone else", keyAlice, "2", 403, "NotUserOrMod"},
		{"oneself", keyBob, "2", 200, ""},
		{"a moderator deletes", keyMod, "3", 200, ""},
		{"wiping needs 30 quiet days", keyMod, "3", 403, "CannotWipeActiveUser"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "DELETE", "v2/users/"+tc.user, tc.key, nil)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
	again := call(t, s, "DELETE", "v2/users/2", keyBob, nil)
	assert.Equal(t, "You cannot permanently wipe a user that was active in the last 30 days. Try again after 2026-12-28 12:00:00", again.str("message"))
	assert.Equal(t, true, call(t, s, "GET", "v2/users/2", "", nil).body["deleted"])
	assert.Equal(t, "DeletedUser", call(t, s, "POST", "v2/generate/async", keyBob, map[string]any{"prompt": "x"}).str("rc"))
	assert.Equal(t, 200, call(t, s, "PUT", "v2/users/2", keyBob, map[string]any{"undelete": true}).status)
	assert.Equal(t, false, call(t, s, "GET", "v2/users/2", "", nil).body["deleted"])

	clk.Advance(31 * 24 * time.Hour)
	require.Equal(t, 200, call(t, s, "DELETE", "v2/users/3", keyMod, nil).status)
	assert.Equal(t, 404, call(t, s, "GET", "v2/users/3", "", nil).status, "a wiped user is gone")
	assert.Equal(t, 401, call(t, s, "GET", "v2/find_user", keyWorker, nil).status)
	assert.Equal(t, 404, call(t, s, "GET", "v2/workers/name/w1", "", nil).status, "with their workers")
	assert.Equal(t, 401, call(t, s, "GET", "v2/sharedkeys/"+key, "", nil).status, "and shared keys")
	for _, u := range call(t, s, "GET", "v2/users", "", nil).list {
		assert.NotEqual(t, 3.0, u.(map[string]any)["id"])
	}
}

func TestWorkerDelete(t *testing.T) {
	s := newTestServer(t, modUser())
	popImage(t, s, map[string]any{"name": "idle"})
	idle := call(t, s, "GET", "v2/workers/name/idle", "", nil).str("id")
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	require.NotEmpty(t, popImage(t, s, map[string]any{"name": "busy"}).str("id"))
	busy := call(t, s, "GET", "v2/workers/name/busy", "", nil).str("id")
	msg := call(t, s, "POST", "v2/workers/messages", keyWorker, map[string]any{"worker_id": idle, "message": "hi", "expiry": 1}).str("id")
	tests := []struct {
		name, id, key string
		status        int
		rc            string
	}{
		{"unknown", "00000000-0000-4000-8000-000000000000", keyWorker, 404, "WorkerNotFound"},
		{"no key crashes", idle, "", 500, ""},
		{"bad key", idle, "nope", 401, "InvalidAPIKey"},
		{"not the owner", idle, keyAlice, 403, "NotModerator"},
		{"a job still refers to it", busy, keyWorker, 423, "Locked"},
		{"the owner", idle, keyWorker, 200, ""},
		{"gone", idle, keyWorker, 404, "WorkerNotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "DELETE", "v2/workers/"+tc.id, tc.key, nil)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
			if tc.status == 200 {
				assert.Equal(t, tc.id, r.str("deleted_id"))
				assert.Equal(t, "idle", r.str("deleted_name"))
			}
		})
	}
	assert.Equal(t, 404, call(t, s, "GET", "v2/workers/messages/"+msg, "", nil).status, "its messages go with it")
	u := call(t, s, "GET", "v2/users/3", keyWorker, nil)
	assert.Equal(t, []any{busy}, u.body["worker_ids"])
}

func TestUserRolesAtWork(t *testing.T) {
	s := newTestServer(t, modUser())
	set := func(user string, body map[string]any) {
		t.Helper()
		r := call(t, s, "PUT", "v2/users/"+user, keyMod, body)
		require.Equal(t, 200, r.status, "%s", r.raw)
	}
	transfer := func(from, to string) string {
		return call(t, s, "POST", "v2/kudos/transfer", from, map[string]any{"username": to, "amount": 1}).str("rc")
	}
	set("2", map[string]any{"flagged": true})
	assert.Equal(t, "TargetAccountFlagged", transfer(keyAlice, "bob#2"))
	assert.Equal(t, "SourceAccountFlagged", transfer(keyBob, "alice#1"))
	set("2", map[string]any{"flagged": false})
	set("1", map[string]any{"education": true})
	assert.Equal(t, "EducationCannotSendKudos", transfer(keyAlice, "bob#2"))

	// An education account's requests go to trusted workers only.
	r := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "nsfw": true})
	require.Equal(t, 202, r.status, "%s", r.raw)
	bobPop := call(t, s, "POST", "v2/generate/pop", keyBob, map[string]any{"name": "bobs", "models": []string{"stable_diffusion"},
		"bridge_agent": "AI Horde Worker reGen:13.0.0:https://example.org"})
	require.Equal(t, 200, bobPop.status, "%s", bobPop.raw)
	assert.Empty(t, bobPop.str("id"))
	assert.EqualValues(t, 1, bobPop.body["skipped"].(map[string]any)["untrusted"])

	proxied := map[string]any{"prompt": "x", "proxied_account": "someone"}
	assert.Equal(t, "OnlyServiceAccountProxy", call(t, s, "POST", "v2/generate/async", keyBob, proxied).str("rc"))
	set("2", map[string]any{"service": true})
	assert.Equal(t, 202, call(t, s, "POST", "v2/generate/async", keyBob, proxied).status, "service accounts may proxy")
}

func TestUserWipeBlockedByAJob(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, modUser(), WithClock(clk))
	clk.Advance(31 * 24 * time.Hour)
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	require.NotEmpty(t, popImage(t, s, nil).str("id"))
	require.Equal(t, 200, call(t, s, "DELETE", "v2/users/3", keyMod, nil).status)
	r := call(t, s, "DELETE", "v2/users/3", keyMod, nil)
	assert.Equal(t, 500, r.status, "the worker's job keeps it, and the wipe fails: %s", r.raw)
	assert.Equal(t, 200, call(t, s, "GET", "v2/users/3", "", nil).status)
}

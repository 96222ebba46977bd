package hordetest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newKey(t *testing.T, s *Server, owner string, body map[string]any) string {
	t.Helper()
	r := call(t, s, "PUT", "v2/sharedkeys", owner, body)
	require.Equal(t, 200, r.status, "%s", r.raw)
	return r.str("id")
}

func TestSharedKeyCRUD(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))
	def := call(t, s, "PUT", "v2/sharedkeys", keyBob, map[string]any{})
	require.Equal(t, 200, def.status, "%s", def.raw)
	assert.EqualValues(t, 5000, def.num("kudos"))
	assert.EqualValues(t, -1, def.num("max_image_pixels"))
	assert.EqualValues(t, 0, def.num("utilized"))
	assert.Equal(t, "bob#2", def.str("username"))
	assert.NotContains(t, def.body, "expiry")
	assert.NotContains(t, def.body, "name")
	id := def.str("id")
	clk.Advance(time.Minute) // PUT /v2/sharedkeys allows 5 a minute
	tests := []struct {
		name, method, path, key string
		body                    any
		status                  int
		rc                      string
	}{
		{"create without a key", "PUT", "v2/sharedkeys", "", map[string]any{}, 400, ""},
		{"create with a bad key", "PUT", "v2/sharedkeys", "nope", map[string]any{}, 401, "InvalidAPIKey"},
		{"anonymous cannot create", "PUT", "v2/sharedkeys", AnonymousAPIKey, map[string]any{}, 403, "AnonForbidden"},
		{"second", "PUT", "v2/sharedkeys", keyBob, map[string]any{"name": "two"}, 200, ""},
		{"third", "PUT", "v2/sharedkeys", keyBob, map[string]any{"name": "three"}, 200, ""},
		{"untrusted users have 3", "PUT", "v2/sharedkeys", keyBob, map[string]any{}, 403, "Forbidden"},
		{"anyone reads a key", "GET", "v2/sharedkeys/" + id, "", nil, 200, ""},
		{"unknown key", "GET", "v2/sharedkeys/00000000-0000-4000-8000-000000000000", "", nil, 401, "InvalidAPIKey"},
		{"not a uuid", "GET", "v2/sharedkeys/abc", "", nil, 401, "InvalidAPIKey"},
		{"patch without a key", "PATCH", "v2/sharedkeys/" + id, "", map[string]any{"kudos": 1}, 400, ""},
		{"patch an unknown key", "PATCH", "v2/sharedkeys/abc", keyBob, map[string]any{"kudos": 1}, 401, "InvalidAPIKey"},
		{"patch with a bad key", "PATCH", "v2/sharedkeys/" + id, "nope", map[string]any{"kudos": 1}, 401, "InvalidAPIKey"},
		{"patch someone else's", "PATCH", "v2/sharedkeys/" + id, keyAlice, map[string]any{"kudos": 1}, 403, "Forbidden"},
		{"patch nothing", "PATCH", "v2/sharedkeys/" + id, keyBob, map[string]any{}, 400, "NoSharedKeyModSelected"},
		{"patch", "PATCH", "v2/sharedkeys/" + id, keyBob, map[string]any{"kudos": 50, "name": "mine", "max_text_tokens": 100, "expiry": 2}, 200, ""},
		{"a name over 255 characters crashes", "PATCH", "v2/sharedkeys/" + id, keyBob, map[string]any{"name": strings.Repeat("n", 256)}, 500, ""},
		{"delete someone else's", "DELETE", "v2/sharedkeys/" + id, keyAlice, nil, 403, "Forbidden"},
		{"delete", "DELETE", "v2/sharedkeys/" + id, keyBob, nil, 200, ""},
		{"deleted", "GET", "v2/sharedkeys/" + id, "", nil, 401, "InvalidAPIKey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
			if tc.name == "patch" {
				assert.EqualValues(t, 50, r.num("kudos"))
				assert.Equal(t, "mine", r.str("name"))
				assert.EqualValues(t, 100, r.num("max_text_tokens"))
				assert.Equal(t, "Mon, 30 Nov 2026 12:01:00 -0000", r.str("expiry"), "the server's rfc822 dates")
			}
		})
	}
	u := call(t, s, "GET", "v2/users/2", keyBob, nil)
	assert.Len(t, u.body["sharedkey_ids"], 2, "the owner sees their keys")
	assert.Len(t, call(t, s, "GET", "v2/find_user", keyBob, nil).body["sharedkey_ids"], 2, "find_user too")
	assert.Empty(t, call(t, s, "GET", "v2/users/2", "", nil).body["sharedkey_ids"], "others do not")
}

func TestSharedKeyGeneration(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk), WithAutoFulfil(0))
	key := newKey(t, s, keyAlice, map[string]any{"kudos": 100, "name": "friends", "max_image_steps": 40,
		"max_image_pixels": 512 * 768, "max_text_tokens": 64})
	before, _ := s.Kudos(keyAlice)
	gen := func(path string, body map[string]any, k string) resp {
		clk.Advance(time.Second)
		return call(t, s, "POST", path, k, body)
	}
	r := gen("v2/generate/async", map[string]any{"prompt": "x", "params": map[string]any{"steps": 20}}, key)
	require.Equal(t, 202, r.status, "%s", r.raw)
	st := call(t, s, "GET", "v2/generate/status/"+r.str("id"), "", nil)
	require.Equal(t, true, st.body["done"], "%s", st.raw)
	info, _ := s.Request(r.str("id"))
	assert.Equal(t, "alice#1", info.User, "the key's owner is the requester")
	after, _ := s.Kudos(keyAlice)
	assert.InDelta(t, before-info.Kudos, after, 1e-9, "the owner pays")
	k := call(t, s, "GET", "v2/sharedkeys/"+key, "", nil)
	assert.EqualValues(t, int(100-info.Kudos+0.5), k.num("kudos"), "the key's limit shrinks by what was charged")
	assert.EqualValues(t, int(info.Kudos+0.5), k.num("utilized"))

	tests := []struct {
		name, path string
		body       map[string]any
		status     int
		rc, msg    string
	}{
		{"too many steps", "v2/generate/async", map[string]any{"prompt": "x", "params": map[string]any{"steps": 41}}, 400, "BadRequest",
			"This shared key is limited to 40 steps per job. You requested 41 steps."},
		{"too many pixels", "v2/generate/async", map[string]any{"prompt": "x", "params": map[string]any{"width": 768, "height": 768}}, 400, "BadRequest",
			"This shared key is limited to 393216 pixels per job. You requested 589824 pixels."},
		{"too many tokens", "v2/generate/text/async", map[string]any{"prompt": "x", "params": map[string]any{"max_length": 80}}, 400, "BadRequest",
			"This shared key is limited to 64 tokens per job. You requested 80 tokens."},
		{"within the limits", "v2/generate/text/async", map[string]any{"prompt": "x", "params": map[string]any{"max_length": 64}}, 202, "", ""},
		{"beyond the key's kudos", "v2/generate/async", map[string]any{"prompt": "x", "params": map[string]any{"n": 20, "steps": 40}}, 403,
			"SharedKeyInsufficientKudos", ""},
		{"beyond the key's kudos, downgraded", "v2/generate/async", map[string]any{"prompt": "x", "allow_downgrade": true,
			"params": map[string]any{"n": 20, "steps": 40}}, 202, "", ""},
		{"alchemy takes no shared key", "v2/interrogate/async", map[string]any{"source_image": "https://example.org/a.webp",
			"forms": []map[string]any{{"name": "caption"}}}, 401, "InvalidAPIKey", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := gen(tc.path, tc.body, key)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
			if tc.msg != "" {
				assert.Equal(t, tc.msg, r.str("message"))
			}
		})
	}

	call(t, s, "PATCH", "v2/sharedkeys/"+key, keyAlice, map[string]any{"kudos": 0})
	empty := gen("v2/generate/async", map[string]any{"prompt": "x"}, key)
	assert.Equal(t, "SharedKeyEmpty", empty.str("rc"))
	down := gen("v2/generate/async", map[string]any{"prompt": "x", "allow_downgrade": true}, key)
	require.Equal(t, 202, down.status, "%s", down.raw)
	di, _ := s.Request(down.str("id"))
	assert.Equal(t, "Anonymous#0", di.User, "an empty key downgrades to the anonymous user")

	call(t, s, "PATCH", "v2/sharedkeys/"+key, keyAlice, map[string]any{"kudos": -1, "expiry": 0})
	ok := call(t, s, "POST", "v2/generate/async", key, map[string]any{"prompt": "x"})
	assert.Equal(t, 202, ok.status, "expiry 0 ends the key at this instant: %s", ok.raw)
	clk.Advance(time.Second)
	assert.Equal(t, "SharedKeyExpired", gen("v2/generate/async", map[string]any{"prompt": "x"}, key).str("rc"))
}

func TestSharedKeyFindUserTransferDelete(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))
	key := newKey(t, s, keyBob, map[string]any{"kudos": 10, "name": "pals"})
	f := call(t, s, "GET", "v2/find_user", key, nil)
	require.Equal(t, 200, f.status, "%s", f.raw)
	assert.Equal(t, "bob#2 (Shared Key: pals)", f.str("username"))

	tr := call(t, s, "POST", "v2/kudos/transfer", keyAlice, map[string]any{"username": key, "amount": 5})
	require.Equal(t, 200, tr.status, "%s", tr.raw)
	bob, _ := s.Kudos(keyBob)
	assert.Equal(t, 55.0, bob, "a transfer to a key credits its owner")
	assert.EqualValues(t, 15, call(t, s, "GET", "v2/sharedkeys/"+key, "", nil).num("kudos"), "and raises its limit")

	clk.Advance(time.Second)
	r := call(t, s, "POST", "v2/generate/async", key, map[string]any{"prompt": "x", "params": map[string]any{"steps": 10}})
	require.Equal(t, 202, r.status, "%s", r.raw)
	call(t, s, "DELETE", "v2/sharedkeys/"+key, keyBob, nil)
	assert.Equal(t, 404, call(t, s, "GET", "v2/generate/check/"+r.str("id"), "", nil).status, "a key's requests go with it")

	expired := newKey(t, s, keyBob, map[string]any{"expiry": 1})
	clk.Advance(25 * time.Hour)
	late := call(t, s, "POST", "v2/kudos/transfer", keyAlice, map[string]any{"username": expired, "amount": 5})
	assert.Equal(t, "SharedKeyExpired", late.str("rc"))
}

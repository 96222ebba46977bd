package hordetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const keyMod = "mod-key-000004"

func modUser() Option { return WithUser(User{Name: "mod", APIKey: keyMod, Moderator: true}) }

func TestTeamCreate(t *testing.T) {
	s := newTestServer(t, modUser())
	first := call(t, s, "POST", "v2/teams", keyWorker, map[string]any{"name": "  Direct <Action> "})
	require.Equal(t, 200, first.status, "%s", first.raw)
	assert.Equal(t, "Direct &lt;Action&gt;", first.str("name"))
	assert.NotContains(t, first.body, "info")
	tests := []struct {
		name, key string
		body      any
		status    int
		rc        string
		errField  string
	}{
		{"no name", keyWorker, map[string]any{"info": "abc"}, 400, "", "name"},
		{"short name", keyWorker, map[string]any{"name": "ab"}, 400, "", "name"},
		{"short info", keyWorker, map[string]any{"name": "abc", "info": "x"}, 400, "", "info"},
		{"missing key", "", map[string]any{"name": "abc"}, 400, "", "apikey"},
		{"bad key", "nope", map[string]any{"name": "abc"}, 401, "InvalidAPIKey", ""},
		{"anonymous", AnonymousAPIKey, map[string]any{"name": "abc"}, 403, "AnonForbidden", ""},
		{"untrusted", keyAlice, map[string]any{"name": "abc"}, 403, "UntrustedTeamCreation", ""},
		{"name taken, any case", keyWorker, map[string]any{"name": "direct &lt;action&gt;"}, 400, "TeamNameAlreadyExists", ""},
		{"created", keyWorker, map[string]any{"name": "Second", "info": "more"}, 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "POST", "v2/teams", tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
			if tc.errField != "" {
				assert.Contains(t, r.body["errors"], tc.errField)
			}
		})
	}
	list := call(t, s, "GET", "v2/teams", "", nil)
	require.Len(t, list.list, 2)
	assert.Equal(t, "Direct &lt;Action&gt;", list.list[0].(map[string]any)["name"])
	assert.NotContains(t, list.list[0], "info", "a team created without info has none")
	assert.Equal(t, "more", list.list[1].(map[string]any)["info"])
}

func TestTeamWorkersAndCredit(t *testing.T) {
	s := newTestServer(t, modUser())
	id := call(t, s, "POST", "v2/teams", keyWorker, map[string]any{"name": "Crew"}).str("id")
	popImage(t, s, nil)
	wid := call(t, s, "GET", "v2/workers/name/w1", "", nil).str("id")

	bad := call(t, s, "PUT", "v2/workers/"+wid, keyAlice, map[string]any{"team": id})
	assert.Equal(t, "NotModerator", bad.str("rc"))
	missing := call(t, s, "PUT", "v2/workers/"+wid, keyWorker, map[string]any{"team": "not-a-uuid"})
	assert.Equal(t, 404, missing.status)
	assert.Equal(t, "TeamNotFound", missing.str("rc"))
	set := call(t, s, "PUT", "v2/workers/"+wid, keyWorker, map[string]any{"team": id})
	require.Equal(t, 200, set.status, "%s", set.raw)
	assert.Equal(t, "Crew", set.str("team"))
	w := call(t, s, "GET", "v2/workers/"+wid, "", nil)
	assert.Equal(t, map[string]any{"id": id, "name": "Crew"}, w.body["team"])

	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	p := popImage(t, s, nil)
	require.NotEmpty(t, p.str("id"))
	sub := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1})
	require.Equal(t, 200, sub.status, "%s", sub.raw)

	d := call(t, s, "GET", "v2/teams/"+id, "", nil)
	require.Equal(t, 200, d.status, "%s", d.raw)
	assert.Equal(t, "wally#3", d.str("creator"))
	assert.EqualValues(t, 1, d.num("worker_count"))
	assert.EqualValues(t, 1, d.num("requests_fulfilled"))
	assert.Greater(t, d.num("kudos"), 0.0)
	assert.Equal(t, []any{map[string]any{"name": "stable_diffusion", "count": 1.0}}, d.body["models"])
	require.Len(t, d.body["workers"], 1)
	assert.Equal(t, wid, d.body["workers"].([]any)[0].(map[string]any)["id"])

	cleared := call(t, s, "PUT", "v2/workers/"+wid, keyWorker, map[string]any{"team": ""})
	assert.Equal(t, "None", cleared.str("team"))
	assert.EqualValues(t, 0, call(t, s, "GET", "v2/teams/"+id, "", nil).num("worker_count"))
}

func TestTeamSingleModifyDelete(t *testing.T) {
	s := newTestServer(t, modUser())
	id := call(t, s, "POST", "v2/teams", keyWorker, map[string]any{"name": "Alpha"}).str("id")
	call(t, s, "POST", "v2/teams", keyWorker, map[string]any{"name": "Beta"})
	popImage(t, s, nil)
	wid := call(t, s, "GET", "v2/workers/name/w1", "", nil).str("id")
	call(t, s, "PUT", "v2/workers/"+wid, keyWorker, map[string]any{"team": id})
	tests := []struct {
		name, method, key string
		body              any
		status            int
		rc                string
	}{
		{"get with a mod key", "GET", keyMod, nil, 200, ""},
		{"get with another key", "GET", keyAlice, nil, 403, "NotModerator"},
		{"get with a bad key", "GET", "nope", nil, 401, "InvalidAPIKey"},
		{"patch without a key crashes", "PATCH", "", map[string]any{"info": "abc"}, 500, ""},
		{"patch info, not owner", "PATCH", keyAlice, map[string]any{"info": "abc"}, 403, "NotOwner"},
		{"patch name, not owner", "PATCH", keyAlice, map[string]any{"name": "abc"}, 403, "NotModerator"},
		{"patch nothing", "PATCH", keyWorker, map[string]any{}, 400, "NoTeamModSelected"},
		{"patch to a taken name crashes", "PATCH", keyWorker, map[string]any{"name": "beta"}, 500, ""},
		{"patch by the owner", "PATCH", keyWorker, map[string]any{"name": "Alpha Two", "info": "hello"}, 200, ""},
		{"patch by a mod", "PATCH", keyMod, map[string]any{"info": "mods may"}, 200, ""},
		{"delete without a key crashes", "DELETE", "", nil, 500, ""},
		{"delete, not owner", "DELETE", keyAlice, nil, 403, "NotModerator"},
		{"delete by the owner", "DELETE", keyWorker, nil, 200, ""},
		{"gone", "GET", "", nil, 404, "TeamNotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, "v2/teams/"+id, tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
	w := call(t, s, "GET", "v2/workers/"+wid, "", nil)
	assert.Equal(t, map[string]any{}, w.body["team"], "a deleted team's workers leave it")
	assert.Len(t, call(t, s, "GET", "v2/teams", "", nil).list, 1)
}

package hordetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocuments(t *testing.T) {
	s := newTestServer(t)
	for _, doc := range []string{"terms", "privacy", "sponsors"} {
		tests := []struct {
			query, key string
			status     int
		}{{"", "html", 200}, {"?format=html", "html", 200}, {"?format=markdown", "markdown", 200}, {"?format=pdf", "", 400}, {"?format=", "", 400}}
		for _, tc := range tests {
			t.Run(doc+tc.query, func(t *testing.T) {
				r := call(t, s, "GET", "v2/documents/"+doc+tc.query, "", nil)
				require.Equal(t, tc.status, r.status, "%s", r.raw)
				if tc.key == "" {
					assert.Equal(t, "BadRequest", r.str("rc"))
					assert.Equal(t, "'format' needs to be one of ['html', 'markdown']", r.str("message"))
					return
				}
				assert.Len(t, r.body, 1, "only the asked format")
				assert.NotEmpty(t, r.str(tc.key))
			})
		}
	}
}

func TestHordeModesPut(t *testing.T) {
	s := newTestServer(t, modUser(), WithUser(User{Name: "admin", APIKey: keyAdmin, Admin: true}))
	tests := []struct {
		name, key string
		body      map[string]any
		status    int
		rc        string
	}{
		{"missing key", "", map[string]any{"raid_mode": true}, 400, ""},
		{"bad key", "nope", map[string]any{"raid_mode": true}, 401, "InvalidAPIKey"},
		{"nothing", keyMod, map[string]any{}, 400, "NoHordeModSelected"},
		{"maintenance needs an admin", keyMod, map[string]any{"maintenance_mode": true}, 403, "NotAdmin"},
		{"raid needs a moderator", keyAdmin, map[string]any{"raid_mode": true}, 403, "NotModerator"},
		{"moderator modes", keyMod, map[string]any{"raid_mode": true, "invite_only_mode": true}, 200, ""},
		{"admin maintenance", keyAdmin, map[string]any{"maintenance_mode": true}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "PUT", "v2/status/modes", tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
			if tc.status == 200 {
				assert.Len(t, r.body, len(tc.body), "only the changed modes")
			}
		})
	}
	m := call(t, s, "GET", "v2/status/modes", keyMod, nil)
	assert.Equal(t, map[string]any{"maintenance_mode": true, "invite_only_mode": true, "raid_mode": true}, m.body)
	assert.Equal(t, "MaintenanceMode", call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"}).str("rc"))

	invite := popImage(t, s, nil)
	require.Equal(t, 403, invite.status, "%s", invite.raw)
	assert.Equal(t, "WorkerInviteOnly", invite.str("rc"))
	call(t, s, "PUT", "v2/users/3", keyMod, map[string]any{"worker_invited": 1})
	assert.Equal(t, 200, popImage(t, s, nil).status, "an invited user may join a worker")
	second := popImage(t, s, map[string]any{"name": "w2"})
	assert.Equal(t, "WorkerInviteOnly", second.str("rc"))
	assert.Contains(t, second.str("message"), "you already have 1 workers")
	assert.Equal(t, 200, popImage(t, s, nil).status, "existing workers keep popping")
}

func TestAwardKudos(t *testing.T) {
	s := newTestServer(t, modUser())
	call(t, s, "PUT", "v2/users/4", keyMod, map[string]any{"flagged": true})
	tests := []struct {
		name, key string
		body      map[string]any
		status    int
		rc        string
	}{
		{"missing key", "", map[string]any{"username": "bob#2"}, 400, ""},
		{"no username", keyAlice, map[string]any{}, 400, ""},
		{"bad key", "nope", map[string]any{"username": "bob#2"}, 401, "InvalidAPIKey"},
		{"only user 1 awards", keyBob, map[string]any{"username": "alice#1"}, 403, "NotAllowedAwards"},
		{"unknown target", keyAlice, map[string]any{"username": "ghost#77"}, 400, "InvalidAwardUsername"},
		{"not to anonymous", keyAlice, map[string]any{"username": "Anonymous#0"}, 400, "KudosAwardToAnon"},
		{"default amount", keyAlice, map[string]any{"username": "bob#2"}, 200, ""},
		{"the number names the user", keyAlice, map[string]any{"username": "2", "amount": 7}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "POST", "v2/kudos/award", tc.key, tc.body)
			require.Equal(t, tc.status, r.status, "%s", r.raw)
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
	bob := call(t, s, "GET", "v2/users/2", "", nil)
	assert.EqualValues(t, 157, bob.num("kudos"))
	assert.EqualValues(t, 107, bob.body["kudos_details"].(map[string]any)["awarded"])
}

// TestAwardFlagged runs without the validator: the server answers a flagged target with a
// list through its single-object marshaller.
func TestAwardFlagged(t *testing.T) {
	s := NewServer(append(testUsers(), modUser())...)
	defer s.Close()
	call(t, s, "PUT", "v2/users/2", keyMod, map[string]any{"flagged": true})
	r := call(t, s, "POST", "v2/kudos/award", keyAlice, map[string]any{"username": "bob#2"})
	require.Equal(t, 200, r.status)
	assert.JSONEq(t, `[{"awarded":null},{"awarded":null}]`, string(r.raw))
	k, _ := s.Kudos(keyBob)
	assert.Equal(t, 50.0, k, "nothing is awarded")
}

func TestAesthetics(t *testing.T) {
	s := newTestServer(t)
	id := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"}).str("id")
	other := "00000000-0000-4000-8000-000000000000"
	rate := func(req string, body any) resp { return call(t, s, "POST", "v2/generate/rate/"+req, "", body) }
	assert.Equal(t, 400, rate(id, map[string]any{"best": "short"}).status)
	assert.Equal(t, 400, rate(id, map[string]any{"ratings": []map[string]any{{"id": other, "rating": 0}}}).status)
	assert.Equal(t, 400, rate(id, map[string]any{"ratings": []map[string]any{{"id": other, "rating": 5, "artifacts": 6}}}).status)
	assert.Equal(t, "RequestNotFound", rate(other, map[string]any{"best": other}).str("rc"))
	assert.Equal(t, "AestheticsNotCompleted", rate(id, map[string]any{"best": other}).str("rc"))
	p := popImage(t, s, nil)
	call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1})
	r := rate(id, map[string]any{"ratings": []map[string]any{{"id": p.str("id"), "rating": 8}}})
	assert.Equal(t, "AestheticsNotPublic", r.str("rc"), "requests are never shared")
}

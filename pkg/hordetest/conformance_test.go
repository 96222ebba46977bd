package hordetest

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConformanceEveryOperation drives every implemented operation (successes and errors)
// through the OpenAPI validator and fails on any mismatch or any operation not exercised.
func TestConformanceEveryOperation(t *testing.T) {
	c := newConformance(t)
	clk := NewFakeClock(t0)
	opts := append(testUsers(), WithClock(clk), WithMiddleware(c.middleware), WithRateLimits(true),
		WithUser(User{Name: "mod", APIKey: "mod-key-000004", Moderator: true}))
	s := NewServer(opts...)
	defer s.Close()

	step := func(method, path, key string, body any, want int) resp {
		t.Helper()
		r := call(t, s, method, path, key, body)
		assert.Equal(t, want, r.status, "%s %s: %s", method, path, r.raw)
		return r
	}
	step("GET", "v2/status/heartbeat", "", nil, 200)
	step("GET", "v2/find_user", keyAlice, nil, 200)
	step("GET", "v2/find_user", "bad", nil, 401)
	step("GET", "v2/users", "", nil, 200)
	step("GET", "v2/users/1", keyAlice, nil, 200)
	step("GET", "v2/users/404", "", nil, 404)

	img := step("POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"n": 2, "steps": 20, "post_processing": []string{"GFPGAN"}}}, 202).str("id")
	step("POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "dry_run": true}, 200)
	clk.Advance(time.Second)
	step("POST", "v2/generate/async", keyAlice, map[string]any{"prompt": ""}, 400)
	step("POST", "v2/generate/async", "bad", map[string]any{"prompt": "x"}, 401)
	step("GET", "v2/generate/check/"+img, "", nil, 200)
	step("GET", "v2/generate/check/nope", "", nil, 404)
	p := popImage(t, s, map[string]any{"amount": 1})
	require.NotEmpty(t, p.str("id"))
	step("POST", "v2/generate/pop", AnonymousAPIKey, map[string]any{"name": "x", "models": []string{"stable_diffusion"}}, 403)
	step("POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 3,
		"gen_metadata": []map[string]any{{"type": "censorship", "value": "nsfw"}}}, 200)
	step("POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 3}, 400)
	step("GET", "v2/generate/status/"+img, "", nil, 200)
	step("DELETE", "v2/generate/status/"+img, "", nil, 200)
	step("GET", "v2/generate/status/nope", "", nil, 404)
	empty := popImage(t, s, nil)
	assert.Empty(t, empty.str("id"))

	txt := step("POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"max_length": 32}}, 202).str("id")
	step("POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": ""}, 400)
	tp := popText(t, s, nil)
	require.NotEmpty(t, tp.str("id"))
	step("POST", "v2/generate/text/submit", keyWorker, map[string]any{"id": tp.str("id"), "generation": "ok", "seed": 1}, 200)
	step("GET", "v2/generate/text/status/"+txt, "", nil, 200)
	step("DELETE", "v2/generate/text/status/"+txt, "", nil, 200)
	popText(t, s, nil)

	it := step("POST", "v2/interrogate/async", keyAlice, map[string]any{"source_image": "https://example.org/a.webp",
		"forms": []map[string]any{{"name": "caption"}, {"name": "GFPGAN"}}}, 202).str("id")
	ip := step("POST", "v2/interrogate/pop", keyWorker, map[string]any{"name": "aw", "forms": []string{"caption", "GFPGAN"}, "amount": 2}, 200)
	forms := ip.body["forms"].([]any)
	require.Len(t, forms, 2)
	step("POST", "v2/interrogate/submit", keyWorker, map[string]any{"id": forms[0].(map[string]any)["id"], "result": map[string]any{"caption": "c"}}, 200)
	step("GET", "v2/interrogate/status/"+it, "", nil, 200)
	step("DELETE", "v2/interrogate/status/"+it, "", nil, 200)
	step("POST", "v2/interrogate/pop", keyWorker, map[string]any{"name": "aw", "forms": []string{"caption"}}, 200)

	w := step("GET", "v2/workers", "mod-key-000004", nil, 200)
	require.NotEmpty(t, w.list)
	wid := w.list[0].(map[string]any)["id"].(string)
	step("GET", "v2/workers/"+wid, "", nil, 200)
	step("GET", "v2/workers/name/w1", "", nil, 200)
	step("PUT", "v2/workers/"+wid, "mod-key-000004", map[string]any{"info": "hello", "maintenance": false}, 200)
	step("PUT", "v2/workers/"+wid, keyBob, map[string]any{"maintenance": true}, 403)
	step("GET", "v2/workers/"+"00000000-0000-4000-8000-000000000000", "", nil, 404)
	step("POST", "v2/kudos/transfer", keyAlice, map[string]any{"username": "bob#2", "amount": 10}, 200)
	step("POST", "v2/kudos/transfer", keyBob, map[string]any{"username": "bob#2", "amount": 10}, 400)
	step("GET", "v2/status/models", "", nil, 200)
	step("GET", "v2/status/models?type=text", "", nil, 200)
	step("GET", "v2/status/models/stable_diffusion", "", nil, 200)
	step("GET", "v2/status/modes", "", nil, 200)
	step("GET", "v2/status/modes", "mod-key-000004", nil, 200)
	step("GET", "v2/status/news", "", nil, 200)
	step("GET", "v2/status/performance", "", nil, 200)
	step("GET", "v2/stats/img/totals", "", nil, 200)
	step("GET", "v2/stats/img/models", "", nil, 200)
	step("GET", "v2/stats/text/totals", "", nil, 200)
	step("GET", "v2/stats/text/models", "", nil, 200)
	for i := 0; i < 10; i++ {
		call(t, s, "GET", "v2/generate/status/"+img, "", nil)
	}
	step("GET", "v2/generate/status/"+img, "", nil, 429)
	driveStyles(t, clk, step)
	driveOperations(t, s, clk, step)

	c.check(t)
	var missing []string
	s.routes(func(method, path, op string, h handlerFunc) {
		if c.ops[op] == 0 {
			missing = append(missing, op)
		}
	})
	sort.Strings(missing)
	assert.Empty(t, missing, "operations not driven through the validator")
}

package hordetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestImageKudosFigures(t *testing.T) {
	s := newTestServer(t, WithUser(User{Name: "newbie", APIKey: "newbie-key-07", Kudos: 0}))
	// K = round(0.1232*30 + r*0.1232*30*8.75, 2) = 6.5 for 512x512, 30 steps.
	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
	require.Equal(t, 202, a.status)
	assert.Equal(t, 6.0, a.num("kudos"), "round(6.5) ties to even, as Python's round")
	dry := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "dry_run": true})
	assert.Equal(t, 8.0, dry.num("kudos"), "f(6.5)*1*1+1 = 8.5 -> 8")
	dryAny := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "dry_run": true, "models": []string{}})
	assert.Equal(t, 16.0, dryAny.num("kudos"), "no models: SDXL multiplier 2 -> 7.5*2+1 = 16")

	// An untrusted owner with an unknown bridge gets R x 0.75, halved (escrow).
	p := call(t, s, "POST", "v2/generate/pop", "newbie-key-07", map[string]any{"name": "nw", "models": []string{"stable_diffusion"}, "bridge_agent": "mine:1:x"})
	require.NotEmpty(t, p.str("id"), string(p.raw))
	sub := call(t, s, "POST", "v2/generate/submit", "newbie-key-07", map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1})
	assert.Equal(t, 6.5, sub.num("reward"), "the response shows R before the bridge factor")
	nk, _ := s.Kudos("newbie-key-07")
	assert.InDelta(t, 6.5*0.75/2, nk, 1e-9)
	ak, _ := s.Kudos(keyAlice)
	assert.InDelta(t, 1000-3-7.5, ak, 1e-9, "activation 3, then f(R) = R+1")
	chk := call(t, s, "GET", "v2/generate/check/"+a.str("id"), "", nil)
	assert.Equal(t, 10.0, chk.num("kudos"), "round(3 + 7.5) = round(10.5) -> 10")
}

func TestTextKudosFigures(t *testing.T) {
	s := newTestServer(t)
	call(t, s, "POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": "Once upon a time", "params": map[string]any{"max_length": 16}})
	p := popText(t, s, nil)
	sub := call(t, s, "POST", "v2/generate/text/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "there was a cat"})
	// 16 tokens (20 clamped to max_length) x 13/125 x ctx(20 prompt tokens) = 2.02
	assert.Equal(t, 2.02, sub.num("reward"))
	ak, _ := s.Kudos(keyAlice)
	assert.InDelta(t, 1000-1-3.02, ak, 1e-9, "activation 1, then reward+1")
}

func TestAlchemyKudosFigures(t *testing.T) {
	s := newTestServer(t)
	call(t, s, "POST", "v2/interrogate/async", keyAlice, map[string]any{"source_image": "https://example.org/a.webp",
		"forms": []map[string]any{{"name": "interrogation"}}})
	p := call(t, s, "POST", "v2/interrogate/pop", keyWorker, map[string]any{"name": "aw", "forms": []string{"interrogation"}})
	id := p.body["forms"].([]any)[0].(map[string]any)["id"]
	sub := call(t, s, "POST", "v2/interrogate/submit", keyWorker, map[string]any{"id": id, "result": map[string]any{"interrogation": map[string]any{}}})
	assert.Equal(t, 3.0, sub.num("reward"))
	ak, _ := s.Kudos(keyAlice)
	assert.Equal(t, 1000.0-5, ak, "form kudos + 1, +1 for slow_workers")
	wk, _ := s.Kudos(keyWorker)
	assert.Equal(t, 3.0, wk)
}

func TestWorkerTargeting(t *testing.T) {
	s := newTestServer(t)
	require.Equal(t, 200, popImage(t, s, nil).status) // creates w1
	w1 := call(t, s, "GET", "v2/workers/name/w1", "", nil).str("id")
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false, "workers": []string{w1}, "worker_blacklist": true})
	p := popImage(t, s, nil)
	assert.Empty(t, p.str("id"))
	assert.Equal(t, 1.0, p.body["skipped"].(map[string]any)["worker_id"])
	p = popImage(t, s, map[string]any{"name": "w2"})
	assert.NotEmpty(t, p.str("id"), "another worker may take a blocklisted-elsewhere request")
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false, "workers": []string{w1}})
	assert.Empty(t, popImage(t, s, map[string]any{"name": "w2"}).str("id"))
	assert.NotEmpty(t, popImage(t, s, nil).str("id"))
}

func TestImageWarnings(t *testing.T) {
	s := newTestServer(t, WithAutoFulfil(0), WithModelRequirements("stable_diffusion", ModelRequirements{
		MinSteps: ptr(40), CfgScale: ptr(2.0), Samplers: []string{"k_euler"}, Schedulers: []string{"simple"}}))
	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	require.Equal(t, 202, a.status)
	var codes []string
	for _, w := range a.body["warnings"].([]any) {
		codes = append(codes, w.(map[string]any)["code"].(string))
	}
	assert.Equal(t, []string{"StepsTooFew", "CfgScaleMismatch", "SamplerMismatch", "SchedulerMismatch"}, codes)
	ok := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x",
		"params": map[string]any{"steps": 40, "cfg_scale": 2, "sampler_name": "k_euler", "karras": false}})
	assert.NotContains(t, ok.body, "warnings")
}

// TestIntegralFloatsInIntegerFields: where the server reads a body with its argument parser
// only (kudos transfer), an integral float in an integer field passes as the integer; where it
// validates the payload against a model (pops), a float is refused as draft-4 JSON schema does.
func TestIntegralFloatsInIntegerFields(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		key        string
		body       string
		wantStatus int
	}{
		{"transfer 10.0", "v2/kudos/transfer", keyAlice, `{"username":"bob#2","amount":10.0}`, 200},
		{"transfer 1e1", "v2/kudos/transfer", keyAlice, `{"username":"bob#2","amount":1e1}`, 200},
		{"transfer 10", "v2/kudos/transfer", keyAlice, `{"username":"bob#2","amount":10}`, 200},
		{"transfer 10.5", "v2/kudos/transfer", keyAlice, `{"username":"bob#2","amount":10.5}`, 400},
		{"pop amount 2.0 (payload validated)", "v2/generate/pop", keyWorker, `{"name":"w","models":["stable_diffusion"],"amount":2.0}`, 400},
		{"shared key kudos 5000.0", "v2/sharedkeys", keyAlice, `{"kudos":5000.0,"name":"k"}`, 200},
		{"shared key kudos 5000.5", "v2/sharedkeys", keyAlice, `{"kudos":5000.5,"name":"k"}`, 400},
		{"filter check filter_type 10.0", "v2/filters", "mod-key-000004", `{"prompt":"a cat","filter_type":10.0}`, 200},
		{"award amount 5.0 (user 1 awards)", "v2/kudos/award", keyAlice, `{"username":"bob#2","amount":5.0}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not newTestServer: the OpenAPI document says integer, the server takes 10.0.
			s := NewServer(append(testUsers(), WithUser(User{Name: "mod", APIKey: "mod-key-000004", Moderator: true}),
				WithUser(User{Name: "admin", APIKey: "admin-key-0005", Admin: true, Moderator: true}))...)
			defer s.Close()
			method := "POST"
			if tt.path == "v2/sharedkeys" {
				method = "PUT"
			}
			r := call(t, s, method, tt.path, tt.key, tt.body)
			assert.Equal(t, tt.wantStatus, r.status, string(r.raw))
			if tt.wantStatus == 200 && tt.path == "v2/kudos/transfer" {
				bob, _ := s.Kudos(keyBob)
				assert.Equal(t, 60.0, bob)
			}
		})
	}
}

// TestUpfrontKudosAndDowngrade: a request over the upfront limits from a user without the kudos
// is refused, or with allow_downgrade scaled into the limit (snapped to 64) with its steps
// lowered, as the server's downgrade does.
func TestUpfrontKudosAndDowngrade(t *testing.T) {
	s := newTestServer(t, WithUser(User{Name: "newbie", APIKey: "newbie-key-07", Kudos: 0}))
	body := func(downgrade bool) map[string]any {
		return map[string]any{"prompt": "x", "r2": false, "allow_downgrade": downgrade,
			"params": map[string]any{"width": 1536, "height": 1024, "steps": 60}}
	}
	refused := call(t, s, "POST", "v2/generate/async", "newbie-key-07", body(false))
	assert.Equal(t, 403, refused.status)
	assert.Equal(t, "KudosUpfront", refused.str("rc"))
	assert.Contains(t, refused.str("message"), "for requests over 1024x1024")

	ok := call(t, s, "POST", "v2/generate/async", "newbie-key-07", body(true))
	require.Equal(t, 202, ok.status, string(ok.raw))
	p := popImage(t, s, map[string]any{"max_pixels": 2048 * 2048})
	require.NotEmpty(t, p.str("id"), string(p.raw))
	payload := p.body["payload"].(map[string]any)
	assert.Equal(t, 1216.0, payload["width"], "sqrt(1024²/(1536×1024)) × 1536, snapped to 64")
	assert.Equal(t, 832.0, payload["height"])
	assert.Equal(t, 30.0, payload["ddim_steps"], "down to the default max_steps")
}

// TestUpfrontLCM: more than 10 steps with LCM (the sampler, or a LoRA the server knows as LCM)
// need upfront kudos.
func TestUpfrontLCM(t *testing.T) {
	s := newTestServer(t, WithUser(User{Name: "newbie", APIKey: "newbie-key-07", Kudos: 0}))
	tests := []struct {
		name   string
		params map[string]any
		status int
	}{
		{"lcm sampler, 12 steps", map[string]any{"sampler_name": "lcm", "steps": 12}, 403},
		{"lcm sampler, 8 steps", map[string]any{"sampler_name": "lcm", "steps": 8}, 202},
		{"an LCM LoRA by id, 12 steps", map[string]any{"steps": 12, "loras": []map[string]any{{"name": "216190"}}}, 403},
		{"an LCM LoRA by version, 12 steps", map[string]any{"steps": 12, "loras": []map[string]any{{"name": "246747", "is_version": true}}}, 403},
		{"another LoRA, 12 steps", map[string]any{"steps": 12, "loras": []map[string]any{{"name": "12345"}}}, 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, "POST", "v2/generate/async", "newbie-key-07", map[string]any{"prompt": "x", "r2": false, "params": tt.params})
			assert.Equal(t, tt.status, r.status, string(r.raw))
		})
	}
}

// TestUpfrontKudosAreHeld: the kudos an upfront request needs are reserved while it runs, so a
// second one cannot spend them again; cancelling the first frees them.
func TestUpfrontKudosAreHeld(t *testing.T) {
	s := newTestServer(t, WithUser(User{Name: "thrifty", APIKey: "thrifty-key-08", Kudos: 70}))
	body := map[string]any{"prompt": "x", "r2": false, "slow_workers": false, "params": map[string]any{"n": 4}}
	dry := call(t, s, "POST", "v2/generate/async", "thrifty-key-08", map[string]any{"prompt": "x", "dry_run": true, "slow_workers": false, "params": map[string]any{"n": 4}})
	require.Equal(t, 200, dry.status, string(dry.raw))
	require.Less(t, 70.0-25-dry.num("kudos"), dry.num("kudos"), "the test needs room for one request, not two")

	first := call(t, s, "POST", "v2/generate/async", "thrifty-key-08", body)
	require.Equal(t, 202, first.status, string(first.raw))
	second := call(t, s, "POST", "v2/generate/async", "thrifty-key-08", body)
	assert.Equal(t, 403, second.status, "the first one holds the kudos: %s", second.raw)
	assert.Equal(t, "KudosUpfront", second.str("rc"))

	require.Equal(t, 200, call(t, s, "DELETE", "v2/generate/status/"+first.str("id"), "", nil).status)
	third := call(t, s, "POST", "v2/generate/async", "thrifty-key-08", body)
	assert.Equal(t, 202, third.status, "the cancelled one released them: %s", third.raw)
}

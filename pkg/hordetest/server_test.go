package hordetest

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/horde-go/horde/internal/routes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSkeleton(t *testing.T) {
	s := newTestServer(t)
	require.True(t, strings.HasSuffix(s.URL, "/api/"))

	hb := call(t, s, "GET", "v2/status/heartbeat", "", nil)
	require.Equal(t, 200, hb.status)
	assert.Equal(t, "OK", hb.str("message"))
	assert.Equal(t, ServerVersion, hb.str("version"))
	assert.Equal(t, "*", hb.header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, hb.header.Get("Horde-Node"), ServerVersion)

	na := call(t, s, "PUT", "v2/generate/async", keyAlice, map[string]any{})
	assert.Equal(t, http.StatusMethodNotAllowed, na.status)
	assert.Equal(t, "The method is not allowed for the requested URL.", na.str("message"))
	assert.Equal(t, 200, call(t, s, "OPTIONS", "v2/generate/async", "", nil).status)
	nf := call(t, s, "GET", "v2/nothing/here", "", nil)
	assert.Equal(t, 404, nf.status)
	assert.NotEmpty(t, nf.str("message"))

	// An operation the simulator does not implement (if one is left) answers 501 naming it.
	implemented := map[string]bool{}
	s.routes(func(_, _, op string, _ handlerFunc) { implemented[op] = true })
	for _, op := range routes.Operations {
		if implemented[op.ID] {
			continue
		}
		path := regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(op.Path, "x")
		ni := call(t, s, op.Method, strings.TrimPrefix(path, "/"), keyAlice, map[string]any{})
		assert.Equal(t, http.StatusNotImplemented, ni.status)
		assert.Contains(t, ni.str("message"), op.ID)
		break
	}
}

func TestUsers(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name, method, path, key string
		status                  int
		rc                      string
		check                   func(t *testing.T, r resp)
	}{
		{"find_user", "GET", "v2/find_user", keyAlice, 200, "", func(t *testing.T, r resp) {
			assert.Equal(t, "alice#1", r.str("username"))
			assert.Equal(t, 1000.0, r.num("kudos"))
		}},
		{"find_user anonymous", "GET", "v2/find_user", AnonymousAPIKey, 200, "", func(t *testing.T, r resp) {
			assert.Equal(t, "Anonymous#0", r.str("username"))
		}},
		{"find_user bad key", "GET", "v2/find_user", "nope", 401, "InvalidAPIKey", nil},
		{"find_user no key", "GET", "v2/find_user", "", 401, "InvalidAPIKey", nil},
		{"users list", "GET", "v2/users", "", 200, "", func(t *testing.T, r resp) {
			assert.Len(t, r.list, 4)
		}},
		{"user by id", "GET", "v2/users/2", "", 200, "", func(t *testing.T, r resp) {
			assert.Equal(t, "bob#2", r.str("username"))
		}},
		{"user unknown", "GET", "v2/users/99", "", 404, "UserNotFound", nil},
		{"user non-digit", "GET", "v2/users/abc", "", 404, "UserNotFound", nil},
		{"user bad key", "GET", "v2/users/1", "bad", 401, "InvalidAPIKey", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.path, tc.key, nil)
			require.Equal(t, tc.status, r.status, string(r.raw))
			if tc.rc != "" {
				assert.Equal(t, tc.rc, r.str("rc"))
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestImageAsyncValidation(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name   string
		key    string
		body   any
		status int
		rc     string
		field  string // key expected in errors
	}{
		{"missing prompt", keyAlice, map[string]any{}, 400, "", "prompt"},
		{"empty prompt", keyAlice, map[string]any{"prompt": ""}, 400, "", "prompt"},
		{"width not multiple", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"width": 1000}}, 400, "", "params.width"},
		{"steps too many", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"steps": 501}}, 400, "", "params.steps"},
		{"bad sampler", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"sampler_name": "nope"}}, 400, "", "params.sampler_name"},
		{"wrong type", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"n": "two"}}, 400, "", "params.n"},
		{"missing apikey", "", map[string]any{"prompt": "x"}, 400, "", "apikey"},
		{"invalid apikey", "wrong", map[string]any{"prompt": "x"}, 401, "InvalidAPIKey", ""},
		{"mask without source", keyAlice, map[string]any{"prompt": "x", "source_mask": "aGk="}, 400, "SourceMaskUnnecessary", ""},
		{"webhook http", keyAlice, map[string]any{"prompt": "x", "webhook": "http://example.org/hook"}, 400, "BadRequest", ""},
		{"controlnet without source", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"control_type": "canny"}}, 400, "ControlNetSourceMissing", ""},
		{"unknown worker", keyAlice, map[string]any{"prompt": "x", "workers": []string{"6a0aed69-081d-4933-ac08-b7acdd361164"}}, 404, "WorkerNotFound", ""},
		{"batching needs trust", keyAlice, map[string]any{"prompt": "x", "disable_batching": true, "params": map[string]any{"n": 2}}, 400, "RequiresTrust", ""},
		{"too many loras", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"loras": []map[string]any{{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}, {"name": "e"}, {"name": "f"}}}}, 400, "TooManyLoras", ""},
		{"anonymous upfront", AnonymousAPIKey, map[string]any{"prompt": "x", "params": map[string]any{"width": 2048, "height": 2048}}, 403, "KudosUpfront", ""},
		{"banned agent", keyAlice, map[string]any{"prompt": "x"}, 403, "BannedClientAgent", ""},
		{"hires with flux", keyAlice, map[string]any{"prompt": "x", "models": []string{"Flux.1-Schnell fp8 (Compact)"}, "params": map[string]any{"hires_fix": true}}, 400, "HiResMismatch", ""},
		{"lora version", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"loras": []map[string]any{{"name": "abc", "is_version": true}}}}, 400, "BadLoraVersion", ""},
		{"two upscalers", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"post_processing": []string{"RealESRGAN_x4plus", "NMKD_Siax"}}}, 400, "TooManyUpscalers", ""},
		{"post-processor as model", keyAlice, map[string]any{"prompt": "x", "models": []string{"GFPGAN"}}, 400, "UnexpectedModelName", ""},
		{"cfg decimals", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"cfg_scale": 7.125}}, 400, "BadCFGDecimals", ""},
		{"special field", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"special": map[string]any{"a": 1}}}, 400, "BadRequest", ""},
		{"controlnet sdxl", keyAlice, map[string]any{"prompt": "x", "source_image": "aGk=", "models": []string{"SDXL 1.0"}, "params": map[string]any{"control_type": "canny"}}, 400, "ControlNetMismatch", ""},
		{"controlnet inpainting", keyAlice, map[string]any{"prompt": "x", "source_image": "aGk=", "source_processing": "inpainting", "params": map[string]any{"control_type": "canny"}}, 400, "ControlNetInpaintingMismatch", ""},
		{"remix non cascade", keyAlice, map[string]any{"prompt": "x", "source_image": "aGk=", "source_processing": "remix"}, 400, "InvalidRemix", ""},
		{"extra sources without remix", keyAlice, map[string]any{"prompt": "x", "source_image": "aGk=", "extra_source_images": []map[string]any{{"image": "aGk="}}}, 400, "InvalidExtraSourceImages.", ""},
		{"extra texts without qr", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"extra_texts": []map[string]any{{"text": "t", "reference": "qr_code"}}}}, 400, "InvalidExtraTexts.", ""},
		{"qr without text", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"workflow": "qr_code"}}, 400, "MissingExtraTexts.", ""},
		{"depth needs source", keyAlice, map[string]any{"prompt": "x", "models": []string{"Stable Diffusion 2 Depth"}}, 400, "SourceImageRequiredForModel", ""},
		{"style unknown", keyAlice, map[string]any{"prompt": "x", "style": "abc"}, 404, "StyleNotFound", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.name == "banned agent" {
				hdr = []string{"Client-Agent", "My-Project:v0.0.1:My-Contact"}
			}
			r := call(t, s, "POST", "v2/generate/async", tc.key, tc.body, hdr...)
			require.Equal(t, tc.status, r.status, string(r.raw))
			assert.Equal(t, tc.rc, r.str("rc"), string(r.raw))
			if tc.field != "" {
				assert.Equal(t, "Input payload validation failed", r.str("message"))
				errs, _ := r.body["errors"].(map[string]any)
				assert.Contains(t, errs, tc.field, string(r.raw))
			}
		})
	}
	assert.Empty(t, s.Requests(), "no request may be queued by a rejected call")
}

func TestImageTooManyPromptsAndDryRun(t *testing.T) {
	s := newTestServer(t)
	dry := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "dry_run": true})
	require.Equal(t, 200, dry.status, string(dry.raw))
	assert.Greater(t, dry.num("kudos"), 0.0)
	assert.Empty(t, s.Requests())

	for i := 0; i < 3; i++ {
		r := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"n": 10}})
		require.Equal(t, 202, r.status, string(r.raw))
	}
	r := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	require.Equal(t, 429, r.status)
	assert.Equal(t, "TooManyPrompts", r.str("rc"))
}

func TestImageMaintenance(t *testing.T) {
	s := newTestServer(t)
	ok := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	require.Equal(t, 202, ok.status)
	s.SetMaintenance(true)
	r := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	require.Equal(t, 400, r.status)
	assert.Equal(t, "MaintenanceMode", r.str("rc"))
	modes := call(t, s, "GET", "v2/status/modes", "", nil)
	assert.Equal(t, true, modes.body["maintenance_mode"])
	// Switching maintenance on cancels queued jobs.
	chk := call(t, s, "GET", "v2/generate/check/"+ok.str("id"), "", nil)
	assert.Equal(t, 0.0, chk.num("waiting"))
}

func TestImageLifecycle(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))

	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "a cat", "params": map[string]any{"n": 2}})
	require.Equal(t, 202, a.status, string(a.raw))
	id := a.str("id")
	assert.Equal(t, "NoAvailableWorker", a.body["warnings"].([]any)[0].(map[string]any)["code"])
	assert.NotEmpty(t, a.str("message"))

	chk := call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	require.Equal(t, 200, chk.status)
	assert.Equal(t, 2.0, chk.num("waiting"))
	assert.Equal(t, 1.0, chk.num("queue_position"))
	assert.Equal(t, 3.0, chk.num("kudos"), "activation charges 3 kudos")
	assert.Equal(t, false, chk.body["is_possible"])
	assert.Equal(t, false, chk.body["done"])

	p := popImage(t, s, map[string]any{"amount": 2})
	require.Equal(t, 200, p.status, string(p.raw))
	ids := p.body["ids"].([]any)
	require.Len(t, ids, 2)
	jobID := p.str("id")
	assert.NotEqual(t, id, jobID, "job ids differ from request ids")
	assert.Equal(t, "stable_diffusion", p.str("model"))
	payload := p.body["payload"].(map[string]any)
	assert.Equal(t, "k_euler_a", payload["sampler_name"])
	assert.Equal(t, 5.0, payload["cfg_scale"])
	assert.Equal(t, true, payload["karras"])
	assert.Equal(t, 30.0, payload["ddim_steps"])
	assert.Equal(t, 2.0, payload["n_iter"])
	assert.IsType(t, "", payload["seed"], "payload seed is a string")
	assert.NotContains(t, payload, "use_nsfw_censor", "nsfw defaults to true")
	assert.GreaterOrEqual(t, p.num("ttl"), 150.0)
	uploads := p.body["r2_uploads"].([]any)
	require.Len(t, uploads, 2)

	chk = call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	assert.Equal(t, 2.0, chk.num("processing"))
	assert.Equal(t, 0.0, chk.num("waiting"))
	assert.Equal(t, true, chk.body["is_possible"])

	// Upload the first to R2 (no API key), send the second as base64.
	img := SyntheticImage(1, 64, 64)
	st, _ := fetchURL(t, s, "PUT", uploads[0].(string), img)
	require.Equal(t, 200, st)
	sub := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": ids[0], "generation": "R2", "seed": 42})
	require.Equal(t, 200, sub.status, string(sub.raw))
	reward := sub.num("reward")
	assert.Greater(t, reward, 0.0)
	sub2 := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": ids[1],
		"generation": base64.StdEncoding.EncodeToString(img), "seed": 43,
		"gen_metadata": []map[string]any{{"type": "censorship", "value": "nsfw"}}})
	require.Equal(t, 200, sub2.status)

	dup := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": ids[0], "generation": "R2", "seed": 42})
	require.Equal(t, 400, dup.status)
	assert.Equal(t, "DuplicateGen", dup.str("rc"))

	stat := call(t, s, "GET", "v2/generate/status/"+id, "", nil)
	require.Equal(t, 200, stat.status)
	assert.Equal(t, true, stat.body["done"])
	gens := stat.body["generations"].([]any)
	require.Len(t, gens, 2)
	g0 := gens[0].(map[string]any)
	assert.Equal(t, "42", g0["seed"], "status seed is a string")
	assert.Equal(t, ids[0], g0["id"])
	assert.Equal(t, "w1", g0["worker_name"])
	assert.Equal(t, false, g0["censored"])
	assert.Equal(t, true, gens[1].(map[string]any)["censored"])
	code, got := fetchURL(t, s, "GET", g0["img"].(string), nil)
	require.Equal(t, 200, code)
	assert.Equal(t, img, got)
	code, got = fetchURL(t, s, "GET", gens[1].(map[string]any)["img"].(string), nil)
	require.Equal(t, 200, code)
	assert.Equal(t, img, got)

	// Kudos: worker credited the reward (reGen 13 factor 1.0, trusted owner), requester charged.
	wk, _ := s.Kudos(keyWorker)
	assert.InDelta(t, 2*reward, wk, 0.001)
	ak, _ := s.Kudos(keyAlice)
	assert.InDelta(t, 1000-3-(reward+1)-1, ak, 0.001, "ok job pays f(R), censored job f(0)")

	// Introspection: the calls with their bodies, and every job submitted exactly once.
	var asyncCalls []Call
	for _, c := range s.Calls() {
		if c.Operation == "post_image_async_generate" {
			asyncCalls = append(asyncCalls, c)
		}
	}
	require.Len(t, asyncCalls, 1)
	assert.Equal(t, 202, asyncCalls[0].Status)
	assert.Equal(t, keyAlice, asyncCalls[0].APIKey)
	assert.JSONEq(t, `{"prompt": "a cat", "params": {"n": 2}}`, string(asyncCalls[0].Body))
	for _, j := range s.Jobs() {
		assert.Equal(t, 1, j.Submits, j.ID)
	}

	// An R2 URL with a bad signature is refused; an expired one too.
	bad := strings.Replace(g0["img"].(string), "X-Amz-Signature=", "X-Amz-Signature=0", 1)
	code, _ = fetchURL(t, s, "GET", bad, nil)
	assert.Equal(t, 403, code)
	clk.Advance(31 * time.Minute)
	code, _ = fetchURL(t, s, "GET", g0["img"].(string), nil)
	assert.Equal(t, 403, code)
}

func TestImageR2FalseBase64(t *testing.T) {
	s := newTestServer(t, WithAutoFulfil(0))
	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false, "params": map[string]any{"seed": "abc"}})
	require.Equal(t, 202, a.status)
	_, hasMsg := a.body["message"]
	assert.False(t, hasMsg, "the built-in worker is an available worker")
	st := call(t, s, "GET", "v2/generate/status/"+a.str("id"), "", nil)
	gens := st.body["generations"].([]any)
	require.Len(t, gens, 1)
	raw, err := base64.StdEncoding.DecodeString(gens[0].(map[string]any)["img"].(string))
	require.NoError(t, err)
	_, err = png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, "6513249", gens[0].(map[string]any)["seed"], "text seeds become little-endian integers")
}

func TestSeedToInt(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"42", 42},
		{"4294967296", 1},
		{"abc", 0x636261},
		{"18446744073709551616", 1},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, seedToInt(tc.in), tc.in)
	}
}

func TestSubmitFaultedRequeueThenFault(t *testing.T) {
	s := newTestServer(t)
	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
	id := a.str("id")
	for i := 0; i < 3; i++ {
		p := popImage(t, s, nil)
		require.NotEmpty(t, p.str("id"), "attempt %d: %s", i, p.raw)
		f := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "", "seed": 1, "state": "faulted"})
		require.Equal(t, 200, f.status)
		assert.Equal(t, 0.0, f.num("reward"))
		again := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1})
		assert.Equal(t, "AbortedGen", again.str("rc"))
	}
	chk := call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	assert.Equal(t, true, chk.body["faulted"])
	assert.Equal(t, true, chk.body["done"])
	assert.Equal(t, 3.0, chk.num("restarted"))
	p := popImage(t, s, nil)
	assert.Empty(t, p.str("id"), "a faulted request is not served")
}

func TestSubmitErrors(t *testing.T) {
	s := newTestServer(t)
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
	p := popImage(t, s, nil)
	tests := []struct {
		name   string
		key    string
		body   map[string]any
		status int
		rc     string
	}{
		{"unknown job", keyWorker, map[string]any{"id": "00000000-0000-4000-8000-000000000000", "generation": "R2", "seed": 1}, 404, "InvalidJobID"},
		{"invalid key is a 500 (server quirk)", "nope", map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1}, 500, ""},
		{"other user's worker", keyAlice, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1}, 403, "WrongCredentials"},
		{"seed required", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2"}, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "POST", "v2/generate/submit", tc.key, tc.body)
			require.Equal(t, tc.status, r.status, string(r.raw))
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
}

func TestStaleJobAndExpiry(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))
	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
	id := a.str("id")
	p := popImage(t, s, nil)
	ttl := time.Duration(p.num("ttl")) * time.Second
	clk.Advance(ttl + time.Second)
	chk := call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	assert.Equal(t, 1.0, chk.num("restarted"))
	assert.Equal(t, 1.0, chk.num("waiting"))
	late := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1})
	assert.Equal(t, "AbortedGen", late.str("rc"))

	// Expiry: 20 minutes after the last activity (the pop).
	clk.Advance(20*time.Minute - ttl - 2*time.Second)
	require.Equal(t, 200, call(t, s, "GET", "v2/generate/check/"+id, "", nil).status)
	clk.Advance(2 * time.Second)
	gone := call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	require.Equal(t, 404, gone.status)
	assert.Equal(t, "RequestNotFound", gone.str("rc"))
	assert.Equal(t, 404, call(t, s, "GET", "v2/generate/status/not-a-uuid", "", nil).status)
}

func TestCancelReturnsPreCancelStatus(t *testing.T) {
	s := newTestServer(t)
	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false, "params": map[string]any{"n": 2}})
	id := a.str("id")
	p := popImage(t, s, nil) // one of two jobs in flight
	d := call(t, s, "DELETE", "v2/generate/status/"+id, "", nil)
	require.Equal(t, 200, d.status)
	assert.Equal(t, 1.0, d.num("waiting"), "pre-cancel values")
	assert.Equal(t, false, d.body["done"])
	chk := call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	assert.Equal(t, 0.0, chk.num("waiting"))
	assert.Equal(t, false, chk.body["done"], "a job is still in flight")
	sub := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1})
	require.Equal(t, 200, sub.status, "in-flight jobs may still be delivered")
	chk = call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	assert.Equal(t, true, chk.body["done"])
	info, ok := s.Request(id)
	require.True(t, ok)
	assert.True(t, info.Cancelled)
}

func TestPopMatching(t *testing.T) {
	tests := []struct {
		name    string
		request map[string]any
		pop     map[string]any
		reason  string // "" means the pop gets the job
	}{
		{"default request", map[string]any{}, nil, ""},
		{"model mismatch", map[string]any{"models": []string{"Deliberate"}}, nil, "models"},
		{"any model", map[string]any{"models": []string{}}, map[string]any{"models": []string{"Deliberate"}}, ""},
		{"nsfw", map[string]any{}, map[string]any{"nsfw": false}, "nsfw"},
		{"sfw request on sfw worker", map[string]any{"nsfw": false}, map[string]any{"nsfw": false}, ""},
		{"max_pixels", map[string]any{"params": map[string]any{"width": 1024, "height": 1024}}, map[string]any{"max_pixels": 262144}, "max_pixels"},
		{"img2img flag", map[string]any{"source_image": "aGVsbG8="}, map[string]any{"allow_img2img": false}, "img2img"},
		{"painting flag", map[string]any{"source_image": "aGVsbG8=", "source_processing": "inpainting"}, map[string]any{"allow_painting": false}, "painting"},
		{"unknown bridge cannot take r2", map[string]any{}, map[string]any{"bridge_agent": "mine:1:x"}, "bridge_version"},
		{"unknown bridge takes r2 false", map[string]any{"r2": false}, map[string]any{"bridge_agent": "mine:1:x"}, ""},
		{"lora not allowed", map[string]any{"params": map[string]any{"loras": []map[string]any{{"name": "x"}}}}, nil, "lora"},
		{"lora allowed", map[string]any{"params": map[string]any{"loras": []map[string]any{{"name": "x"}}}}, map[string]any{"allow_lora": true}, ""},
		{"blacklist", map[string]any{"prompt": "a Red cat"}, map[string]any{"blacklist": []string{"red"}}, "blacklist"},
		{"post-processing", map[string]any{"params": map[string]any{"post_processing": []string{"GFPGAN"}}}, map[string]any{"allow_post_processing": false}, "post-processing"},
		{"trusted workers", map[string]any{"trusted_workers": true}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			body := map[string]any{"prompt": "x"}
			for k, v := range tc.request {
				body[k] = v
			}
			a := call(t, s, "POST", "v2/generate/async", keyAlice, body)
			require.Equal(t, 202, a.status, string(a.raw))
			p := popImage(t, s, tc.pop)
			require.Equal(t, 200, p.status, string(p.raw))
			if tc.reason == "" {
				assert.NotEmpty(t, p.str("id"), string(p.raw))
				return
			}
			assert.Empty(t, p.str("id"))
			assert.Equal(t, []any{}, p.body["ids"])
			sk := p.body["skipped"].(map[string]any)
			assert.Equal(t, 1.0, sk[tc.reason], string(p.raw))
		})
	}
}

func TestPopValidation(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name   string
		key    string
		body   map[string]any
		status int
		rc     string
	}{
		{"anonymous", AnonymousAPIKey, map[string]any{"name": "w", "models": []string{"stable_diffusion"}}, 403, "AnonForbiddenWorker"},
		{"bad key", "nope", map[string]any{"name": "w", "models": []string{"stable_diffusion"}}, 401, "InvalidAPIKey"},
		{"priority username", keyWorker, map[string]any{"name": "w", "models": []string{"stable_diffusion"}, "priority_usernames": []string{"bob"}}, 400, "InvalidPriorityUsername"},
		{"no models", keyWorker, map[string]any{"name": "w"}, 400, "BadRequest"},
		{"unknown models", keyWorker, map[string]any{"name": "w2", "models": []string{"made-up"}}, 400, "BadRequest"},
		{"colab name", keyWorker, map[string]any{"name": "my colab", "models": []string{"stable_diffusion"}}, 400, "BadRequest"},
		{"name taken", keyAlice, map[string]any{"name": "w", "models": []string{"stable_diffusion"}}, 403, "WrongCredentials"},
		{"other type", keyWorker, map[string]any{"name": "w", "models": []string{"x"}}, 400, "PolymorphicNameConflict"},
	}
	// Create worker "w" first.
	require.Equal(t, 200, call(t, s, "POST", "v2/generate/pop", keyWorker, map[string]any{"name": "w", "models": []string{"stable_diffusion"}}).status)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "v2/generate/pop"
			if tc.name == "other type" {
				path = "v2/generate/text/pop"
			}
			r := call(t, s, "POST", path, tc.key, tc.body)
			if tc.name == "no models" {
				// The existing worker's settings are not refreshed within 30 s: no error then.
				assert.Contains(t, []int{200, 400}, r.status)
				return
			}
			require.Equal(t, tc.status, r.status, string(r.raw))
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
}

func TestPopSettingsStoredEvery30s(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
	clk.Advance(31 * time.Second) // the worker will be older than 30 s at its second pop
	require.Empty(t, popImage(t, s, map[string]any{"nsfw": false}).str("id"), "first pop stores nsfw=false")
	clk.Advance(31 * time.Second)
	require.Empty(t, popImage(t, s, map[string]any{"nsfw": false}).str("id"))
	clk.Advance(10 * time.Second)
	assert.Empty(t, popImage(t, s, map[string]any{"nsfw": true}).str("id"), "settings within 30 s are ignored")
	clk.Advance(30 * time.Second)
	assert.NotEmpty(t, popImage(t, s, map[string]any{"nsfw": true}).str("id"), "settings stored after 30 s")
}

func TestQueueOrder(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))
	var ids []string
	for i := 0; i < 3; i++ {
		a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
		ids = append(ids, a.str("id"))
		clk.Advance(time.Second)
	}
	assert.Equal(t, ids, s.Queued("image"))
	for i := 0; i < 3; i++ {
		p := popImage(t, s, nil)
		j := p.str("id")
		var got string
		for _, ji := range s.Jobs() {
			if ji.ID == j {
				got = ji.RequestID
			}
		}
		assert.Equal(t, ids[i], got, "FIFO for one requester")
	}
}

func TestAutoFulfil(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk), WithAutoFulfil(5*time.Second))
	a := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"n": 3, "seed": "7"}})
	id := a.str("id")
	chk := call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	assert.Equal(t, false, chk.body["done"])
	assert.Equal(t, true, chk.body["is_possible"])
	clk.Advance(5 * time.Second)
	chk = call(t, s, "GET", "v2/generate/check/"+id, "", nil)
	assert.Equal(t, true, chk.body["done"])
	assert.Equal(t, 3.0, chk.num("finished"))
	st := call(t, s, "GET", "v2/generate/status/"+id, "", nil)
	gens := st.body["generations"].([]any)
	require.Len(t, gens, 3)
	g := gens[0].(map[string]any)
	assert.Equal(t, "7", g["seed"])
	code, b := fetchURL(t, s, "GET", g["img"].(string), nil)
	require.Equal(t, 200, code)
	assert.Equal(t, SyntheticImage(7, 512, 512), b)

	// Models the built-in worker does not serve stay queued and impossible.
	u := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "models": []string{"Deliberate"}})
	clk.Advance(time.Minute)
	chk = call(t, s, "GET", "v2/generate/check/"+u.str("id"), "", nil)
	assert.Equal(t, false, chk.body["done"])
	assert.Equal(t, false, chk.body["is_possible"])
}

func TestWorkersEndpoints(t *testing.T) {
	s := newTestServer(t)
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
	p := popImage(t, s, nil)
	call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1})
	list := call(t, s, "GET", "v2/workers", "", nil)
	require.Equal(t, 200, list.status)
	require.Len(t, list.list, 1)
	w := list.list[0].(map[string]any)
	assert.Equal(t, "w1", w["name"])
	assert.NotContains(t, w, "owner", "owner hidden unless public_workers or moderator")
	byID := call(t, s, "GET", "v2/workers/"+w["id"].(string), "", nil)
	require.Equal(t, 200, byID.status)
	assert.Equal(t, 1.0, byID.num("requests_fulfilled"))
	assert.Greater(t, byID.num("kudos_rewards"), 0.0)
	byName := call(t, s, "GET", "v2/workers/name/w1", "", nil)
	assert.Equal(t, w["id"], byName.str("id"))
	nf := call(t, s, "GET", "v2/workers/name/nobody", "", nil)
	assert.Equal(t, 404, nf.status)
	assert.Equal(t, "WorkerNotFound", nf.str("rc"))
}

func TestKudosTransfer(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk))
	tr := func(key, to string, amount int, idem string) resp {
		var hdr []string
		if idem != "" {
			hdr = []string{"Idempotency-Key", idem}
		}
		return call(t, s, "POST", "v2/kudos/transfer", key, map[string]any{"username": to, "amount": amount}, hdr...)
	}
	r := tr(keyAlice, "bob#2", 100, "k1")
	require.Equal(t, 200, r.status, string(r.raw))
	assert.Equal(t, 100.0, r.num("transferred"))
	r = tr(keyAlice, "bob#2", 100, "k1")
	require.Equal(t, 200, r.status, "replay")
	ak, _ := s.Kudos(keyAlice)
	bk, _ := s.Kudos(keyBob)
	assert.Equal(t, 900.0, ak, "a replay moves nothing")
	assert.Equal(t, 150.0, bk)
	tests := []struct {
		name, key, to string
		amount        int
		idem          string
		status        int
		rc            string
	}{
		{"idempotency conflict", keyAlice, "bob#2", 5, "k1", 400, "IdempotencyKeyConflict"},
		{"from anon", AnonymousAPIKey, "bob#2", 5, "", 400, "KudosTransferFromAnon"},
		{"unknown target", keyAlice, "nobody#77", 5, "", 400, "InvalidTargetUsername"},
		{"to anon", keyAlice, "Anonymous#0", 5, "", 400, "KudosTransferToAnon"},
		{"to self", keyAlice, "alice#1", 5, "", 400, "KudosTransferToSelf"},
		{"negative", keyAlice, "bob#2", -5, "", 400, "NegativeKudosTransfer"},
		{"zero", keyAlice, "bob#2", 0, "", 400, "InvalidKudosTransferAmount"},
		{"not enough", keyAlice, "bob#2", 100000, "", 400, "KudosTransferNotEnough"},
		{"too fast back", keyBob, "alice#1", 5, "", 400, "TooFastKudosTransfers"},
		{"bad key", "nope", "bob#2", 5, "", 401, "InvalidAPIKey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tr(tc.key, tc.to, tc.amount, tc.idem)
			require.Equal(t, tc.status, r.status, string(r.raw))
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
	clk.Advance(61 * time.Second)
	assert.Equal(t, 200, tr(keyBob, "alice#1", 5, "").status)
}

func TestStatusEndpoints(t *testing.T) {
	s := newTestServer(t, WithAutoFulfil(time.Hour))
	call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x"})
	m := call(t, s, "GET", "v2/status/models", "", nil)
	require.Equal(t, 200, m.status)
	require.Len(t, m.list, 1)
	sd := m.list[0].(map[string]any)
	assert.Equal(t, "stable_diffusion", sd["name"])
	assert.Equal(t, 1.0, sd["count"])
	assert.Equal(t, 1.0, sd["jobs"])
	assert.Equal(t, 400, call(t, s, "GET", "v2/status/models?model_state=odd", "", nil).status)
	assert.Equal(t, 400, call(t, s, "GET", "v2/status/models?min_count=x", "", nil).status)
	assert.Empty(t, call(t, s, "GET", "v2/status/models?min_count=2", "", nil).list)
	one := call(t, s, "GET", "v2/status/models/stable_diffusion", "", nil)
	require.Len(t, one.list, 1)
	assert.Empty(t, call(t, s, "GET", "v2/status/models/SDXL%201.0", "", nil).list)
	tm := call(t, s, "GET", "v2/status/models?type=text", "", nil)
	require.Len(t, tm.list, 1)

	perf := call(t, s, "GET", "v2/status/performance", "", nil)
	assert.Equal(t, 1.0, perf.num("queued_requests"))
	assert.Equal(t, 1.0, perf.num("worker_count"))

	modes := call(t, s, "GET", "v2/status/modes", keyAlice, nil)
	assert.Equal(t, 403, modes.status)
	assert.Equal(t, "NotModerator", modes.str("rc"))
	assert.Equal(t, 200, call(t, s, "GET", "v2/status/news", "", nil).status)
	for _, p := range []string{"v2/stats/img/totals", "v2/stats/img/models", "v2/stats/text/totals", "v2/stats/text/models"} {
		assert.Equal(t, 200, call(t, s, "GET", p, "", nil).status, p)
	}
}

package hordetest

import (
	"bytes"
	"image"
	_ "image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func popText(t testing.TB, s *Server, extra map[string]any) resp {
	t.Helper()
	body := map[string]any{"name": "tw1", "models": []string{"koboldcpp/test-13B"}, "max_length": 512, "max_context_length": 4096,
		"bridge_agent": "AI Horde Worker:24:https://example.org"}
	for k, v := range extra {
		body[k] = v
	}
	return call(t, s, "POST", "v2/generate/text/pop", keyWorker, body)
}

func TestTextLifecycle(t *testing.T) {
	s := newTestServer(t)
	a := call(t, s, "POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": "Once upon a time", "params": map[string]any{"max_length": 16, "n": 2}})
	require.Equal(t, 202, a.status, string(a.raw))
	assert.Equal(t, 0.0, a.num("kudos"))
	assert.NotContains(t, a.body, "warnings", "text requests carry no warnings")
	id := a.str("id")

	p := popText(t, s, nil)
	require.Equal(t, 200, p.status, string(p.raw))
	require.NotEmpty(t, p.str("id"))
	assert.NotEqual(t, id, p.str("id"))
	assert.Equal(t, 150.0, p.num("ttl"))
	payload := p.body["payload"].(map[string]any)
	assert.Equal(t, "Once upon a time", payload["prompt"])
	assert.Equal(t, 1.0, payload["n"])
	assert.Equal(t, 16.0, payload["max_length"])
	assert.NotContains(t, p.body, "r2_upload")

	sub := call(t, s, "POST", "v2/generate/text/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "there was a cat", "seed": 9})
	require.Equal(t, 200, sub.status, string(sub.raw))
	assert.Greater(t, sub.num("reward"), 0.0)
	dup := call(t, s, "POST", "v2/generate/text/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "x"})
	assert.Equal(t, "DuplicateGen", dup.str("rc"))

	st := call(t, s, "GET", "v2/generate/text/status/"+id, "", nil)
	require.Equal(t, 200, st.status)
	gens := st.body["generations"].([]any)
	require.Len(t, gens, 1)
	g := gens[0].(map[string]any)
	assert.Equal(t, "there was a cat", g["text"])
	assert.Equal(t, 9.0, g["seed"], "text seeds are integers")
	assert.NotContains(t, g, "id")
	assert.Equal(t, 1.0, st.num("waiting"))

	// Text DELETE sets n=0 only: done stays false while a job never ran (server quirk).
	d := call(t, s, "DELETE", "v2/generate/text/status/"+id, "", nil)
	require.Equal(t, 200, d.status)
	st = call(t, s, "GET", "v2/generate/text/status/"+id, "", nil)
	assert.Equal(t, false, st.body["done"])
	assert.Equal(t, 0.0, st.num("waiting"))
	assert.Equal(t, 404, call(t, s, "GET", "v2/generate/text/status/"+id[:8], "", nil).status)
}

func TestTextValidation(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name   string
		body   map[string]any
		status int
		rc     string
	}{
		{"empty prompt", map[string]any{"prompt": ""}, 400, "MissingPrompt"},
		{"token overflow", map[string]any{"prompt": "x", "params": map[string]any{"max_length": 512, "max_context_length": 256}}, 400, "TokenOverflow"},
		{"sampler order", map[string]any{"prompt": "x", "params": map[string]any{"sampler_order": []int{1, 2}}}, 400, "MissingFullSamplerOrder"},
		{"max_length schema", map[string]any{"prompt": "x", "params": map[string]any{"max_length": 5000}}, 400, ""},
		{"dry run", map[string]any{"prompt": "x", "dry_run": true}, 200, ""},
		{"dry run unknown model is a 500 (quirk)", map[string]any{"prompt": "x", "dry_run": true, "models": []string{"mystery"}}, 500, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "POST", "v2/generate/text/async", keyAlice, tc.body)
			require.Equal(t, tc.status, r.status, string(r.raw))
			assert.Equal(t, tc.rc, r.str("rc"))
		})
	}
}

func TestTextPopSkipsAndFaults(t *testing.T) {
	s := newTestServer(t)
	a := call(t, s, "POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": "x", "params": map[string]any{"max_length": 1024, "max_context_length": 8192}})
	require.Equal(t, 202, a.status, string(a.raw))
	p := popText(t, s, nil)
	require.Empty(t, p.str("id"))
	assert.Equal(t, 1.0, p.body["skipped"].(map[string]any)["max_context_length"])

	b := call(t, s, "POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": "y"})
	for i := 0; i < 3; i++ {
		p = popText(t, s, nil)
		require.NotEmpty(t, p.str("id"), string(p.raw))
		f := call(t, s, "POST", "v2/generate/text/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "", "state": "faulted"})
		require.Equal(t, 200, f.status)
	}
	st := call(t, s, "GET", "v2/generate/text/status/"+b.str("id"), "", nil)
	assert.Equal(t, true, st.body["faulted"])
	assert.Equal(t, true, st.body["done"])
}

func TestTextAutoFulfil(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk), WithAutoFulfil(time.Second))
	a := call(t, s, "POST", "v2/generate/text/async", keyAlice, map[string]any{"prompt": "hello"})
	clk.Advance(time.Second)
	st := call(t, s, "GET", "v2/generate/text/status/"+a.str("id"), "", nil)
	assert.Equal(t, true, st.body["done"])
	g := st.body["generations"].([]any)[0].(map[string]any)
	assert.Equal(t, SyntheticText("hello", int(g["seed"].(float64))), g["text"])
	assert.Equal(t, "hordetest/text", g["model"])
}

func TestAlchemyLifecycle(t *testing.T) {
	s := newTestServer(t)
	a := call(t, s, "POST", "v2/interrogate/async", keyAlice, map[string]any{"source_image": "https://example.org/cat.webp",
		"forms": []map[string]any{{"name": "caption"}, {"name": "nsfw"}, {"name": "caption"}, {"name": "RealESRGAN_x4plus"}}})
	require.Equal(t, 202, a.status, string(a.raw))
	id := a.str("id")
	assert.Equal(t, []string{"id"}, keys(a.body), "202 carries only the id")

	st := call(t, s, "GET", "v2/interrogate/status/"+id, "", nil)
	require.Equal(t, 200, st.status)
	assert.Equal(t, "waiting", st.str("state"))
	require.Len(t, st.body["forms"].([]any), 3, "duplicate forms are dropped")

	p := call(t, s, "POST", "v2/interrogate/pop", keyWorker, map[string]any{"name": "aw1", "forms": []string{"caption", "RealESRGAN_x4plus"}, "amount": 5})
	require.Equal(t, 200, p.status, string(p.raw))
	forms := p.body["forms"].([]any)
	require.Len(t, forms, 2)
	var caption, upscale map[string]any
	for _, f := range forms {
		m := f.(map[string]any)
		if m["form"] == "caption" {
			caption = m
		} else {
			upscale = m
		}
	}
	assert.NotContains(t, caption, "r2_upload")
	assert.Contains(t, upscale, "r2_upload")
	assert.Equal(t, "https://example.org/cat.webp", caption["source_image"])

	sub := call(t, s, "POST", "v2/interrogate/submit", keyWorker, map[string]any{"id": caption["id"], "result": map[string]any{"caption": "a cat"}})
	require.Equal(t, 200, sub.status, string(sub.raw))
	assert.Equal(t, 1.0, sub.num("reward"))
	sub = call(t, s, "POST", "v2/interrogate/submit", keyWorker, map[string]any{"id": upscale["id"], "result": map[string]any{"RealESRGAN_x4plus": "R2"}})
	require.Equal(t, 200, sub.status, string(sub.raw))
	dup := call(t, s, "POST", "v2/interrogate/submit", keyWorker, map[string]any{"id": caption["id"], "result": map[string]any{"caption": "a cat"}})
	assert.Equal(t, "DuplicateGen", dup.str("rc"))

	st = call(t, s, "GET", "v2/interrogate/status/"+id, "", nil)
	assert.Equal(t, "waiting", st.str("state"), "the nsfw form still waits")
	d := call(t, s, "DELETE", "v2/interrogate/status/"+id, "", nil)
	require.Equal(t, 200, d.status)
	assert.Equal(t, "partial", d.str("state"))
	var res map[string]any
	for _, f := range d.body["forms"].([]any) {
		m := f.(map[string]any)
		if m["form"] == "caption" {
			res = m["result"].(map[string]any)
		}
		if m["form"] == "nsfw" {
			assert.Equal(t, "cancelled", m["state"])
		}
	}
	assert.Equal(t, "a cat", res["caption"])
	assert.Equal(t, 404, call(t, s, "GET", "v2/interrogate/status/nope", "", nil).status)
}

func TestAlchemyAutoFulfilAndErrors(t *testing.T) {
	clk := NewFakeClock(t0)
	s := newTestServer(t, WithClock(clk), WithAutoFulfil(time.Second))
	bad := call(t, s, "POST", "v2/interrogate/async", keyAlice, map[string]any{"forms": []map[string]any{{"name": "caption"}}})
	assert.Equal(t, 400, bad.status)
	nokey := call(t, s, "POST", "v2/interrogate/async", "nope", map[string]any{"source_image": "aGVsbG8=", "forms": []map[string]any{{"name": "caption"}}})
	assert.Equal(t, "InvalidAPIKey", nokey.str("rc"))
	a := call(t, s, "POST", "v2/interrogate/async", keyAlice, map[string]any{"source_image": "aGVsbG8=", "forms": []map[string]any{{"name": "caption"}, {"name": "interrogation"}}})
	require.Equal(t, 202, a.status)
	clk.Advance(time.Second)
	st := call(t, s, "GET", "v2/interrogate/status/"+a.str("id"), "", nil)
	assert.Equal(t, "done", st.str("state"))
	for _, f := range s.Forms() {
		assert.Equal(t, 1, f.Submits)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAlchemyResultShapes: the built-in alchemist answers with the shapes real alchemists give:
// an interrogation by category of {text, confidence}, and for the image forms a URL of an image
// the R2 stand-in serves (it answered a placeholder string before).
func TestAlchemyResultShapes(t *testing.T) {
	s := newTestServer(t, WithAutoFulfil(0))
	forms := []string{"caption", "nsfw", "interrogation", "RealESRGAN_x2plus", "GFPGAN", "strip_background"}
	var in []map[string]any
	for _, f := range forms {
		in = append(in, map[string]any{"name": f})
	}
	a := call(t, s, "POST", "v2/interrogate/async", keyAlice, map[string]any{"source_image": "https://example.org/a.webp", "forms": in})
	require.Equal(t, 202, a.status, string(a.raw))
	st := call(t, s, "GET", "v2/interrogate/status/"+a.str("id"), "", nil)
	require.Equal(t, "done", st.str("state"), string(st.raw))
	results := map[string]map[string]any{}
	for _, f := range st.body["forms"].([]any) {
		fm := f.(map[string]any)
		results[fm["form"].(string)] = fm["result"].(map[string]any)
	}
	require.Len(t, results, len(forms))
	assert.IsType(t, "", results["caption"]["caption"])
	assert.IsType(t, true, results["nsfw"]["nsfw"])
	cats := results["interrogation"]["interrogation"].(map[string]any)
	for _, c := range []string{"tags", "sites", "artists", "flavors", "mediums", "movements", "techniques"} {
		list, ok := cats[c].([]any)
		require.True(t, ok, "category %s", c)
		require.NotEmpty(t, list, c)
		for _, e := range list {
			entry := e.(map[string]any)
			assert.IsType(t, "", entry["text"], c)
			assert.IsType(t, 0.0, entry["confidence"], c)
		}
	}
	for _, f := range []string{"RealESRGAN_x2plus", "GFPGAN", "strip_background"} {
		url, ok := results[f][f].(string)
		require.True(t, ok, f)
		require.True(t, strings.HasPrefix(url, s.BaseURL+"/r2/download/"), "%s: %s", f, url)
		res, err := s.Client().Get(url)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode, f)
		_, _, err = image.DecodeConfig(bytes.NewReader(body))
		assert.NoError(t, err, "%s: an image", f)
	}
}

// TestAlchemyR2ResultIsAnsweredAsURL: a worker that put an image form's result on R2 submits
// "R2"; the status answers the object's download URL, for whoever asks.
func TestAlchemyR2ResultIsAnsweredAsURL(t *testing.T) {
	s := newTestServer(t)
	a := call(t, s, "POST", "v2/interrogate/async", keyAlice, map[string]any{"source_image": "https://example.org/a.webp",
		"forms": []map[string]any{{"name": "GFPGAN"}}})
	require.Equal(t, 202, a.status, string(a.raw))
	p := call(t, s, "POST", "v2/interrogate/pop", keyWorker, map[string]any{"name": "aw", "forms": []string{"GFPGAN"}})
	form := p.body["forms"].([]any)[0].(map[string]any)
	up, err := http.NewRequest(http.MethodPut, form["r2_upload"].(string), strings.NewReader("fixed face bytes"))
	require.NoError(t, err)
	res, err := s.Client().Do(up)
	require.NoError(t, err)
	res.Body.Close()
	sub := call(t, s, "POST", "v2/interrogate/submit", keyWorker, map[string]any{"id": form["id"], "result": map[string]any{"GFPGAN": "R2"}})
	require.Equal(t, 200, sub.status, string(sub.raw))
	st := call(t, s, "GET", "v2/interrogate/status/"+a.str("id"), "", nil)
	url := st.body["forms"].([]any)[0].(map[string]any)["result"].(map[string]any)["GFPGAN"].(string)
	res, err = s.Client().Get(url)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, "fixed face bytes", string(body))
}

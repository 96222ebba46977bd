package hordetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
)

// TestModelStatsCarryEveryPeriod: a fresh server's model statistics carry day, month and total,
// empty, as the server's do (defect: `{}` before the converter made them required).
func TestModelStatsCarryEveryPeriod(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"v2/stats/img/models", "v2/stats/text/models"} {
		r := call(t, s, "GET", path, "", nil)
		require.Equal(t, 200, r.status)
		var got map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(r.raw, &got))
		assert.Equal(t, map[string]json.RawMessage{"day": json.RawMessage("{}"), "month": json.RawMessage("{}"),
			"total": json.RawMessage("{}")}, got, path)
	}
}

// TestModelStatsFilterByState: known models are the reference's, custom ones the rest; the
// stats routes default to known.
func TestModelStatsFilterByState(t *testing.T) {
	s := newTestServer(t)
	s.mu.Lock()
	s.stats.imgModels = map[string]int{"Deliberate": 3, "my-merge": 2}
	s.stats.txtModels = map[string]int{"koboldcpp/LLaMA2-13B-Psyfighter2": 4, "koboldcpp/LLaMA2-13B-Psyfighter2::alice#1": 1, "my/llm": 5}
	s.mu.Unlock()
	tests := []struct {
		path string
		want map[string]any
	}{
		{"v2/stats/img/models", map[string]any{"Deliberate": 3.0}},
		{"v2/stats/img/models?model_state=known", map[string]any{"Deliberate": 3.0}},
		{"v2/stats/img/models?model_state=custom", map[string]any{"my-merge": 2.0}},
		{"v2/stats/img/models?model_state=all", map[string]any{"Deliberate": 3.0, "my-merge": 2.0}},
		{"v2/stats/text/models?model_state=known", map[string]any{"koboldcpp/LLaMA2-13B-Psyfighter2": 4.0, "koboldcpp/LLaMA2-13B-Psyfighter2::alice#1": 1.0}},
		{"v2/stats/text/models?model_state=custom", map[string]any{"my/llm": 5.0}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := call(t, s, "GET", tt.path, "", nil)
			require.Equal(t, 200, r.status)
			for _, period := range []string{"day", "month", "total"} {
				assert.Equal(t, tt.want, r.body[period], period)
			}
		})
	}
	assert.Equal(t, 400, call(t, s, "GET", "v2/stats/img/models?model_state=odd", "", nil).status)
}

// TestModelReferenceJudgesRequests: baselines, requirements and known models come from the model
// reference, not from model names.
func TestModelReferenceJudgesRequests(t *testing.T) {
	s := newTestServer(t)
	dry := func(model string) float64 {
		return call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "dry_run": true, "models": []string{model}}).num("kudos")
	}
	// f(6.5) = 7.5 per job (see TestImageKudosFigures), times the baseline's multiplier, plus 1.
	assert.Equal(t, 8.0, dry("stable_diffusion"), "7.5*1+1 = 8.5 -> 8")
	assert.Equal(t, 16.0, dry("Pony Realism"), "an SDXL model without XL in its name: 7.5*2+1")

	r := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "models": []string{"Pony Realism"},
		"params": map[string]any{"clip_skip": 1, "sampler_name": "k_lms"}})
	require.Equal(t, 202, r.status, string(r.raw))
	var codes []string
	for _, w := range r.body["warnings"].([]any) {
		codes = append(codes, w.(map[string]any)["code"].(string))
	}
	assert.Subset(t, codes, []string{"ClipSkipMismatch", "SamplerMismatch"}, "the reference's requirements")

	hires := call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "models": []string{"Flux.1-Schnell fp8 (Compact)"},
		"params": map[string]any{"hires_fix": true}})
	assert.Equal(t, "HiResMismatch", hires.str("rc"))

	// A worker offers a reference model without the customizer role, not a model of its own.
	p := call(t, s, "POST", "v2/generate/pop", keyWorker, map[string]any{"name": "w", "models": []string{"Pony Realism", "my-merge"}})
	require.Equal(t, 200, p.status, string(p.raw))
	s.mu.Lock()
	models := s.workerNames["w"].models
	s.mu.Unlock()
	assert.Equal(t, []string{"Pony Realism"}, models)
}

// TestWithModelReference: a reference given as an option replaces the snapshot.
func TestWithModelReference(t *testing.T) {
	ref, err := params.LoadImageModelReference(strings.NewReader(`{"Only Model":{"name":"Only Model","baseline":"stable_diffusion_xl"}}`))
	require.NoError(t, err)
	s := newTestServer(t, WithModelReference(ref, nil))
	assert.True(t, s.knownImageModel("Only Model"))
	assert.True(t, s.knownImageModel("stable_diffusion"), "the built-in worker's model")
	assert.False(t, s.knownImageModel("Deliberate"))
	assert.Equal(t, 2.0, s.modelBaseline("Only Model"))
	assert.True(t, s.knownTextModel("koboldcpp/LLaMA2-13B-Psyfighter2"), "the text snapshot stays")
	// The server's no_q_regex wants a tag before the Q: ".i1-Q4_K_M", ".gguf-Q8_0".
	assert.True(t, s.knownTextModel("koboldcpp/LLaMA2-13B-Psyfighter2.i1-Q4_K_M"), "known without its quantisation tag")
	assert.True(t, s.knownTextModel("koboldcpp/LLaMA2-13B-Psyfighter2.gguf-Q8_0::alice#1"))
	assert.False(t, s.knownTextModel("koboldcpp/LLaMA2-13B-Psyfighter2.Q4_K_M"), "no tag before the Q: as the server, not stripped")
	assert.False(t, s.knownTextModel("koboldcpp/LLaMA2-13B-Psyfighter3.i1-Q4_K_M"))
}

// TestStatusModelsFilterByState: /v2/status/models keeps all models by default, the reference's
// with model_state=known, the others with custom.
func TestStatusModelsFilterByState(t *testing.T) {
	s := newTestServer(t, WithUser(User{Name: "maker", APIKey: "custom-key-0009", Customizer: true}))
	require.Equal(t, 200, popImage(t, s, map[string]any{"name": "w-known", "models": []string{"Deliberate"}}).status)
	cust := call(t, s, "POST", "v2/generate/pop", "custom-key-0009", map[string]any{"name": "w-custom", "models": []string{"my-merge"}})
	require.Equal(t, 200, cust.status, string(cust.raw))
	names := func(q string) []string {
		r := call(t, s, "GET", "v2/status/models?type=image"+q, "", nil)
		require.Equal(t, 200, r.status, string(r.raw))
		var out []string
		for _, m := range r.list {
			out = append(out, m.(map[string]any)["name"].(string))
		}
		return out
	}
	assert.ElementsMatch(t, []string{"Deliberate", "my-merge"}, names(""))
	assert.Equal(t, []string{"Deliberate"}, names("&model_state=known"))
	assert.Equal(t, []string{"my-merge"}, names("&model_state=custom"))
}

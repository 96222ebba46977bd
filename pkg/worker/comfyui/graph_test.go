package comfyui

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// testObjectInfo is the recorded /object_info with a checkpoint, two LoRAs and two uploaded
// images, as a server with models has them.
func testObjectInfo(t *testing.T) ObjectInfo {
	f := &fakeComfy{oi: loadObjectInfo(t)}
	f.setChoices("CheckpointLoaderSimple", "ckpt_name", []string{"tiny_sd15.safetensors"})
	f.setChoices("LoraLoader", "lora_name", []string{"detail-tweaker.safetensors", "styles/GlowingRunes.safetensors"})
	f.setChoices("LoadImage", "image", []string{"example.png", "src.png", "mask.png"})
	f.setChoices("LoadImageMask", "image", []string{"example.png", "src.png", "mask.png"})
	return f.oi
}

// TestGraphs: each Horde feature the backend maps, on the graph it builds, every graph valid
// for the recorded ComfyUI.
func TestGraphs(t *testing.T) {
	oi := testObjectInfo(t)
	tests := []struct {
		name   string
		img    params.Image
		source string
		mask   string
		check  func(t *testing.T, g Graph, notes []worker.Metadata)
	}{
		{"txt2img with defaults", params.Image{Prompt: "a cube", NegativePrompt: "blurry"}, "", "", func(t *testing.T, g Graph, _ []worker.Metadata) {
			_, ks, _ := g.nodeOf("KSampler")
			assert.Equal(t, "euler_ancestral", ks.Inputs["sampler_name"], "k_euler_a, the Horde's default")
			assert.Equal(t, "karras", ks.Inputs["scheduler"], "karras, the Horde's default")
			assert.Equal(t, 30, ks.Inputs["steps"])
			assert.Equal(t, 7.5, ks.Inputs["cfg"])
			assert.Equal(t, 1.0, ks.Inputs["denoise"])
			assert.Equal(t, uint64(42), ks.Inputs["seed"])
			_, lat, _ := g.nodeOf("EmptyLatentImage")
			assert.Equal(t, 512, lat.Inputs["width"])
			assert.Equal(t, []string{"CLIPTextEncode", "CheckpointLoaderSimple", "EmptyLatentImage", "KSampler", "SaveImage", "VAEDecode"}, g.Classes())
		}},
		{"sampler, scheduler, size, steps, cfg", params.Image{Prompt: "p", Sampler: params.SamplerKDPMPP2M, Scheduler: params.SchedulerNormal,
			Width: new(768), Height: new(512), Steps: new(12), CFGScale: new(5.0)}, "", "", func(t *testing.T, g Graph, _ []worker.Metadata) {
			_, ks, _ := g.nodeOf("KSampler")
			assert.Equal(t, "dpmpp_2m", ks.Inputs["sampler_name"])
			assert.Equal(t, "normal", ks.Inputs["scheduler"])
			assert.Equal(t, 12, ks.Inputs["steps"])
			_, lat, _ := g.nodeOf("EmptyLatentImage")
			assert.Equal(t, 768, lat.Inputs["width"])
		}},
		{"clip skip", params.Image{Prompt: "p", ClipSkip: new(2)}, "", "", func(t *testing.T, g Graph, _ []worker.Metadata) {
			_, n, ok := g.nodeOf("CLIPSetLastLayer")
			require.True(t, ok)
			assert.Equal(t, -2, n.Inputs["stop_at_clip_layer"])
		}},
		{"img2img", params.Image{Prompt: "p", SourceProcessing: params.SourceImg2Img, DenoisingStrength: new(0.4),
			Source: &params.SourceImage{}}, "src.png", "", func(t *testing.T, g Graph, _ []worker.Metadata) {
			_, ks, _ := g.nodeOf("KSampler")
			assert.Equal(t, 0.4, ks.Inputs["denoise"])
			assert.Contains(t, g.Classes(), "VAEEncode")
			_, li, _ := g.nodeOf("LoadImage")
			assert.Equal(t, "src.png", li.Inputs["image"])
			assert.NotContains(t, g.Classes(), "EmptyLatentImage")
		}},
		{"inpainting with a mask", params.Image{Prompt: "p", SourceProcessing: params.SourceInpainting,
			Source: &params.SourceImage{}}, "src.png", "mask.png", func(t *testing.T, g Graph, _ []worker.Metadata) {
			_, m, ok := g.nodeOf("LoadImageMask")
			require.True(t, ok)
			assert.Equal(t, "mask.png", m.Inputs["image"])
			_, enc, _ := g.nodeOf("VAEEncodeForInpaint")
			maskID, _, _ := g.nodeOf("LoadImageMask")
			assert.Equal(t, Link{maskID, 0}, enc.Inputs["mask"])
		}},
		{"outpainting from the alpha", params.Image{Prompt: "p", SourceProcessing: params.SourceOutpainting,
			Source: &params.SourceImage{}}, "src.png", "", func(t *testing.T, g Graph, _ []worker.Metadata) {
			srcID, _, _ := g.nodeOf("LoadImage")
			_, enc, _ := g.nodeOf("VAEEncodeForInpaint")
			assert.Equal(t, Link{srcID, 1}, enc.Inputs["mask"], "the source's alpha is the mask")
			assert.NotContains(t, g.Classes(), "LoadImageMask")
		}},
		{"LoRAs in order, a missing one reported", params.Image{Prompt: "p", LoRAs: []params.LoRA{
			{Name: "detail-tweaker", Model: new(0.5), Clip: new(0.25)}, {Name: "123456"}, {Name: "GlowingRunes"}}}, "", "",
			func(t *testing.T, g Graph, notes []worker.Metadata) {
				var chain []string
				for _, id := range g.ids() {
					if g[id].ClassType == "LoraLoader" {
						chain = append(chain, g[id].Inputs["lora_name"].(string))
					}
				}
				assert.Equal(t, []string{"detail-tweaker.safetensors", "styles/GlowingRunes.safetensors"}, chain)
				_, first, _ := g.nodeOf("LoraLoader")
				assert.Equal(t, 0.5, first.Inputs["strength_model"])
				assert.Equal(t, 0.25, first.Inputs["strength_clip"])
				assert.Equal(t, []worker.Metadata{{Type: "lora", Value: "download_failed", Ref: "123456"}}, notes)
			}},
	}
	hires := params.Image{Prompt: "p", Baseline: params.BaselineSD1, Width: new(1024), Height: new(768), HiresFix: &params.HiresFix{}}
	require.True(t, params.ComputeHiresFix(&hires))
	tests = append(tests, struct {
		name   string
		img    params.Image
		source string
		mask   string
		check  func(t *testing.T, g Graph, notes []worker.Metadata)
	}{"hires fix: two passes", hires, "", "", func(t *testing.T, g Graph, _ []worker.Metadata) {
		_, lat, _ := g.nodeOf("EmptyLatentImage")
		assert.Equal(t, hires.HiresFix.FirstPass.Width, lat.Inputs["width"], "the first pass at the native size")
		assert.Less(t, lat.Inputs["width"].(int), 1024)
		_, up, ok := g.nodeOf("LatentUpscale")
		require.True(t, ok)
		assert.Equal(t, 1024, up.Inputs["width"])
		assert.Equal(t, 768, up.Inputs["height"])
		var passes []Node
		for _, id := range g.ids() {
			if g[id].ClassType == "KSampler" {
				passes = append(passes, g[id])
			}
		}
		require.Len(t, passes, 2)
		assert.Equal(t, hires.HiresFix.SecondPass.Steps, passes[1].Inputs["steps"])
		assert.Equal(t, hires.HiresFix.SecondPass.DenoisingStrength, passes[1].Inputs["denoise"])
	}}, struct {
		name   string
		img    params.Image
		source string
		mask   string
		check  func(t *testing.T, g Graph, notes []worker.Metadata)
	}{"textual inversions injected, a missing one reported", params.Image{Prompt: "a cat", NegativePrompt: "ugly", TIs: []params.TI{
		{Name: "EasyNegative", Inject: params.TIInjectNegative, Strength: new(0.8)}, {Name: "style-x", Inject: params.TIInjectPositive},
		{Name: "missing-ti", Inject: params.TIInjectPositive}}}, "", "", func(t *testing.T, g Graph, notes []worker.Metadata) {
		var texts []string
		for _, id := range g.ids() {
			if g[id].ClassType == "CLIPTextEncode" {
				texts = append(texts, g[id].Inputs["text"].(string))
			}
		}
		assert.Equal(t, []string{"(embedding:style-x:1), a cat", "(embedding:EasyNegative:0.8), ugly"}, texts)
		assert.Equal(t, []worker.Metadata{{Type: "ti", Value: "download_failed", Ref: "missing-ti"}}, notes)
	}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, notes, err := buildGraph(oi, request{img: &tt.img, seed: 42, checkpoint: "tiny_sd15.safetensors",
				source: tt.source, mask: tt.mask, prefix: "t", embeddings: []string{"EasyNegative.safetensors", "style-x.pt"}})
			require.NoError(t, err)
			require.NoError(t, oi.Validate(g), "%s", g)
			tt.check(t, g, notes)
		})
	}
}

func TestGraphErrors(t *testing.T) {
	oi := testObjectInfo(t)
	_, _, err := buildGraph(oi, request{img: &params.Image{Prompt: "p", Sampler: "k_unknown"}, checkpoint: "tiny_sd15.safetensors"})
	require.ErrorContains(t, err, `sampler "k_unknown"`)
	_, _, err = buildGraph(oi, request{img: &params.Image{Prompt: "p", Scheduler: "lunar"}, checkpoint: "tiny_sd15.safetensors"})
	require.ErrorContains(t, err, `scheduler "lunar"`)
}

// TestValidateCatchesWhatComfyUIRefuses: the checks the double applies to every graph.
func TestValidateCatchesWhatComfyUIRefuses(t *testing.T) {
	oi := testObjectInfo(t)
	tests := []struct {
		name string
		g    Graph
		want string
	}{
		{"unknown class", Graph{"1": {ClassType: "NoSuchNode", Inputs: map[string]any{}}}, "no such node class"},
		{"missing input", Graph{"1": {ClassType: "EmptyLatentImage", Inputs: map[string]any{"width": 64, "height": 64}}}, `"batch_size" is missing`},
		{"out of bounds", Graph{"1": {ClassType: "EmptyLatentImage", Inputs: map[string]any{"width": 0, "height": 64, "batch_size": 1}}}, "below the minimum"},
		{"not a choice", Graph{"1": {ClassType: "CheckpointLoaderSimple", Inputs: map[string]any{"ckpt_name": "nope.ckpt"}}}, "is not one of"},
		{"bad link", Graph{"1": {ClassType: "VAEDecode", Inputs: map[string]any{"samples": Link{"9", 0}, "vae": Link{"9", 2}}}}, "missing node 9"},
		{"wrong link type", Graph{
			"1": {ClassType: "CheckpointLoaderSimple", Inputs: map[string]any{"ckpt_name": "tiny_sd15.safetensors"}},
			"2": {ClassType: "VAEDecode", Inputs: map[string]any{"samples": Link{"1", 0}, "vae": Link{"1", 2}}}}, "wants LATENT, got MODEL"},
		{"unknown input", Graph{"1": {ClassType: "EmptyLatentImage", Inputs: map[string]any{"width": 64, "height": 64, "batch_size": 1, "depth": 3}}}, `unknown input "depth"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, oi.Validate(tt.g), tt.want)
		})
	}
}

package bridgeagent

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFor(t *testing.T) {
	regenV1 := []string{"4x_AnimeSharp", "CodeFormers", "GFPGAN", "NMKD_Siax", "RealESRGAN_x2plus", "RealESRGAN_x4plus",
		"RealESRGAN_x4plus_anime_6B", "clip_skip", "controlnet", "hires_fix", "image_is_control", "img2img", "inpainting",
		"karras", "post-processing", "r2", "r2_source", "return_control_map", "strip_background", "tiling"}
	tests := []struct {
		agent          string
		name, version  string
		has, hasNot    []string
		nFeatures      int
		official       bool
		image          float64
		textValidated  bool
		text           float64
		sampler, noKar string // one sampler that must be present (karras) / without karras
	}{
		{agent: "horde-go:1.0.0:https://github.com/horde-go/horde", name: "horde-go", version: "1.0.0",
			hasNot: []string{"img2img", "r2", "r2_source", "inpainting", "post-processing"}, nFeatures: 0,
			image: 0.75, text: 0.3, sampler: "k_euler_a", noKar: "DDIM"},
		{agent: "AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen", name: "AI Horde Worker reGen", version: "10.1.1",
			has: append([]string{"flux", "layer_diffuse", "qr_code", "lora", "extra_source_images"}, regenV1...), hasNot: []string{"RestoreFormer", "4xNomos8kSC"},
			nFeatures: len(regenV1) + 10, official: true, image: 0.9, text: 0.3, sampler: "lcm"},
		{agent: "AI Horde Worker reGen:13.0.0:x", name: "AI Horde Worker reGen", version: "13.0.0",
			has: []string{"RestoreFormer", "4xNomos8kSC", "img2img"}, nFeatures: len(regenV1) + 18, official: true, image: 1, text: 0.3, sampler: "DDIM"},
		{agent: "AI Horde Worker reGen:13.0.0-beta.1:x", name: "AI Horde Worker reGen", version: "13.0.0-beta.1",
			hasNot: []string{"RestoreFormer"}, nFeatures: len(regenV1) + 10, official: true, image: 0.9, text: 0.3},
		{agent: "AI Horde Worker reGen:13.1:x", name: "AI Horde Worker reGen", version: "13.1",
			has: []string{"RestoreFormer"}, nFeatures: len(regenV1) + 18, official: true, image: 1, text: 0.3},
		{agent: "AI Horde Worker:24:https://github.com/db0/AI-Horde-Worker", name: "AI Horde Worker", version: "24",
			has: []string{"textual_inversion", "img2img", "r2_source"}, hasNot: []string{"flux"}, nFeatures: 21,
			official: true, image: 1, textValidated: true, text: 1, sampler: "k_dpmpp_sde", noKar: "DDIM"},
		{agent: "AI Horde Worker:23:x", name: "AI Horde Worker", version: "23",
			hasNot: []string{"textual_inversion"}, nFeatures: 20, official: true, image: 0.9, textValidated: true, text: 1},
		{agent: "AI Horde Worker:3:x", name: "AI Horde Worker", version: "3",
			has: []string{"img2img"}, hasNot: []string{"inpainting"}, nFeatures: 1, official: true, image: 0.9, textValidated: true, text: 1},
		{agent: "AI Horde Worker~aphrodite~kai:24:x", name: "AI Horde Worker~aphrodite~kai", version: "24",
			nFeatures: 0, image: 0.75, textValidated: true, text: 1},
		{agent: "AI Horde Worker~unknown~kai:24:x", name: "AI Horde Worker~unknown~kai", version: "24",
			nFeatures: 0, image: 0.75, text: 0.3},
		{agent: "KoboldCppEmbedWorker:2:x", name: "KoboldCppEmbedWorker", version: "2", image: 0.75, textValidated: true, text: 1},
		{agent: "TabbyAPI:0.1.0:x", name: "TabbyAPI", version: "0.1.0", image: 0.75, textValidated: true, text: 1},
		{agent: "HordeAutoWebBridge:2:x", name: "HordeAutoWebBridge", version: "2",
			has: []string{"painting", "img2img", "karras", "tiling"}, nFeatures: 4, image: 0.75, text: 0.3, noKar: "k_euler"},
		{agent: "SD-WebUI Stable Horde Worker Bridge:1:x", name: "SD-WebUI Stable Horde Worker Bridge", version: "1",
			has: []string{"inpainting", "r2"}, hasNot: []string{"img2img", "tiling"}, nFeatures: 4, image: 0.75, text: 0.3, noKar: "plms"},
		{agent: "horde-go:v1.0.0:x", name: "unknown", version: "0", image: 0.75, text: 0.3, sampler: "k_euler"},
		{agent: "no colons", name: "unknown", version: "0", image: 0.75, text: 0.3},
		{agent: "AI Horde Worker:24", name: "unknown", version: "0", image: 0.75, text: 0.3},
		{agent: "", name: "unknown", version: "0", image: 0.75, text: 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.agent, func(t *testing.T) {
			g := For(tt.agent)
			assert.Equal(t, tt.agent, g.Agent)
			assert.Equal(t, tt.name, g.Name)
			assert.Equal(t, tt.version, g.Version)
			for _, f := range tt.has {
				assert.True(t, g.Has(f), "has %s", f)
			}
			for _, f := range tt.hasNot {
				assert.False(t, g.Has(f), "has not %s", f)
			}
			assert.Len(t, g.Features, tt.nFeatures, "%v", g.Features)
			assert.Equal(t, tt.official, g.Official)
			assert.InDelta(t, tt.image, g.ImageKudosMultiplier, 1e-9)
			assert.Equal(t, tt.textValidated, g.TextValidated)
			assert.InDelta(t, tt.text, g.TextKudosMultiplier, 1e-9)
			if tt.name == "AI Horde Worker" && tt.version == "3" {
				assert.Empty(t, g.Samplers, "samplers start at version 11")
			} else {
				assert.NotEmpty(t, g.Samplers)
			}
			if tt.sampler != "" {
				assert.Contains(t, g.Samplers, tt.sampler)
			}
			if tt.noKar != "" {
				assert.Contains(t, g.SamplersNoKarras, tt.noKar)
			}
		})
	}
}

func TestForeign(t *testing.T) {
	tests := []struct {
		agent, name string
		foreign     bool
	}{
		{"horde-go:1.0.0:x", "horde-go", false},
		{"", "", false},
		{"AI Horde Worker reGen:10.1.1:x", "AI Horde Worker reGen", true},
		{"AI Horde Worker~aphrodite~kai:24:x", "AI Horde Worker~aphrodite~kai", true},
		{"TabbyAPI:1:x", "TabbyAPI", true},
		{"horde_sdk:1:x", "horde_sdk", true},
		{"my-bridge:1.0:x", "my-bridge", false},
	}
	for _, tt := range tests {
		name, foreign := Foreign(tt.agent, "horde-go")
		assert.Equal(t, tt.name, name, tt.agent)
		assert.Equal(t, tt.foreign, foreign, tt.agent)
	}
}

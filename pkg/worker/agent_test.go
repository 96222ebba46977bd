package worker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/horde"
)

func TestDefaultBridgeAgent(t *testing.T) {
	a := DefaultBridgeAgent()
	name, rest, ok := strings.Cut(a, ":")
	require.True(t, ok)
	assert.Equal(t, "horde-go", name)
	version, url, ok := strings.Cut(rest, ":")
	require.True(t, ok)
	assert.Equal(t, horde.RepositoryURL, url)
	assert.Equal(t, cfgAgentVersion(horde.Version()), version)
	_, parses := agentParseSemver(version)
	assert.True(t, parses, "the server can parse %q", version)
	g := BridgeGrantsFor(a)
	assert.Equal(t, "horde-go", g.Name, "the server reads our own name, not unknown")
	_, foreign := cfgForeignAgent(a)
	assert.False(t, foreign)
}

func TestAgentVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v0.0.0-20260101120000-abcdef123456", "0.0.0-20260101120000-abcdef123456"},
		{"v2.0.0+incompatible", "2.0.0+incompatible"},
		{"v1.0.0-rc.1", "1.0.0-rc.1"},
		{"devel", "0.0.0-devel"},
		{"(devel)", "0.0.0-devel"},
		{"", "0.0.0-devel"},
		{"v01.2.3", "0.0.0-devel"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, cfgAgentVersion(tt.in))
		})
	}
}

func TestBridgeGrantsFor(t *testing.T) {
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
			g := BridgeGrantsFor(tt.agent)
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

func TestUnservedAllowances(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"horde-go defaults", "", []string{"allow_img2img"}},
		{"horde-go all on", "allow_painting: true\nallow_post_processing: true\nallow_controlnet: true\nallow_lora: true",
			[]string{"allow_img2img", "allow_painting", "allow_post_processing", "allow_controlnet", "allow_lora"}},
		{"all off", "allow_img2img: false", nil},
		{"regen", `bridge_agent: "AI Horde Worker reGen:10.1.1:x"` + "\nallow_lora: true\nallow_painting: true", nil},
		{"old AI Horde Worker", `bridge_agent: "AI Horde Worker:21:x"` + "\nallow_lora: true", []string{"allow_lora"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := ParseConfig([]byte(tt.yaml))
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.UnservedAllowances())
		})
	}
}

func TestLogBridgeAgent(t *testing.T) {
	tests := []struct {
		name, yaml string
		kinds      []horde.Kind
		level      string
		contains   []string
		absent     []string
	}{
		{"default image", "", []horde.Kind{horde.KindImage}, "INFO",
			[]string{"bridge_name=horde-go", "image_features=none", "image_kudos_multiplier=0.75", "allowances_not_granted=allow_img2img"},
			[]string{"text_validated"}},
		{"default text", "", []horde.Kind{horde.KindText}, "INFO",
			[]string{"text_validated=false", "text_kudos_multiplier=0.3"}, []string{"image_features"}},
		{"all kinds", "allow_img2img: false", nil, "INFO",
			[]string{"image_features=none", "text_validated=false"}, []string{"allowances_not_granted"}},
		{"impersonation", `bridge_agent: "AI Horde Worker~aphrodite~kai:24:x"`, []horde.Kind{horde.KindText}, "WARN",
			[]string{`impersonating \"AI Horde Worker~aphrodite~kai\"`, "text_validated=true", "text_kudos_multiplier=1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := ParseConfig([]byte(tt.yaml))
			require.NoError(t, err)
			var buf bytes.Buffer
			c.LogBridgeAgent(slog.New(slog.NewTextHandler(&buf, nil)), tt.kinds...)
			out := buf.String()
			assert.Equal(t, 1, strings.Count(out, "\n"), "one line: %s", out)
			assert.Contains(t, out, "level="+tt.level)
			for _, s := range tt.contains {
				assert.Contains(t, out, s)
			}
			for _, s := range tt.absent {
				assert.NotContains(t, out, s)
			}
		})
	}
}

func TestLogWarnings(t *testing.T) {
	var buf bytes.Buffer
	LogWarnings(slog.New(slog.NewTextHandler(&buf, nil)), []ConfigWarning{{Key: "max_treads", Message: "unknown key; ignored"}, {Key: "b", Message: "m"}})
	out := buf.String()
	assert.Equal(t, 2, strings.Count(out, "\n"))
	assert.Contains(t, out, "key=max_treads")
	assert.Contains(t, out, "level=WARN")
}

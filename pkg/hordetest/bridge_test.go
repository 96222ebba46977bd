package hordetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCapabilitiesAreTheServersTable: the simulator hands a job to a worker, or skips it with
// the server's reason, by the bridge table the worker reports from (internal/bridgeagent), at
// each bridge's version boundaries, with versions read as semver.
func TestCapabilitiesAreTheServersTable(t *testing.T) {
	src := map[string]any{"source_image": "https://example.org/a.webp"}
	withParams := func(p map[string]any, extra ...map[string]any) map[string]any {
		out := map[string]any{"params": p}
		for _, e := range extra {
			for k, v := range e {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name  string
		agent string
		req   map[string]any // on top of {"prompt": "x", "r2": false}
		skip  string         // "" = the worker gets the job
	}{
		{"reGen 13: r2", "AI Horde Worker reGen:13.0.0:u", map[string]any{"r2": true}, ""},
		{"reGen 1: lora from 2", "AI Horde Worker reGen:1.9.9:u", withParams(map[string]any{"loras": []map[string]any{{"name": "x"}}}), "bridge_version"},
		{"reGen 2: lora", "AI Horde Worker reGen:2.0.0:u", withParams(map[string]any{"loras": []map[string]any{{"name": "x"}}}), ""},
		{"reGen 2: lcm from 3", "AI Horde Worker reGen:2.0.0:u", withParams(map[string]any{"sampler_name": "lcm"}), "bridge_version"},
		{"reGen 3: lcm", "AI Horde Worker reGen:3.0.0:u", withParams(map[string]any{"sampler_name": "lcm"}), ""},
		{"reGen 12: 4xNomos8kSC from 13", "AI Horde Worker reGen:12.1.0:u", withParams(map[string]any{"post_processing": []string{"4xNomos8kSC"}}), "bridge_version"},
		{"reGen 13: 4xNomos8kSC", "AI Horde Worker reGen:13.0.0:u", withParams(map[string]any{"post_processing": []string{"4xNomos8kSC"}}), ""},
		{"AIHW 10: samplers from 11", "AI Horde Worker:10.0.0:u", nil, "bridge_version"},
		{"AIHW 11: k_euler_a", "AI Horde Worker:11:u", map[string]any{"r2": true}, ""},
		{"AIHW 17.9: strip_background from 18", "AI Horde Worker:17.9.0:u", withParams(map[string]any{"post_processing": []string{"strip_background"}}), "bridge_version"},
		{"AIHW 18: strip_background", "AI Horde Worker:18.0.0:u", withParams(map[string]any{"post_processing": []string{"strip_background"}}), ""},
		{"AIHW 12: hires_fix from 13", "AI Horde Worker:12.9.9:u", withParams(map[string]any{"hires_fix": true}), "bridge_version"},
		{"AIHW 13: hires_fix", "AI Horde Worker:13.0.0:u", withParams(map[string]any{"hires_fix": true}), ""},
		{"AIHW 22 pre-release: lora from 22", "AI Horde Worker:22.0.0-rc1:u", withParams(map[string]any{"loras": []map[string]any{{"name": "x"}}}), "bridge_version"},
		{"AIHW 22: lora", "AI Horde Worker:22.0.0:u", withParams(map[string]any{"loras": []map[string]any{{"name": "x"}}}), ""},
		{"SD-WebUI 3: clip_skip from 4", "SD-WebUI Stable Horde Worker Bridge:3.0.0:u", withParams(map[string]any{"clip_skip": 2}), "bridge_version"},
		{"SD-WebUI 4: clip_skip", "SD-WebUI Stable Horde Worker Bridge:4.0.0:u", withParams(map[string]any{"clip_skip": 2}), ""},
		{"SD-WebUI: no post-processing", "SD-WebUI Stable Horde Worker Bridge:9.0.0:u", withParams(map[string]any{"post_processing": []string{"GFPGAN"}}), "bridge_version"},
		{"SD-WebUI: DDIM without karras", "SD-WebUI Stable Horde Worker Bridge:1.0.0:u", withParams(map[string]any{"sampler_name": "DDIM", "karras": false}), ""},
		{"SD-WebUI: DDIM with karras", "SD-WebUI Stable Horde Worker Bridge:1.0.0:u", withParams(map[string]any{"sampler_name": "DDIM", "karras": true}), "bridge_version"},
		{"HordeAutoWebBridge: img2img, k_euler_a without karras", "HordeAutoWebBridge:1.0.0:u", withParams(map[string]any{"karras": false}, src), ""},
		{"HordeAutoWebBridge: k_euler_a with karras", "HordeAutoWebBridge:1.0.0:u", nil, "bridge_version"},
		{"HordeAutoWebBridge: no inpainting (the server's table says painting)", "HordeAutoWebBridge:2.0.0:u",
			map[string]any{"source_image": "https://example.org/a.webp", "source_mask": "https://example.org/m.webp", "source_processing": "inpainting",
				"models": []string{"stable_diffusion_inpainting"}}, "painting"},
		{"horde-go: no r2", "horde-go:0.1.0:u", map[string]any{"r2": true}, "bridge_version"},
		{"horde-go: r2 false", "horde-go:0.1.0:u", nil, ""},
		{"horde-go: no img2img", "horde-go:0.1.0:u", src, "img2img"},
		{"horde-go: samplers of AIHW 23", "horde-go:0.1.0:u", withParams(map[string]any{"sampler_name": "k_dpmpp_sde"}), ""},
		{"not semver: unknown", "AI Horde Worker reGen:v13:u", map[string]any{"r2": true}, "bridge_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			body := map[string]any{"prompt": "x", "r2": false}
			for k, v := range tt.req {
				body[k] = v
			}
			a := call(t, s, "POST", "v2/generate/async", keyAlice, body)
			require.Equal(t, 202, a.status, string(a.raw))
			models := []string{"stable_diffusion"}
			if m, ok := tt.req["models"]; ok {
				models = m.([]string)
			}
			p := popImage(t, s, map[string]any{"bridge_agent": tt.agent, "models": models, "allow_img2img": true,
				"allow_painting": true, "allow_lora": true, "allow_post_processing": true})
			require.Equal(t, 200, p.status, string(p.raw))
			if tt.skip == "" {
				assert.NotEmpty(t, p.str("id"), "skipped: %v", p.body["skipped"])
				return
			}
			assert.Empty(t, p.str("id"))
			assert.Equal(t, 1.0, p.body["skipped"].(map[string]any)[tt.skip], "skipped: %v", p.body["skipped"])
		})
	}
}

// TestImageKudosMultiplierByBridge: the worker's owner is credited the job's reward times the
// bridge's multiplier: 1 for reGen at its newest listed version, 0.9 below, 0.75 for any other.
func TestImageKudosMultiplierByBridge(t *testing.T) {
	tests := []struct {
		agent string
		want  float64
	}{
		{"AI Horde Worker reGen:13.0.0:u", 1},
		{"AI Horde Worker reGen:12.0.0:u", 0.9},
		{"AI Horde Worker:24.0.0:u", 1},
		{"AI Horde Worker:23.0.0:u", 0.9},
		{"horde-go:0.1.0:u", 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.agent, func(t *testing.T) {
			s := newTestServer(t)
			call(t, s, "POST", "v2/generate/async", keyAlice, map[string]any{"prompt": "x", "r2": false})
			p := popImage(t, s, map[string]any{"bridge_agent": tt.agent})
			require.NotEmpty(t, p.str("id"), string(p.raw))
			sub := call(t, s, "POST", "v2/generate/submit", keyWorker, map[string]any{"id": p.str("id"), "generation": "R2", "seed": 1})
			require.Equal(t, 200, sub.status, string(sub.raw))
			k, _ := s.Kudos(keyWorker)
			assert.InDelta(t, sub.num("reward")*tt.want, k, 1e-9)
		})
	}
}

package comfyui

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// TestBaselineGraphs: Flux samples through the custom sampler nodes, Stable Cascade in two
// stages with two checkpoints; both graphs valid for the recorded ComfyUI.
func TestBaselineGraphs(t *testing.T) {
	oi := testObjectInfo(t)
	f := &fakeComfy{oi: oi}
	f.setChoices("CheckpointLoaderSimple", "ckpt_name", []string{"tiny_sd15.safetensors", "flux1-schnell-fp8.safetensors",
		"stable_cascade_stage_c.safetensors", "stable_cascade_stage_b.safetensors"})

	flux, _, err := buildGraph(oi, request{img: &params.Image{Prompt: "a fox", Baseline: params.BaselineFluxSchnell, Steps: new(4),
		Sampler: params.SamplerKEuler, CFGScale: new(1.0)}, seed: 7, checkpoint: "flux1-schnell-fp8.safetensors", prefix: "f"})
	require.NoError(t, err)
	require.NoError(t, oi.Validate(flux), "%s", flux)
	_, adv, ok := flux.nodeOf("SamplerCustomAdvanced")
	require.True(t, ok)
	assert.Equal(t, "RandomNoise", flux[adv.Inputs["noise"].(Link).Node].ClassType)
	assert.Equal(t, uint64(7), flux[adv.Inputs["noise"].(Link).Node].Inputs["noise_seed"])
	assert.Equal(t, "euler", flux[adv.Inputs["sampler"].(Link).Node].Inputs["sampler_name"])
	assert.Equal(t, 4, flux[adv.Inputs["sigmas"].(Link).Node].Inputs["steps"])
	assert.Equal(t, 1.0, flux[adv.Inputs["guider"].(Link).Node].Inputs["cfg"])
	_, _, hasKSampler := flux.nodeOf("KSampler")
	assert.False(t, hasKSampler)

	cascade, _, err := buildGraph(oi, request{img: &params.Image{Prompt: "a hammer", Baseline: params.BaselineCascade, Width: new(1024), Height: new(1024),
		Steps: new(20), CFGScale: new(4.0)}, seed: 3, checkpoint: "stable_cascade_stage_c.safetensors", stageB: "stable_cascade_stage_b.safetensors", prefix: "c"})
	require.NoError(t, err)
	require.NoError(t, oi.Validate(cascade), "%s", cascade)
	_, dec, _ := cascade.nodeOf("VAEDecode")
	stageB := cascade[dec.Inputs["samples"].(Link).Node]
	require.Equal(t, "KSampler", stageB.ClassType)
	assert.Equal(t, 10, stageB.Inputs["steps"])
	assert.Equal(t, "stable_cascade_stage_b.safetensors", cascade[stageB.Inputs["model"].(Link).Node].Inputs["ckpt_name"])
	cond := cascade[stageB.Inputs["positive"].(Link).Node]
	require.Equal(t, "StableCascade_StageB_Conditioning", cond.ClassType)
	stageC := cascade[cond.Inputs["stage_c"].(Link).Node]
	assert.Equal(t, 20, stageC.Inputs["steps"])
	assert.Equal(t, "stable_cascade_stage_c.safetensors", cascade[stageC.Inputs["model"].(Link).Node].Inputs["ckpt_name"])
	assert.Equal(t, Link{Node: stageB.Inputs["latent_image"].(Link).Node, Output: 1}, stageB.Inputs["latent_image"], "stage B's latent")

	_, _, err = buildGraph(oi, request{img: &params.Image{Prompt: "x", Baseline: params.BaselineCascade}, checkpoint: "stable_cascade_stage_c.safetensors",
		stageB: "stable_cascade_stage_b.safetensors", source: "src.png"})
	require.ErrorContains(t, err, "stable cascade: only txt2img is mapped")
}

// TestCascadeCheckpoints: a Stable Cascade model is offered when ComfyUI has both of its
// checkpoints, found through the model reference's file names.
func TestCascadeCheckpoints(t *testing.T) {
	ref, err := params.SnapshotImageModelReference()
	require.NoError(t, err)
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{"both stages", []string{"stable_cascade_stage_c.safetensors", "cascade/stable_cascade_stage_b.safetensors"}, []string{"Stable Cascade 1.0"}},
		{"stage B missing", []string{"stable_cascade_stage_c.safetensors"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeComfy(t, withFiles(tt.files, nil))
			b, err := New(Config{URL: f.srv.URL, ModelReference: ref})
			require.NoError(t, err)
			o := &worker.ImageOffer{Models: []string{"Stable Cascade 1.0"}}
			_, err = b.LimitImageOffer(t.Context(), o)
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.Models)
		})
	}
}

// TestTiling: tiling is offered when a seamless-tiling pack is installed; a tiling job patches
// the model and decodes through the pack's circular decode, filled with the nodes' defaults.
func TestTiling(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil))
	b := startedBackend(t, f, Config{})
	job := &worker.ImageJob{ID: "t", ResultIDs: []string{"a"}, Params: params.Image{Prompt: "tiles", Model: "stable_diffusion", Tiling: new(true)}}
	_, err := b.GenerateImages(t.Context(), job)
	require.ErrorContains(t, err, "tiling", "no pack: refused")

	f = newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil), func(f *fakeComfy) { f.withExtraNodes("SeamlessTile", "CircularVAEDecode") })
	b = startedBackend(t, f, Config{})
	_, err = b.GenerateImages(t.Context(), job)
	require.NoError(t, err)
	g := f.queued()[0]
	_, ks, _ := g.nodeOf("KSampler")
	patch := g[ks.Inputs["model"].(Link).Node]
	require.Equal(t, "SeamlessTile", patch.ClassType)
	assert.Equal(t, "enable", patch.Inputs["tiling"])
	assert.Equal(t, "Make a copy", patch.Inputs["copy_model"], "the first choice")
	_, save, _ := g.nodeOf("SaveImage")
	dec := g[save.Inputs["images"].(Link).Node]
	assert.Equal(t, "CircularVAEDecode", dec.ClassType)
	assert.Equal(t, "enable", dec.Inputs["tiling"])
}

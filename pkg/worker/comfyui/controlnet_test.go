package comfyui

import (
	"bytes"
	"image"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

func controlBackend(t *testing.T, opts ...fakeOption) (*fakeComfy, *Backend, *worker.ImageOffer, []string) {
	t.Helper()
	f := newFakeComfy(t, append([]fakeOption{withFiles([]string{"stable_diffusion.safetensors"}, nil)}, opts...)...)
	b, err := New(Config{URL: f.srv.URL})
	require.NoError(t, err)
	o := &worker.ImageOffer{Models: []string{"stable_diffusion"}, AllowControlNet: true, AllowSDXLControlNet: true, AllowImg2Img: true}
	notes, err := b.LimitImageOffer(t.Context(), o)
	require.NoError(t, err)
	return f, b, o, notes
}

// TestControlNetDiscovery: ControlNet is offered for the control types whose model file
// ComfyUI has; SDXL ControlNet is not mapped.
func TestControlNetDiscovery(t *testing.T) {
	_, _, o, notes := controlBackend(t)
	assert.False(t, o.AllowControlNet, "no model files")
	assert.Contains(t, notes[len(notes)-2], "ControlNet dropped: ComfyUI can run no control type: no model file for it in DiffControlNetLoader: canny, depth,")

	_, b, o, notes := controlBackend(t, withControlNets([]string{"control_v11p_sd15_canny.pth", "sd15/control_openpose_fp16.safetensors"}, true))
	assert.True(t, o.AllowControlNet)
	assert.False(t, o.AllowSDXLControlNet)
	assert.Contains(t, notes, "ControlNet offered for canny, openpose (a type without a preprocessor node takes ready control maps only)")
	flags := b.flags
	assert.Equal(t, []params.ControlType{params.ControlCanny, params.ControlOpenpose}, flags.ControlTypes)
	assert.True(t, flags.ImageIsControl)
	assert.True(t, flags.ReturnControlMap, "the canny preprocessor computes maps")
}

// TestControlNetGraphs: a ControlNet job is a generation from noise with the positive prompt
// conditioned on the control map: preprocessed from the source, or the map given; the map
// alone when the job asks for it; a type without a preprocessor takes ready maps only.
func TestControlNetGraphs(t *testing.T) {
	f, b, _, _ := controlBackend(t, withControlNets([]string{"control_v11p_sd15_canny.pth", "control_openpose_fp16.safetensors"}, true))
	src := fakePNG(80, 48, 2)
	job := func(cn *params.ControlNet) *worker.ImageJob {
		return &worker.ImageJob{ID: "cn", ResultIDs: []string{"a"}, Params: params.Image{Prompt: "a house", Model: "stable_diffusion",
			Width: new(64), Height: new(64), ControlNet: cn, SourceProcessing: params.SourceImg2Img,
			Source: &params.SourceImage{Image: params.ImageData{Data: src}}}}
	}
	tests := []struct {
		name    string
		cn      *params.ControlNet
		wantErr string
		check   func(t *testing.T, g Graph, out []byte)
	}{
		{"canny, preprocessed", &params.ControlNet{Type: params.ControlCanny}, "", func(t *testing.T, g Graph, _ []byte) {
			_, ks, _ := g.nodeOf("KSampler")
			apply := g[ks.Inputs["positive"].(Link).Node]
			require.Equal(t, "ControlNetApply", apply.ClassType)
			assert.Equal(t, "CLIPTextEncode", g[apply.Inputs["conditioning"].(Link).Node].ClassType)
			assert.EqualValues(t, 1, apply.Inputs["strength"])
			loader := g[apply.Inputs["control_net"].(Link).Node]
			assert.Equal(t, "DiffControlNetLoader", loader.ClassType)
			assert.Equal(t, "control_v11p_sd15_canny.pth", loader.Inputs["control_net_name"])
			scale := g[apply.Inputs["image"].(Link).Node]
			require.Equal(t, "ImageScale", scale.ClassType)
			pre := g[scale.Inputs["image"].(Link).Node]
			require.Equal(t, "CannyEdgePreprocessor", pre.ClassType)
			assert.EqualValues(t, 100, pre.Inputs["low_threshold"], "the node's defaults")
			assert.Equal(t, "LoadImage", g[pre.Inputs["image"].(Link).Node].ClassType)
			assert.Equal(t, "EmptyLatentImage", g[ks.Inputs["latent_image"].(Link).Node].ClassType, "from noise, not img2img")
			assert.EqualValues(t, 1, ks.Inputs["denoise"])
		}},
		{"openpose, a ready map", &params.ControlNet{Type: params.ControlOpenpose, ControlMap: &params.ImageData{Data: fakePNG(64, 64, 7)}}, "", func(t *testing.T, g Graph, _ []byte) {
			_, ks, _ := g.nodeOf("KSampler")
			apply := g[ks.Inputs["positive"].(Link).Node]
			scale := g[apply.Inputs["image"].(Link).Node]
			load := g[scale.Inputs["image"].(Link).Node]
			require.Equal(t, "LoadImage", load.ClassType, "no preprocessor")
			assert.Contains(t, load.Inputs["image"], "-control.png")
		}},
		{"openpose needs a preprocessor", &params.ControlNet{Type: params.ControlOpenpose}, `control type "openpose": this ComfyUI has no preprocessor node for it`, nil},
		{"the control map returned", &params.ControlNet{Type: params.ControlCanny, ReturnControlMap: true}, "", func(t *testing.T, g Graph, out []byte) {
			_, _, ok := g.nodeOf("KSampler")
			assert.False(t, ok, "nothing generated")
			_, save, _ := g.nodeOf("SaveImage")
			assert.Equal(t, "ImageScale", g[save.Inputs["images"].(Link).Node].ClassType)
			cfg, _, err := image.DecodeConfig(bytes.NewReader(out))
			require.NoError(t, err)
			assert.Equal(t, [2]int{64, 64}, [2]int{cfg.Width, cfg.Height})
		}},
		{"a type without a model", &params.ControlNet{Type: params.ControlDepth}, `control type "depth" not offered`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.queued())
			outs, err := b.GenerateImages(t.Context(), job(tt.cn))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Len(t, f.queued(), before, "nothing queued")
				return
			}
			require.NoError(t, err)
			graphs := f.queued()
			require.Len(t, graphs, before+1)
			tt.check(t, graphs[before], outs[0].Data)
		})
	}
}

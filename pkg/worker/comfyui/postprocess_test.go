package comfyui

import (
	"bytes"
	"image"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

var (
	upscalerFiles = []string{"RealESRGAN_x4plus.pth", "RealESRGAN_x2plus.pth", "4x-AnimeSharp.pth"}
	faceFiles     = []string{"codeformer.pth"}
)

// TestPostProcessorDiscovery: post-processing is offered when ComfyUI can run a post-processor
// (the node and the model file), and the offer names what it can run and why not the others.
func TestPostProcessorDiscovery(t *testing.T) {
	tests := []struct {
		name      string
		opts      []fakeOption
		cfg       Config
		wantAllow bool
		wantFound []params.PostProcessor
	}{
		{"no nodes", nil, Config{}, false, []params.PostProcessor{}},
		{"nodes without files", []fakeOption{withPostProcessing(nil, nil)}, Config{}, false, []params.PostProcessor{}},
		{"upscalers and a face fixer", []fakeOption{withPostProcessing(upscalerFiles, faceFiles)}, Config{}, true,
			[]params.PostProcessor{params.PP4xAnimeSharp, params.PPCodeFormers, params.PPRealESRGANX2Plus, params.PPRealESRGANX4Plus}},
		{"a configured file", []fakeOption{withPostProcessing([]string{"siax/4x_NMKD-Siax_v2.pth"}, nil)},
			Config{ModelFiles: map[string]string{"NMKD_Siax": "4x_NMKD-Siax_v2.pth"}}, true, []params.PostProcessor{params.PPNMKDSiax}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeComfy(t, append(tt.opts, withFiles([]string{"stable_diffusion.safetensors"}, nil))...)
			cfg := tt.cfg
			cfg.URL = f.srv.URL
			b, err := New(cfg)
			require.NoError(t, err)
			o := &worker.ImageOffer{Models: []string{"stable_diffusion"}, AllowPostProcessing: true}
			notes, err := b.LimitImageOffer(t.Context(), o)
			require.NoError(t, err)
			assert.Equal(t, tt.wantAllow, o.AllowPostProcessing)
			assert.Equal(t, tt.wantFound, b.PostProcessorsFound())
			joined := ""
			for _, n := range notes {
				joined += n + "\n"
			}
			assert.Contains(t, joined, "no background-removal node (core ComfyUI has none; name a pack's with comfyui_background_node): strip_background")
		})
	}
}

// TestGenerateImagesPostProcessing: the post-processors run after the decode, in the job's
// order, on the model files found; the image has the upscaled size; one ComfyUI cannot run is
// refused before anything is queued.
func TestGenerateImagesPostProcessing(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil), withPostProcessing(upscalerFiles, faceFiles))
	b, err := New(Config{URL: f.srv.URL})
	require.NoError(t, err)
	_, err = b.LimitImageOffer(t.Context(), &worker.ImageOffer{Models: []string{"stable_diffusion"}, AllowPostProcessing: true})
	require.NoError(t, err)
	job := &worker.ImageJob{ID: "pp", ResultIDs: []string{"a"}, Params: params.Image{Prompt: "a face", Model: "stable_diffusion",
		Width: new(64), Height: new(32), FacefixerStrength: new(0.25),
		PostProcessing: []params.PostProcessor{params.PPCodeFormers, params.PPRealESRGANX4Plus}}}
	outs, err := b.GenerateImages(t.Context(), job)
	require.NoError(t, err)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(outs[0].Data))
	require.NoError(t, err)
	assert.Equal(t, "webp", format)
	assert.Equal(t, [2]int{256, 128}, [2]int{cfg.Width, cfg.Height}, "×4")

	g := f.queued()[0]
	_, save, _ := g.nodeOf("SaveImage")
	up := g[save.Inputs["images"].(Link).Node]
	require.Equal(t, "ImageUpscaleWithModel", up.ClassType, "the last post-processor feeds SaveImage")
	assert.Equal(t, "RealESRGAN_x4plus.pth", g[up.Inputs["upscale_model"].(Link).Node].Inputs["model_name"])
	face := g[up.Inputs["image"].(Link).Node]
	require.Equal(t, "FaceRestoreCFWithModel", face.ClassType, "the face fixer runs first, as listed")
	assert.Equal(t, 0.25, face.Inputs["codeformer_fidelity"])
	assert.Equal(t, "VAEDecode", g[face.Inputs["image"].(Link).Node].ClassType)

	_, err = b.GenerateImages(t.Context(), &worker.ImageJob{ID: "x", ResultIDs: []string{"a"}, Params: params.Image{Model: "stable_diffusion",
		PostProcessing: []params.PostProcessor{params.PPGFPGAN}}})
	require.ErrorContains(t, err, `post-processor "GFPGAN" not offered`)
	assert.Len(t, f.queued(), 1, "nothing queued for the refused job")
}

// TestAlchemyForms: the ComfyUI backend keeps the post-processing forms it can run, runs each on
// the uploaded source, and returns the image as WebP of the processed size.
func TestAlchemyForms(t *testing.T) {
	f := newFakeComfy(t, withPostProcessing(upscalerFiles, faceFiles))
	b, err := New(Config{URL: f.srv.URL})
	require.NoError(t, err)
	o := &worker.AlchemyOffer{Forms: []params.AlchemyForm{params.FormCaption, "RealESRGAN_x2plus", "CodeFormers", "GFPGAN", "strip_background"}}
	notes, err := b.LimitAlchemyOffer(t.Context(), o)
	require.NoError(t, err)
	assert.Equal(t, []params.AlchemyForm{"RealESRGAN_x2plus", "CodeFormers"}, o.Forms)
	assert.Equal(t, []string{
		`form "caption" dropped: ComfyUI does not run it (not a post-processor)`,
		`form "GFPGAN" dropped: ComfyUI cannot run it: no model file for it in FaceRestoreModelLoader`,
		`form "strip_background" dropped: ComfyUI cannot run it: no background-removal node (core ComfyUI has none; name a pack's with comfyui_background_node)`,
	}, notes)

	src := fakePNG(40, 30, 9)
	tests := []struct {
		form    params.AlchemyForm
		payload map[string]string
		want    [2]int
		wantErr string
	}{
		{"RealESRGAN_x2plus", nil, [2]int{80, 60}, ""},
		{"CodeFormers", map[string]string{"facefixer_strength": "0.8"}, [2]int{40, 30}, ""},
		{"CodeFormers", map[string]string{"facefixer_strength": "2"}, [2]int{}, "facefixer_strength"},
		{"GFPGAN", nil, [2]int{}, `form "GFPGAN": this ComfyUI cannot run it`},
	}
	for _, tt := range tests {
		t.Run(string(tt.form), func(t *testing.T) {
			res, err := b.Alchemy(t.Context(), &worker.AlchemyJob{ID: "f1", Op: params.AlchemyOp{Form: tt.form, Payload: tt.payload,
				Source: params.ImageData{Data: src}}})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			cfg, format, err := image.DecodeConfig(bytes.NewReader(res.Image))
			require.NoError(t, err)
			assert.Equal(t, "webp", format)
			assert.Equal(t, tt.want, [2]int{cfg.Width, cfg.Height})
			assert.Nil(t, res.Result)
		})
	}
	graphs := f.queued()
	require.Len(t, graphs, 2)
	_, fr, ok := graphs[1].nodeOf("FaceRestoreCFWithModel")
	require.True(t, ok)
	assert.Equal(t, 0.8, fr.Inputs["codeformer_fidelity"])
}

// TestAlchemyEndToEnd: simulator → worker → ComfyUI double → simulator, per form: each
// post-processing form's result is its image on the Horde's R2, for the requester to download.
func TestAlchemyEndToEnd(t *testing.T) {
	f := newFakeComfy(t, withPostProcessing(upscalerFiles, faceFiles))
	be, err := New(Config{URL: f.srv.URL})
	require.NoError(t, err)
	e := startEndToEnd(t, worker.Settings{
		Alchemy: &worker.AlchemyOffer{Name: "comfy-alchemy", Forms: []params.AlchemyForm{"RealESRGAN_x4plus", "RealESRGAN_x2plus", "CodeFormers"}},
	}, worker.Backends{Alchemy: be})
	res, err := e.alice.Interrogate(t.Context(), params.Alchemy{Source: params.ImageData{Data: fakePNG(32, 24, 3)},
		Ops: []params.AlchemyOp{{Form: "RealESRGAN_x4plus"}, {Form: "RealESRGAN_x2plus"}, {Form: "CodeFormers"}}}, nil)
	e.stop()
	require.NoError(t, err)
	want := map[string][2]int{"RealESRGAN_x4plus": {128, 96}, "RealESRGAN_x2plus": {64, 48}, "CodeFormers": {32, 24}}
	require.Len(t, res.Forms, len(want))
	for _, form := range res.Forms {
		require.Equal(t, "done", form.State, form.Form)
		url, ok := form.Result[form.Form].(string)
		require.True(t, ok, "%s: %v", form.Form, form.Result)
		got, err := e.srv.Client().Get(url)
		require.NoError(t, err)
		data, _ := io.ReadAll(got.Body)
		got.Body.Close()
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		require.NoError(t, err, form.Form)
		assert.Equal(t, "webp", format, form.Form)
		assert.Equal(t, want[form.Form], [2]int{cfg.Width, cfg.Height}, form.Form)
	}
}

// TestStripBackground: strip_background runs on a background-removal node when the server has
// one (a known pack's, or the one configured), its other inputs at their defaults; the WebP
// keeps the transparency.
func TestStripBackground(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil), func(f *fakeComfy) { f.withExtraNodes("HordeTestRemoveBackground") })
	b, err := New(Config{URL: f.srv.URL, BackgroundNode: "HordeTestRemoveBackground"})
	require.NoError(t, err)
	o := &worker.AlchemyOffer{Forms: []params.AlchemyForm{"strip_background"}}
	_, err = b.LimitAlchemyOffer(t.Context(), o)
	require.NoError(t, err)
	assert.Equal(t, []params.AlchemyForm{"strip_background"}, o.Forms)
	res, err := b.Alchemy(t.Context(), &worker.AlchemyJob{ID: "sb", Op: params.AlchemyOp{Form: "strip_background", Source: params.ImageData{Data: fakePNG(16, 16, 5)}}})
	require.NoError(t, err)
	img, format, err := image.Decode(bytes.NewReader(res.Image))
	require.NoError(t, err)
	assert.Equal(t, "webp", format)
	_, _, _, a := img.At(0, 0).RGBA()
	assert.Zero(t, a, "transparent where the background was")
	_, rb, _ := f.queued()[0].nodeOf("HordeTestRemoveBackground")
	assert.Equal(t, 0.5, rb.Inputs["threshold"], "the node's declared default")

	// In an image job, after the decode.
	_, err = b.LimitImageOffer(t.Context(), &worker.ImageOffer{Models: []string{"stable_diffusion"}, AllowPostProcessing: true})
	require.NoError(t, err)
	outs, err := b.GenerateImages(t.Context(), &worker.ImageJob{ID: "j", ResultIDs: []string{"a"}, Params: params.Image{Prompt: "p",
		Model: "stable_diffusion", Width: new(64), Height: new(64), PostProcessing: []params.PostProcessor{params.PPStripBackground}}})
	require.NoError(t, err)
	img, _, err = image.Decode(bytes.NewReader(outs[0].Data))
	require.NoError(t, err)
	_, _, _, a = img.At(0, 0).RGBA()
	assert.Zero(t, a)

	// Not configured and no known pack: not offered.
	f2 := newFakeComfy(t, func(f *fakeComfy) { f.withExtraNodes("HordeTestRemoveBackground") })
	b2, err := New(Config{URL: f2.srv.URL})
	require.NoError(t, err)
	o = &worker.AlchemyOffer{Forms: []params.AlchemyForm{"strip_background"}}
	notes, err := b2.LimitAlchemyOffer(t.Context(), o)
	require.NoError(t, err)
	assert.Empty(t, o.Forms)
	assert.Contains(t, notes[0], "no background-removal node")
}

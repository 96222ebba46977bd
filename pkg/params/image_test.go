package params_test

import (
	"errors"
	"testing"

	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Verified vectors from the reference: horde-sdk's hires-fix first-pass computation.
func TestSecondPassSteps(t *testing.T) {
	tests := []struct {
		native, w, h int
		s            float64
		ddim, want   int
	}{
		{512, 1024, 1024, 0.65, 25, 13},
		{1024, 2048, 2048, 0.65, 25, 25},
		{512, 1024, 768, 0.8, 30, 18},
		{512, 1024, 1024, 0.65, 10, 10},
		{0, 1024, 1024, 0.65, 25, 6},
		{1024, 1536, 1536, 0.5, 40, 15},
		// Clamping of the strength and the minimum of 6 steps.
		{512, 512, 512, 0, 25, 6},
		{512, 512, 512, 5, 4, 4},
	}
	for _, tt := range tests {
		got := params.SecondPassSteps(tt.native, tt.w, tt.h, tt.s, tt.ddim)
		assert.Equal(t, tt.want, got, "%+v", tt)
	}
}

func TestSecondPassStepsBankersRounding(t *testing.T) {
	// native 512, 1024x1024, s = 0.5, 9 steps: 3 + 6*0.25 = 4.5 rounds to 4
	// (half to even, as Python); 4 * 2^(4/3) / 2.25 = 4.48 → 4; +3 (≤ 18
	// steps) = 7. Rounding half away from zero would give 5 → 6 → 9.
	assert.Equal(t, 7, params.SecondPassSteps(512, 1024, 1024, 0.5, 9))
}

func TestFirstPassSize(t *testing.T) {
	tests := []struct {
		b            params.Baseline
		w, h, ww, wh int
	}{
		{params.BaselineSD1, 1024, 1024, 512, 512},
		{params.BaselineSD1, 1024, 768, 640, 512},
		{params.BaselineSDXL, 1536, 1024, 1216, 832},
		{params.BaselineCascade, 2048, 1536, 1024, 768},
		{"", 600, 1000, 512, 832},
		{params.BaselineFlux1, 1000, 1000, 512, 512},
		{params.BaselineSD1, 512, 1024, 512, 1024},     // one side ≤ 512: unchanged
		{params.BaselineCascade, 1024, 768, 1024, 768}, // max side ≤ 1024: unchanged
		{params.BaselineSDXL, 1024, 1024, 1024, 1024},  // square bucket
	}
	for _, tt := range tests {
		w, h := params.FirstPassSize(tt.b, tt.w, tt.h)
		assert.Equal(t, [2]int{tt.ww, tt.wh}, [2]int{w, h}, "%+v", tt)
	}
}

func TestComputeHiresFix(t *testing.T) {
	tests := []struct {
		name    string
		img     params.Image
		applies bool
		first   params.HiresPass
		second  params.HiresPass
	}{
		{
			name: "sd1 txt2img default strength",
			img: params.Image{Baseline: params.BaselineSD1, Width: params.Ptr(1024), Height: params.Ptr(1024),
				Steps: params.Ptr(25), HiresFix: &params.HiresFix{}},
			applies: true,
			first:   params.HiresPass{Width: 512, Height: 512, Steps: 25, DenoisingStrength: 1},
			second:  params.HiresPass{Width: 1024, Height: 1024, Steps: 13, DenoisingStrength: 0.65},
		},
		{
			name: "img2img takes the image denoise for the second pass",
			img: params.Image{Baseline: params.BaselineSD1, Width: params.Ptr(1024), Height: params.Ptr(768),
				Steps: params.Ptr(30), DenoisingStrength: params.Ptr(0.8), SourceProcessing: params.SourceImg2Img,
				Source: &params.SourceImage{Image: params.ImageData{Data: []byte{1}}}, HiresFix: &params.HiresFix{}},
			applies: true,
			first:   params.HiresPass{Width: 640, Height: 512, Steps: 30, DenoisingStrength: 0.8},
			second:  params.HiresPass{Width: 1024, Height: 768, Steps: 12, DenoisingStrength: 0.8}, // formula uses 0.65 (upstream)
		},
		{
			name: "explicit hires denoise",
			img: params.Image{Baseline: params.BaselineSD1, Width: params.Ptr(1024), Height: params.Ptr(768),
				Steps: params.Ptr(30), HiresFix: &params.HiresFix{DenoisingStrength: params.Ptr(0.8)}},
			applies: true,
			first:   params.HiresPass{Width: 640, Height: 512, Steps: 30, DenoisingStrength: 1},
			second:  params.HiresPass{Width: 1024, Height: 768, Steps: 18, DenoisingStrength: 0.8},
		},
		{
			name:    "sd1 too small",
			img:     params.Image{Baseline: params.BaselineSD1, Width: params.Ptr(512), Height: params.Ptr(1024), HiresFix: &params.HiresFix{}},
			applies: false,
		},
		{
			name:    "sdxl too small",
			img:     params.Image{Baseline: params.BaselineSDXL, Width: params.Ptr(1024), Height: params.Ptr(2048), HiresFix: &params.HiresFix{}},
			applies: false,
		},
		{
			name: "inpainting never",
			img: params.Image{Baseline: params.BaselineSD1, Width: params.Ptr(1024), Height: params.Ptr(1024),
				SourceProcessing: params.SourceInpainting, HiresFix: &params.HiresFix{}},
			applies: false,
		},
		{name: "not requested", img: params.Image{Width: params.Ptr(1024), Height: params.Ptr(1024)}},
		{
			name:    "unknown baseline always, native 512",
			img:     params.Image{Width: params.Ptr(1024), Height: params.Ptr(1024), Steps: params.Ptr(25), HiresFix: &params.HiresFix{}},
			applies: true,
			first:   params.HiresPass{Width: 512, Height: 512, Steps: 25, DenoisingStrength: 1},
			second:  params.HiresPass{Width: 1024, Height: 1024, Steps: 13, DenoisingStrength: 0.65},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.img
			got := params.ComputeHiresFix(&img)
			require.Equal(t, tt.applies, got)
			if !tt.applies {
				if img.HiresFix != nil {
					assert.Nil(t, img.HiresFix.FirstPass)
				}
				return
			}
			assert.Equal(t, tt.first, *img.HiresFix.FirstPass)
			assert.Equal(t, tt.second, *img.HiresFix.SecondPass)
		})
	}
}

func TestSplitPrompt(t *testing.T) {
	tests := []struct{ in, pos, neg string }{
		{"a cat### ugly", "a cat", " ugly"},
		{"a cat", "a cat", ""},
		{"a###b###c", "a", "b###c"},
		{"###neg", "", "neg"},
	}
	for _, tt := range tests {
		p, n := params.SplitPrompt(tt.in)
		assert.Equal(t, tt.pos, p, tt.in)
		assert.Equal(t, tt.neg, n, tt.in)
		img := params.Image{Prompt: p, NegativePrompt: n}
		if n != "" {
			assert.Equal(t, tt.in, img.APIPrompt())
		}
	}
}

func TestEnumsKnown(t *testing.T) {
	assert.Len(t, params.Samplers(), 14)
	assert.Len(t, params.AllControlTypes(), 34)
	assert.Len(t, params.PostProcessors(), 16)
	assert.Len(t, params.AlchemyForms(), 23)
	assert.True(t, params.ControlMLSD.Known())
	assert.False(t, params.ControlMLSD.InAPI())
	assert.True(t, params.ControlHough.InAPI())
	assert.False(t, params.Sampler("euler").Known())
	assert.True(t, params.PPGFPGANv13.IsFaceFixer())
	assert.True(t, params.PP4xAnimeSharp.IsUpscaler())
	assert.False(t, params.PPStripBackground.IsUpscaler())
	assert.True(t, params.FormAnnotation.Known())
	assert.False(t, params.FormAnnotation.InAPI())
	assert.True(t, params.AlchemyForm("GFPGAN").ReturnsImage())
	assert.False(t, params.FormCaption.ReturnsImage())
	assert.Equal(t, params.BaselineSD1, params.ParseBaseline("stable diffusion 1"))
	assert.Equal(t, params.BaselineSD2_768, params.ParseBaseline("stable diffusion 2"))
	assert.Equal(t, params.BaselineSDXL, params.ParseBaseline("stable_diffusion_xl"))
	assert.Equal(t, params.Baseline("new_thing"), params.ParseBaseline("new_thing"))
	assert.Equal(t, 1024, params.BaselineFlux1.NativeResolution())
	assert.Equal(t, 0, params.Baseline("new_thing").NativeResolution())
	// Returned lists are copies.
	s := params.Samplers()
	s[0] = "x"
	assert.Equal(t, params.SamplerKLMS, params.Samplers()[0])
	k := params.AlchemyOp{Form: "RealESRGAN_x2plus"}.Kind()
	assert.Equal(t, params.KindUpscale, k)
}

func TestImageValidateExtraRules(t *testing.T) {
	src := &params.SourceImage{Image: params.ImageData{Data: []byte{1}}}
	data := params.ImageData{Data: []byte{1}}
	tests := []struct {
		name   string
		img    params.Image
		fields []string
	}{
		{"valid minimal", params.Image{Prompt: "p"}, nil},
		{"everything wrong at once", params.Image{Width: params.Ptr(500), Height: params.Ptr(4000), Steps: params.Ptr(0)},
			[]string{"prompt", "width", "height", "steps"}},
		{"separator in prompt", params.Image{Prompt: "a###b"}, []string{"prompt"}},
		{"mask without image", params.Image{Prompt: "p", Source: &params.SourceImage{Mask: data}}, []string{"source_mask"}},
		{"img2img without source", params.Image{Prompt: "p", SourceProcessing: params.SourceImg2Img}, []string{"source_image"}},
		{"remix without remix mode", params.Image{Prompt: "p", Source: src, Remix: []params.RemixImage{{Image: data}}}, []string{"extra_source_images"}},
		{"too many remix images", params.Image{Prompt: "p", Source: src, SourceProcessing: params.SourceRemix,
			Remix: make6(data)}, []string{"extra_source_images"}},
		{"controlnet without input", params.Image{Prompt: "p", ControlNet: &params.ControlNet{Type: params.ControlCanny}}, []string{"source_image"}},
		{"controlnet with both", params.Image{Prompt: "p", Source: src, ControlNet: &params.ControlNet{Type: params.ControlCanny, ControlMap: &data}}, []string{"control_map"}},
		{"controlnet inpainting", params.Image{Prompt: "p", Source: src, SourceProcessing: params.SourceInpainting, ControlNet: &params.ControlNet{Type: params.ControlCanny}}, []string{"control_type"}},
		{"controlnet transparent", params.Image{Prompt: "p", Source: src, Transparent: params.Ptr(true), ControlNet: &params.ControlNet{Type: params.ControlCanny}}, []string{"transparent"}},
		{"control map and return map", params.Image{Prompt: "p", ControlNet: &params.ControlNet{Type: params.ControlCanny, ControlMap: &data, ReturnControlMap: true}}, []string{"return_control_map"}},
		{"annotator-only control type", params.Image{Prompt: "p", Source: src, ControlNet: &params.ControlNet{Type: params.ControlMLSD}}, []string{"control_type"}},
		{"extra scheduler", params.Image{Prompt: "p", Scheduler: params.SchedulerBeta}, []string{"scheduler"}},
		{"too many loras", params.Image{Prompt: "p", LoRAs: make([]params.LoRA, 6)}, []string{"loras"}},
		{"lora version not digits", params.Image{Prompt: "p", LoRAs: []params.LoRA{{Name: "abc", IsVersion: true}}}, []string{"loras[0].name"}},
		{"too many tis", params.Image{Prompt: "p", TIs: make([]params.TI, 21)}, []string{"tis"}},
		{"qr without qr text", params.Image{Prompt: "p", Workflow: &params.CustomWorkflow{Name: params.WorkflowQRCode}}, []string{"extra_texts"}},
		{"two upscalers", params.Image{Prompt: "p", PostProcessing: []params.PostProcessor{params.PPRealESRGANX2Plus, params.PPNMKDSiax}}, []string{"post_processing"}},
		{"hires on flux", params.Image{Prompt: "p", Baseline: params.BaselineFlux1, HiresFix: &params.HiresFix{}}, []string{"hires_fix"}},
		{"url and data", params.Image{Prompt: "p", Source: &params.SourceImage{Image: params.ImageData{URL: "https://x", Data: []byte{1}}}}, []string{"source_image"}},
		{"ftp url", params.Image{Prompt: "p", Source: &params.SourceImage{Image: params.ImageData{URL: "ftp://x"}}}, []string{"source_image"}},
		{"nan cfg", params.Image{Prompt: "p", CFGScale: params.Ptr(nan())}, []string{"cfg_scale"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.img.Validate()
			if len(tt.fields) == 0 {
				require.NoError(t, err)
				return
			}
			var vs params.Violations
			require.True(t, errors.As(err, &vs), "%v", err)
			for _, f := range tt.fields {
				assert.True(t, vs.Has(f), "want a violation on %s, got %v", f, err)
			}
		})
	}
}

func TestViolationMessage(t *testing.T) {
	img := params.Image{Prompt: "p", Width: params.Ptr(500)}
	err := img.Validate()
	require.EqualError(t, err, "width: must be a multiple of 64, got 500")
	var v params.Violation
	require.True(t, errors.As(err, &v))
	assert.Equal(t, "width", v.Field)
}

func TestRequestOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		o      params.RequestOptions
		image  bool
		fields []string
	}{
		{"ok", params.RequestOptions{NSFW: params.Ptr(true), CensorNSFW: params.Ptr(false)}, true, nil},
		{"nsfw and censor", params.RequestOptions{NSFW: params.Ptr(true), CensorNSFW: params.Ptr(true)}, true, []string{"censor_nsfw"}},
		{"image options on text", params.RequestOptions{R2: params.Ptr(true)}, false, []string{"r2"}},
		{"http webhook", params.RequestOptions{Webhook: "http://example.com/hook"}, true, []string{"webhook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate(tt.image)
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			var vs params.Violations
			require.ErrorAs(t, err, &vs)
			for _, f := range tt.fields {
				assert.True(t, vs.Has(f), "%v", err)
			}
		})
	}
	err := params.ValidateImageRequest(&params.Image{}, &params.RequestOptions{NSFW: params.Ptr(true), CensorNSFW: params.Ptr(true)})
	var vs params.Violations
	require.ErrorAs(t, err, &vs)
	assert.True(t, vs.Has("prompt") && vs.Has("censor_nsfw"))
}

func TestTextValidateExtraRules(t *testing.T) {
	tests := []struct {
		name   string
		txt    params.Text
		fields []string
	}{
		{"valid", params.Text{Prompt: "x", SamplerOrder: []int{6, 0, 1, 3, 4, 2, 5}}, nil},
		{"context below length", params.Text{Prompt: "x", MaxContextLength: params.Ptr(100), MaxLength: params.Ptr(200)}, []string{"max_context_length"}},
		{"short sampler order", params.Text{Prompt: "x", SamplerOrder: []int{0, 1, 1}}, []string{"sampler_order"}},
		{"too many stops", params.Text{Prompt: "x", StopSequences: make([]string, 129)}, []string{"stop_sequence"}},
		{"empty prompt", params.Text{}, []string{"prompt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.txt.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			var vs params.Violations
			require.ErrorAs(t, err, &vs)
			for _, f := range tt.fields {
				assert.True(t, vs.Has(f), "%v", err)
			}
		})
	}
}

func TestAlchemyValidate(t *testing.T) {
	tests := []struct {
		name   string
		a      params.Alchemy
		fields []string
	}{
		{"valid", params.Alchemy{Source: params.ImageData{URL: "https://x/y.webp"}, Ops: []params.AlchemyOp{{Form: params.FormCaption}, {Form: "GFPGAN"}}}, nil},
		{"no source no forms", params.Alchemy{}, []string{"source_image", "forms"}},
		{"duplicate", params.Alchemy{Source: params.ImageData{Data: []byte{1}}, Ops: []params.AlchemyOp{{Form: params.FormNSFW}, {Form: params.FormNSFW}}}, []string{"forms[1].name"}},
		{"annotation not in API", params.Alchemy{Source: params.ImageData{Data: []byte{1}}, Ops: []params.AlchemyOp{{Form: params.FormAnnotation}}}, []string{"forms[0].name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			var vs params.Violations
			require.ErrorAs(t, err, &vs)
			for _, f := range tt.fields {
				assert.True(t, vs.Has(f), "%v", err)
			}
		})
	}
}

func TestDecodeBase64(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"YQ==", "a", true},
		{"YQ", "a", true},
		{"YW\nJj", "abc", true},
		{"", "", false},
		{"a", "", false},
		{"YQ==!!", "", false},
		{"https://example.com/x.webp", "", false},
	}
	for _, tt := range tests {
		got, err := params.DecodeBase64(tt.in)
		if !tt.ok {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, string(got))
	}
}

func make6(d params.ImageData) []params.RemixImage {
	out := make([]params.RemixImage, 6)
	for i := range out {
		out[i].Image = d
	}
	return out
}

func nan() float64 { var z float64; return z / z }

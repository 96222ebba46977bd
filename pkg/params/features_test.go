package params_test

import (
	"testing"

	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/assert"
)

func fullWorker() params.WorkerFeatureFlags {
	return params.WorkerFeatureFlags{
		Kinds:            []string{"image", "alchemy"},
		Baselines:        []params.Baseline{params.BaselineSD1, params.BaselineSDXL},
		Samplers:         []params.Sampler{params.SamplerKEuler, params.SamplerKDPMPP2M},
		Schedulers:       []params.Scheduler{params.SchedulerKarras, params.SchedulerNormal},
		SourceProcessing: []params.SourceProcessing{params.SourceImg2Img, params.SourceInpainting, params.SourceRemix},
		ClipSkip:         true, Tiling: true, Transparent: true, HiresFix: true, LoRAs: true, TIs: true,
		ControlTypes: []params.ControlType{params.ControlCanny}, ImageIsControl: true, ReturnControlMap: true,
		MaxExtraSourceImages: 5, ExtraTexts: true, Workflows: []params.Workflow{params.WorkflowQRCode},
		PostProcessors: []params.PostProcessor{params.PPGFPGAN, params.PPRealESRGANX4Plus},
		AlchemyForms:   []params.AlchemyForm{params.FormCaption},
	}
}

func TestImageFeatureFlags(t *testing.T) {
	img := params.Image{
		Baseline: params.BaselineSDXL, Sampler: params.SamplerKEuler, Scheduler: params.SchedulerKarras,
		ClipSkip: params.Ptr(2), Tiling: params.Ptr(true), Transparent: params.Ptr(false),
		Source: &params.SourceImage{Image: params.ImageData{Data: []byte{1}}}, SourceProcessing: params.SourceRemix,
		Remix: []params.RemixImage{{}, {}}, HiresFix: &params.HiresFix{}, LoRAs: []params.LoRA{{Name: "a"}},
		ControlNet:     &params.ControlNet{Type: params.ControlCanny, ControlMap: &params.ImageData{Data: []byte{1}}},
		Workflow:       &params.CustomWorkflow{Name: params.WorkflowQRCode, ExtraTexts: []params.ExtraText{{Text: "x"}}},
		PostProcessing: []params.PostProcessor{params.PPGFPGAN},
	}
	assert.Equal(t, params.GenerationFeatureFlags{
		Kind: "image", Baseline: params.BaselineSDXL, Sampler: params.SamplerKEuler, Scheduler: params.SchedulerKarras,
		SourceProcessing: params.SourceRemix, ClipSkip: true, Tiling: true, HiresFix: true, LoRAs: true,
		ControlType: params.ControlCanny, ImageIsControl: true, ExtraSourceImages: 2, ExtraTexts: true,
		Workflow: params.WorkflowQRCode, PostProcessors: []params.PostProcessor{params.PPGFPGAN}, Pixels: 512 * 512,
	}, img.FeatureFlags())
	a := params.Alchemy{Ops: []params.AlchemyOp{{Form: params.FormNSFW}}}
	assert.Equal(t, []params.AlchemyForm{params.FormNSFW}, a.FeatureFlags().AlchemyForms)
	txt := params.Text{MaxLength: params.Ptr(512)}
	assert.Equal(t, params.GenerationFeatureFlags{Kind: "text", MaxLength: 512, MaxContextLength: 2048}, txt.FeatureFlags())
}

func TestWorkerSupports(t *testing.T) {
	all := params.GenerationFeatureFlags{
		Kind: "image", Baseline: params.BaselineSDXL, Sampler: params.SamplerKEuler, Scheduler: params.SchedulerKarras,
		SourceProcessing: params.SourceOutpainting, ClipSkip: true, Tiling: true, Transparent: true, HiresFix: true,
		LoRAs: true, TIs: true, ControlType: params.ControlCanny, ImageIsControl: true, ReturnControlMap: true,
		ExtraSourceImages: 2, ExtraTexts: true, Workflow: params.WorkflowQRCode,
		PostProcessors: []params.PostProcessor{params.PPGFPGAN},
	}
	tests := []struct {
		name    string
		worker  func(*params.WorkerFeatureFlags)
		job     func(*params.GenerationFeatureFlags)
		reasons []string
	}{
		{"everything offered (outpainting via inpainting)", nil, nil, nil},
		{"empty sampler/scheduler/baseline lists mean any", func(w *params.WorkerFeatureFlags) {
			w.Samplers, w.Schedulers, w.Baselines = nil, nil, nil
		}, nil, nil},
		{"bare worker, in order", func(w *params.WorkerFeatureFlags) {
			*w = params.WorkerFeatureFlags{Kinds: []string{"text"}, Baselines: []params.Baseline{params.BaselineSD1},
				Samplers: []params.Sampler{params.SamplerDDIM}, Schedulers: []params.Scheduler{params.SchedulerNormal}}
			w.MaxPixels = 64 * 64
		}, func(f *params.GenerationFeatureFlags) { f.Pixels = 512 * 512 }, []string{"kind", "baseline", "max_pixels", "sampler_name", "scheduler", "source_processing", "clip_skip", "tiling",
			"transparent", "hires_fix", "loras", "tis", "control_type", "image_is_control", "return_control_map",
			"extra_source_images", "extra_texts", "workflow", "post_processing"}},
		{"controlnet type checked", nil, func(f *params.GenerationFeatureFlags) { f.ControlType = params.ControlDepth }, []string{"control_type"}},
		{"post-processor checked", nil, func(f *params.GenerationFeatureFlags) {
			f.PostProcessors = []params.PostProcessor{params.PPGFPGAN, params.PPCodeFormers}
		}, []string{"post_processing"}},
		{"workflow checked", func(w *params.WorkerFeatureFlags) { w.Workflows = nil }, nil, []string{"workflow"}},
		{"too many extra images", func(w *params.WorkerFeatureFlags) { w.MaxExtraSourceImages = 1 }, nil, []string{"extra_source_images"}},
		{"too many pixels", func(w *params.WorkerFeatureFlags) { w.MaxPixels = 1024 * 1024 }, func(f *params.GenerationFeatureFlags) { f.Pixels = 1024 * 1088 }, []string{"max_pixels"}},
		{"text limits", func(w *params.WorkerFeatureFlags) { w.MaxLength, w.MaxContextLength = 256, 4096 },
			func(f *params.GenerationFeatureFlags) {
				*f = params.GenerationFeatureFlags{Kind: "text", MaxLength: 512, MaxContextLength: 8192}
			}, []string{"kind", "max_length", "max_context_length"}},
		{"infer baseline matches any", nil, func(f *params.GenerationFeatureFlags) { f.Baseline = params.BaselineInfer }, nil},
		{"alchemy form", nil, func(f *params.GenerationFeatureFlags) {
			*f = params.GenerationFeatureFlags{Kind: "alchemy", AlchemyForms: []params.AlchemyForm{params.FormCaption, params.FormNSFW}}
		}, []string{"forms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := fullWorker()
			if tt.worker != nil {
				tt.worker(&w)
			}
			f := all
			f.PostProcessors = append([]params.PostProcessor(nil), all.PostProcessors...)
			if tt.job != nil {
				tt.job(&f)
			}
			ok, rs := w.Supports(f)
			var got []string
			for _, r := range rs {
				got = append(got, r.Feature)
				assert.NotEmpty(t, r.String())
			}
			assert.Equal(t, tt.reasons, got)
			assert.Equal(t, len(tt.reasons) == 0, ok)
		})
	}
}

package adapters_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/adapters"
	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtures = "../../testdata/aihorde"

// integralFloats matches integers written as N.0. horde-sdk's example files
// (examples/) were generated from the spec and write some integer fields
// as 64.0, which encoding/json refuses for an int; the test rewrites them
// to N before decoding. Real server bodies (live/) are decoded unchanged.
var integralFloats = regexp.MustCompile(`(\b[0-9]+)\.0\b`)

func loadJSON(t *testing.T, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, rel))
	require.NoError(t, err)
	if filepath.Dir(rel) != "live" {
		b = integralFloats.ReplaceAll(b, []byte("$1"))
	}
	require.NoError(t, json.Unmarshal(b, v), rel)
}

func sourceFault() gen.GenerationMetadataStable {
	return gen.GenerationMetadataStable{Type: gen.MetadataTypeSourceImage, Value: gen.MetadataValueParseFailed}
}

func TestImagePopExample(t *testing.T) {
	var pop gen.GenerationPayloadStable
	loadJSON(t, "examples/responses/_v2_generate_pop_post_200.json", &pop)
	job, err := adapters.ImageFromPop(&pop, func(string) params.Baseline { return params.BaselineSD1 })
	require.NoError(t, err)

	d := job.Dispatch
	assert.Equal(t, []string{"00000000-0000-0000-0000-000000000000"}, d.IDs)
	assert.True(t, d.HasJob())
	assert.Empty(t, d.R2Uploads, "an empty r2 upload URL takes the base64 path")
	assert.Equal(t, "", d.UploadURL(d.IDs[0]))
	assert.Equal(t, time.Duration(0), d.TTL)
	assert.Equal(t, map[string]int{
		"worker_id": 0, "performance": 0, "nsfw": 0, "blacklist": 0, "untrusted": 0, "models": 0,
		"bridge_version": 0, "kudos": 0, "max_pixels": 0, "step_count": 0, "unsafe_ip": 0, "img2img": 0,
		"painting": 0, "post-processing": 0, "lora": 0, "controlnet": 0,
	}, d.Skipped)
	require.Len(t, d.Messages, 1)
	assert.Equal(t, "Hello Worker!", d.Messages[0].Message)
	assert.False(t, job.UseNSFWCensor)
	// source_image "" is present but unusable: txt2img fallback, one fault,
	// and the ControlNet (which needs the image) is dropped too.
	assert.Equal(t, []gen.GenerationMetadataStable{sourceFault()}, job.Faults)

	want := params.Image{
		Prompt:            "",
		Model:             "",
		Seed:              "The little seed that could",
		SeedVariation:     params.Ptr(1),
		Width:             params.Ptr(512),
		Height:            params.Ptr(512),
		Steps:             params.Ptr(30),
		CFGScale:          params.Ptr(7.5),
		Sampler:           params.SamplerKDPMPP2M,
		Scheduler:         params.SchedulerNormal,
		ClipSkip:          params.Ptr(1),
		DenoisingStrength: params.Ptr(0.75),
		Tiling:            params.Ptr(false),
		Transparent:       params.Ptr(false),
		BatchSize:         params.Ptr(1),
		SourceProcessing:  params.SourceTxt2Img,
		LoRAs:             []params.LoRA{{Name: "Magnagothica", Model: params.Ptr(1.0), Clip: params.Ptr(1.0), InjectTrigger: "a"}},
		TIs:               []params.TI{{Name: "7808", Inject: params.TIInjectPositive, Strength: params.Ptr(1.0)}},
		Workflow:          &params.CustomWorkflow{Name: params.WorkflowQRCode, ExtraTexts: []params.ExtraText{{Text: "a", Reference: "aaa"}}},
		PostProcessing:    []params.PostProcessor{params.PPGFPGAN},
		FacefixerStrength: params.Ptr(0.75),
	}
	assert.Equal(t, want, job.Params)
}

func TestImagePopLiveNoJob(t *testing.T) {
	var pop gen.GenerationPayloadStable
	loadJSON(t, "live/generate_pop_200.json", &pop)
	job, err := adapters.ImageFromPop(&pop, nil)
	require.NoError(t, err)
	assert.False(t, job.Dispatch.HasJob())
	assert.Empty(t, job.Dispatch.IDs)
	assert.Equal(t, time.Duration(0), job.Dispatch.TTL)
	assert.Equal(t, map[string]int{
		"unsafe_ip": 0, "img2img": 0, "painting": 0, "post-processing": 0, "lora": 0, "controlnet": 0,
		"worker_id": 0, "performance": 0, "nsfw": 0, "untrusted": 0, "models": 0, "bridge_version": 0,
	}, job.Dispatch.Skipped)
	assert.Empty(t, job.Faults)
	assert.Equal(t, params.Image{}, job.Params)
}

func TestTextPops(t *testing.T) {
	t.Run("example", func(t *testing.T) {
		var pop gen.GenerationPayloadKobold
		loadJSON(t, "examples/responses/_v2_generate_text_pop_post_200.json", &pop)
		job, err := adapters.TextFromPop(&pop)
		require.NoError(t, err)
		assert.Equal(t, []string{"00000000-0000-0000-0000-000000000000"}, job.Dispatch.IDs)
		assert.Equal(t, map[string]int{"worker_id": 0, "performance": 0, "nsfw": 0, "blacklist": 0, "untrusted": 0,
			"models": 0, "bridge_version": 0, "kudos": 0, "max_context_length": 0, "max_length": 0, "matching_softprompt": 0},
			job.Dispatch.Skipped)
		assert.Len(t, job.Dispatch.Messages, 1)
		f := params.Ptr(false)
		assert.Equal(t, params.Text{
			Prompt: "", Model: "", SoftPrompt: "", N: params.Ptr(1),
			MaxContextLength: params.Ptr(2048), MaxLength: params.Ptr(80),
			Temperature: params.Ptr(0.0), DynamicTempExponent: params.Ptr(1.0), DynamicTempRange: params.Ptr(0.0),
			SmoothingFactor: params.Ptr(0.0), TopP: params.Ptr(0.001), TopK: params.Ptr(0), TopA: params.Ptr(0.0),
			MinP: params.Ptr(0.0), Typical: params.Ptr(0.0), TFS: params.Ptr(0.0), RepPen: params.Ptr(1.0),
			RepPenRange: params.Ptr(0), RepPenSlope: params.Ptr(0.0), SamplerOrder: []int{0}, StopSequences: []string{""},
			UseDefaultBadWordsIDs: params.Ptr(true),
			Format:                params.TextFormat{AddLeadingSpace: f, RemoveBlankLines: f, RemoveSpecialChars: f, TrimIncomplete: f, SingleLine: f},
		}, job.Params)
	})
	t.Run("live", func(t *testing.T) {
		var pop gen.GenerationPayloadKobold
		loadJSON(t, "live/text_pop_200.json", &pop)
		job, err := adapters.TextFromPop(&pop)
		require.NoError(t, err)
		assert.Equal(t, []string{"a38fe426-5b0b-45ab-8be0-0fac27162f57"}, job.Dispatch.IDs)
		assert.Equal(t, 150*time.Second, job.Dispatch.TTL)
		assert.Equal(t, map[string]int{}, job.Dispatch.Skipped)
		assert.Equal(t, params.Text{
			Prompt: "Once upon a time", Model: "koboldcpp/test", N: params.Ptr(1),
			MaxContextLength: params.Ptr(512), MaxLength: params.Ptr(16), MinP: params.Ptr(0.0),
			SmoothingFactor: params.Ptr(0.0), DynamicTempRange: params.Ptr(0.0), DynamicTempExponent: params.Ptr(1.0),
		}, job.Params)
		require.NoError(t, job.Params.Validate())
	})
}

func TestAlchemyPops(t *testing.T) {
	t.Run("example", func(t *testing.T) {
		var pop gen.InterrogationPopPayload
		loadJSON(t, "examples/responses/_v2_interrogate_pop_post_200.json", &pop)
		got := adapters.AlchemyFromPop(&pop)
		assert.Equal(t, map[string]int{"worker_id": 0, "untrusted": 0, "bridge_version": 0}, got.Skipped)
		require.Len(t, got.Jobs, 1)
		assert.Equal(t, adapters.AlchemyPopForm{
			Op: params.AlchemyOp{
				ResultID: "00000000-0000-0000-0000-000000000000",
				Form:     params.FormCaption,
				Payload:  map[string]string{"additionalProp1": "", "additionalProp2": "", "additionalProp3": ""},
			},
			Faults: []gen.GenerationMetadataStable{sourceFault()}, // source_image ""
		}, got.Jobs[0])
		assert.Equal(t, params.KindCaption, got.Jobs[0].Op.Kind())
	})
	t.Run("production", func(t *testing.T) {
		var pop gen.InterrogationPopPayload
		loadJSON(t, "examples/production/_v2_interrogate_pop_post_200.json", &pop)
		got := adapters.AlchemyFromPop(&pop)
		assert.Equal(t, map[string]int{}, got.Skipped)
		require.Len(t, got.Jobs, 1)
		assert.Equal(t, adapters.AlchemyPopForm{Op: params.AlchemyOp{
			ResultID: "390fef35-20dd-4e04-9c94-314cffd73d65",
			Form:     params.FormCaption,
			Source:   params.ImageData{URL: "https://i.imgur.com/51t36oI.jpeg"},
		}}, got.Jobs[0])
	})
	t.Run("mixed forms", func(t *testing.T) {
		b64 := base64.StdEncoding.EncodeToString([]byte("img"))
		form := func(id, f, src, r2 string) gen.InterrogationPopFormPayload {
			n := gen.InterrogationFormName(f)
			return gen.InterrogationPopFormPayload{ID: &id, Form: &n, SourceImage: &src, R2Upload: params.Ptr(r2)}
		}
		pop := gen.InterrogationPopPayload{Forms: []gen.InterrogationPopFormPayload{
			form("a", "RealESRGAN_x4plus", b64, "https://r2/a"),
			form("b", "nsfw", "https://x/img.png", ""),
			form("c", "brand_new_form", "!!notbase64", ""),
		}}
		got := adapters.AlchemyFromPop(&pop)
		require.Len(t, got.Jobs, 3)
		assert.Equal(t, []byte("img"), got.Jobs[0].Op.Source.Data)
		assert.Equal(t, "https://r2/a", got.Jobs[0].R2Upload)
		assert.Equal(t, params.KindUpscale, got.Jobs[0].Op.Kind())
		assert.Equal(t, "https://x/img.png", got.Jobs[1].Op.Source.URL)
		assert.Empty(t, got.Jobs[1].Faults)
		assert.Equal(t, params.AlchemyForm("brand_new_form"), got.Jobs[2].Op.Form, "unknown forms are kept")
		assert.Equal(t, params.KindUnknown, got.Jobs[2].Op.Kind())
		assert.Equal(t, []gen.GenerationMetadataStable{sourceFault()}, got.Jobs[2].Faults)
	})
	t.Run("no forms", func(t *testing.T) {
		got := adapters.AlchemyFromPop(&gen.InterrogationPopPayload{})
		assert.Empty(t, got.Jobs)
	})
}

func b64(s string) *string {
	e := base64.StdEncoding.EncodeToString([]byte(s))
	return &e
}

func imagePop(mut func(p *gen.GenerationPayloadStable)) *gen.GenerationPayloadStable {
	sp := gen.SourceProcessingImg2Img
	p := &gen.GenerationPayloadStable{
		ID:               params.Ptr("id1"),
		Ids:              []string{"id1", "id2"},
		Model:            params.Ptr("m"),
		TTL:              params.Ptr(300),
		SourceProcessing: &sp,
		R2Uploads:        []string{"https://r2/1", "https://r2/2"},
		Payload:          &gen.ModelPayloadStable{Prompt: params.Ptr("a cat###ugly"), NIter: params.Ptr(2), DdimSteps: params.Ptr(25), Width: params.Ptr(1024), Height: params.Ptr(1024), Karras: params.Ptr(true)},
	}
	if mut != nil {
		mut(p)
	}
	return p
}

func TestImageFromPopRules(t *testing.T) {
	sp := func(s gen.SourceProcessing) *gen.SourceProcessing { return &s }
	ct := gen.ControlTypeCanny
	tests := []struct {
		name   string
		pop    *gen.GenerationPayloadStable
		check  func(t *testing.T, j adapters.ImagePop)
		faults []gen.GenerationMetadataStable
	}{
		{"txt2img labelled img2img, no source: no fault", imagePop(nil), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, "a cat", j.Params.Prompt)
			assert.Equal(t, "ugly", j.Params.NegativePrompt)
			assert.Equal(t, params.SchedulerKarras, j.Params.Scheduler)
			assert.Equal(t, params.SourceTxt2Img, j.Params.SourceProcessing)
			assert.Equal(t, map[string]string{"id1": "https://r2/1", "id2": "https://r2/2"}, j.Dispatch.R2Uploads)
			assert.Equal(t, 300*time.Second, j.Dispatch.TTL)
			assert.Equal(t, params.Ptr(2), j.Params.BatchSize)
			assert.Equal(t, params.BaselineSDXL, j.Params.Baseline)
		}, nil},
		{"img2img with base64 source and mask", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceImage, p.SourceMask = b64("src"), b64("mask")
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, params.SourceImg2Img, j.Params.SourceProcessing)
			assert.Equal(t, &params.SourceImage{Image: params.ImageData{Data: []byte("src")}, Mask: params.ImageData{Data: []byte("mask")}}, j.Params.Source)
		}, nil},
		{"URL source stays a URL", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceImage, p.SourceProcessing = params.Ptr("https://r2/src.webp"), sp(gen.SourceProcessingInpainting)
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, params.SourceInpainting, j.Params.SourceProcessing)
			assert.Equal(t, "https://r2/src.webp", j.Params.Source.Image.URL)
		}, nil},
		{"bad source falls back to txt2img", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceImage = params.Ptr("YQ==!!")
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, params.SourceTxt2Img, j.Params.SourceProcessing)
			assert.Nil(t, j.Params.Source)
		}, []gen.GenerationMetadataStable{sourceFault()}},
		{"inpainting without source", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceProcessing = sp(gen.SourceProcessingInpainting)
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, params.SourceTxt2Img, j.Params.SourceProcessing)
		}, []gen.GenerationMetadataStable{sourceFault()}},
		{"bad mask dropped", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceImage, p.SourceMask = b64("src"), params.Ptr("%%%")
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.True(t, j.Params.Source.Mask.IsZero())
		}, []gen.GenerationMetadataStable{{Type: gen.MetadataTypeSourceMask, Value: gen.MetadataValueParseFailed}}},
		{"remix with one bad extra image", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceImage, p.SourceProcessing = b64("src"), sp(gen.SourceProcessingRemix)
			p.ExtraSourceImages = []gen.ExtraSourceImage{{Image: b64("e0"), Strength: params.Ptr(0.5)}, {Image: params.Ptr("a")}, {Image: params.Ptr("https://x/e2")}}
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, []params.RemixImage{{Image: params.ImageData{Data: []byte("e0")}, Strength: params.Ptr(0.5)}, {Image: params.ImageData{URL: "https://x/e2"}}}, j.Params.Remix)
		}, []gen.GenerationMetadataStable{{Type: gen.MetadataTypeExtraSourceImages, Value: gen.MetadataValueParseFailed, Ref: params.Ptr("1")}}},
		{"controlnet with control map", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceImage = b64("map")
			p.Payload.ControlType, p.Payload.ImageIsControl = &ct, params.Ptr(true)
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Nil(t, j.Params.Source)
			assert.Equal(t, &params.ControlNet{Type: params.ControlCanny, ControlMap: &params.ImageData{Data: []byte("map")}}, j.Params.ControlNet)
			assert.Equal(t, params.SourceTxt2Img, j.Params.SourceProcessing)
		}, nil},
		{"controlnet with source image", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceImage = b64("src")
			p.Payload.ControlType, p.Payload.ReturnControlMap = &ct, params.Ptr(true)
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, []byte("src"), j.Params.Source.Image.Data)
			assert.Equal(t, &params.ControlNet{Type: params.ControlCanny, ReturnControlMap: true}, j.Params.ControlNet)
		}, nil},
		{"controlnet without image dropped", imagePop(func(p *gen.GenerationPayloadStable) {
			p.Payload.ControlType = &ct
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Nil(t, j.Params.ControlNet)
		}, []gen.GenerationMetadataStable{sourceFault()}},
		{"hires fix on sdxl", imagePop(func(p *gen.GenerationPayloadStable) {
			p.Payload.HiresFix = params.Ptr(true)
			p.Payload.Width, p.Payload.Height = params.Ptr(1536), params.Ptr(1152)
		}), func(t *testing.T, j adapters.ImagePop) {
			require.NotNil(t, j.Params.HiresFix)
			require.NotNil(t, j.Params.HiresFix.FirstPass)
			assert.Equal(t, params.HiresPass{Width: 1152, Height: 896, Steps: 25, DenoisingStrength: 1}, *j.Params.HiresFix.FirstPass)
			assert.Equal(t, 1536, j.Params.HiresFix.SecondPass.Width)
		}, nil},
		{"hires fix too small is kept but not computed", imagePop(func(p *gen.GenerationPayloadStable) {
			p.Payload.HiresFix = params.Ptr(true)
		}), func(t *testing.T, j adapters.ImagePop) {
			require.NotNil(t, j.Params.HiresFix)
			assert.Nil(t, j.Params.HiresFix.FirstPass)
		}, nil},
		{"obsolete single r2_upload", imagePop(func(p *gen.GenerationPayloadStable) {
			p.Ids, p.R2Uploads, p.R2Upload = nil, nil, params.Ptr("https://r2/only")
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, []string{"id1"}, j.Dispatch.IDs)
			assert.Equal(t, map[string]string{"id1": "https://r2/only"}, j.Dispatch.R2Uploads)
		}, nil},
		{"fewer r2 urls than ids: base64 for the rest", imagePop(func(p *gen.GenerationPayloadStable) {
			p.R2Uploads = p.R2Uploads[:1]
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, "", j.Dispatch.UploadURL("id2"))
		}, nil},
		{"unknown source processing and control type kept", imagePop(func(p *gen.GenerationPayloadStable) {
			p.SourceImage, p.SourceProcessing = b64("src"), sp("future_mode")
			c := gen.ControlType("depth_anything_v2")
			p.Payload.ControlType = &c
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, params.SourceProcessing("future_mode"), j.Params.SourceProcessing)
			assert.Equal(t, params.ControlDepthAnythingV2, j.Params.ControlNet.Type)
			assert.True(t, j.Params.ControlNet.Type.Known())
			assert.False(t, j.Params.ControlNet.Type.InAPI())
		}, nil},
		{"unknown values kept", imagePop(func(p *gen.GenerationPayloadStable) {
			s := gen.SamplerName("k_new_sampler")
			p.Payload.SamplerName = &s
			p.Payload.PostProcessing = []gen.PostProcessor{"NewUpscaler", "GFPGAN"}
		}), func(t *testing.T, j adapters.ImagePop) {
			assert.Equal(t, params.Sampler("k_new_sampler"), j.Params.Sampler)
			assert.Equal(t, []params.PostProcessor{"NewUpscaler", "GFPGAN"}, j.Params.PostProcessing)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := adapters.ImageFromPop(tt.pop, func(string) params.Baseline { return params.BaselineSDXL })
			require.NoError(t, err)
			assert.Equal(t, tt.faults, j.Faults)
			tt.check(t, j)
		})
	}
	_, err := adapters.ImageFromPop(&gen.GenerationPayloadStable{ID: params.Ptr("x")}, nil)
	assert.ErrorContains(t, err, "payload")
}

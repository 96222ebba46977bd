package adapters_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/adapters"
	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fullImage() params.Image {
	return params.Image{
		Prompt:            "a castle",
		NegativePrompt:    "blurry",
		Model:             "AlbedoBase XL (SDXL)",
		Seed:              "1234",
		SeedVariation:     params.Ptr(3),
		Width:             params.Ptr(1024),
		Height:            params.Ptr(768),
		Steps:             params.Ptr(0 + 30),
		CFGScale:          params.Ptr(6.5),
		Sampler:           params.SamplerKDPMPP2M,
		Scheduler:         params.SchedulerNormal,
		ClipSkip:          params.Ptr(2),
		DenoisingStrength: params.Ptr(0.6),
		Tiling:            params.Ptr(false),
		Transparent:       params.Ptr(false),
		BatchSize:         params.Ptr(2),
		SourceProcessing:  params.SourceImg2Img,
		Source:            &params.SourceImage{Image: params.ImageData{Data: []byte("webp-bytes")}, Mask: params.ImageData{URL: "https://example.com/mask.webp"}},
		HiresFix:          &params.HiresFix{DenoisingStrength: params.Ptr(0.5)},
		LoRAs: []params.LoRA{
			{Name: "Magnagothica", Model: params.Ptr(0.8), Clip: params.Ptr(1.0), InjectTrigger: "any"},
			{Name: "12345", IsVersion: true},
		},
		TIs: []params.TI{
			{Name: "7808", Inject: params.TIInjectNegative, Strength: params.Ptr(0.5)},
			{Name: "bad-hands"},
		},
		PostProcessing:    []params.PostProcessor{params.PPCodeFormers, params.PPRealESRGANX2Plus, params.PPStripBackground},
		FacefixerStrength: params.Ptr(0.0),
	}
}

func TestImageRoundTrip(t *testing.T) {
	qr := fullImage()
	qr.Source, qr.SourceProcessing, qr.HiresFix = nil, "", nil
	qr.Workflow = &params.CustomWorkflow{Name: params.WorkflowQRCode, ExtraTexts: []params.ExtraText{{Text: "https://x", Reference: "qr_code"}}}
	cn := fullImage()
	cn.Source, cn.SourceProcessing = nil, ""
	cn.ControlNet = &params.ControlNet{Type: params.ControlDepth, ControlMap: &params.ImageData{Data: []byte("map")}}
	remix := fullImage()
	remix.SourceProcessing = params.SourceRemix
	remix.Source.Mask = params.ImageData{}
	remix.Remix = []params.RemixImage{{Image: params.ImageData{Data: []byte("r1")}, Strength: params.Ptr(0.3)}, {Image: params.ImageData{URL: "https://x/r2.webp"}}}
	karras := params.Image{Prompt: "p", Scheduler: params.SchedulerKarras}
	tests := []struct {
		name string
		img  params.Image
		opts params.RequestOptions
	}{
		{"full img2img", fullImage(), params.RequestOptions{
			NSFW: params.Ptr(false), CensorNSFW: params.Ptr(true), R2: params.Ptr(false), Shared: params.Ptr(false),
			ReplacementFilter: params.Ptr(false), TrustedWorkers: params.Ptr(true), ValidatedBackends: params.Ptr(true),
			SlowWorkers: params.Ptr(false), ExtraSlowWorkers: params.Ptr(false), Workers: []string{"w1"},
			WorkerBlacklist: params.Ptr(true), DryRun: params.Ptr(false), DisableBatching: params.Ptr(false),
			AllowDowngrade: params.Ptr(true), Webhook: "https://example.com/hook", Style: "my style", ProxiedAccount: "acct",
		}},
		{"qr workflow", qr, params.RequestOptions{}},
		{"controlnet map", cn, params.RequestOptions{}},
		{"remix", remix, params.RequestOptions{Models: []string{"a", "b"}}},
		{"minimal karras", karras, params.RequestOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.img
			if len(tt.opts.Models) > 0 {
				img.Model = ""
			}
			req, err := adapters.ImageRequest(&img, &tt.opts)
			require.NoError(t, err)
			// Through the wire and back.
			b, err := json.Marshal(req)
			require.NoError(t, err)
			var wire gen.GenerationInputStable
			require.NoError(t, json.Unmarshal(b, &wire))
			gotImg, gotOpts, err := adapters.ImageFromRequest(&wire)
			require.NoError(t, err)
			assert.Equal(t, img, gotImg)
			assert.Equal(t, tt.opts, gotOpts)
		})
	}
}

func TestImageRequestSendsOnlySetFields(t *testing.T) {
	tests := []struct {
		name string
		img  params.Image
		opts params.RequestOptions
		want string
	}{
		{"minimal", params.Image{Prompt: "a cat"}, params.RequestOptions{}, `{"prompt":"a cat"}`},
		{"explicit zero values", params.Image{Prompt: "a", Scheduler: params.SchedulerNormal, Tiling: params.Ptr(false), FacefixerStrength: params.Ptr(0.0)},
			params.RequestOptions{NSFW: params.Ptr(false), CensorNSFW: params.Ptr(false), R2: params.Ptr(false), SlowWorkers: params.Ptr(false)},
			`{"censor_nsfw":false,"nsfw":false,"params":{"facefixer_strength":0,"karras":false,"tiling":false},"prompt":"a","r2":false,"slow_workers":false}`},
		{"model and negative prompt", params.Image{Prompt: "a", NegativePrompt: "b", Model: "m"}, params.RequestOptions{}, `{"models":["m"],"prompt":"a###b"}`},
		{"control map", params.Image{Prompt: "a", ControlNet: &params.ControlNet{Type: params.ControlCanny, ControlMap: &params.ImageData{Data: []byte("m")}}}, params.RequestOptions{},
			`{"params":{"control_type":"canny","image_is_control":true},"prompt":"a","source_image":"bQ=="}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := adapters.ImageRequest(&tt.img, &tt.opts)
			require.NoError(t, err)
			b, err := json.Marshal(req)
			require.NoError(t, err)
			// Normalise key order through a map.
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			got, _ := json.Marshal(m)
			assert.JSONEq(t, tt.want, string(got))
		})
	}
}

func TestImageRequestRejectsInvalid(t *testing.T) {
	_, err := adapters.ImageRequest(&params.Image{Prompt: "a", Width: params.Ptr(500), Scheduler: params.SchedulerBeta},
		&params.RequestOptions{NSFW: params.Ptr(true), CensorNSFW: params.Ptr(true)})
	var vs params.Violations
	require.ErrorAs(t, err, &vs)
	assert.True(t, vs.Has("width") && vs.Has("scheduler") && vs.Has("censor_nsfw"), "%v", err)
}

func TestImageFromRequestBadImage(t *testing.T) {
	_, _, err := adapters.ImageFromRequest(&gen.GenerationInputStable{Prompt: "a", SourceImage: params.Ptr("not base64!")})
	var vs params.Violations
	require.ErrorAs(t, err, &vs)
	assert.True(t, vs.Has("source_image"))
}

// The example request payload decodes and converts; it is horde-sdk's
// generated example, so only structural facts are checked.
func TestImageFromExamplePayload(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "examples/payloads/_v2_generate_async_post.json"))
	require.NoError(t, err)
	var req gen.GenerationInputStable
	require.NoError(t, json.Unmarshal(integralFloats.ReplaceAll(b, []byte("$1")), &req))
	img, _, _ := adapters.ImageFromRequest(&req)
	params := req.Params
	require.NotNil(t, params)
	if params.Width != nil {
		assert.Equal(t, *params.Width, *img.Width)
	}
	assert.Equal(t, len(params.Loras), len(img.LoRAs))
	assert.Equal(t, len(params.Tis), len(img.TIs))
	assert.Equal(t, len(params.PostProcessing), len(img.PostProcessing))
}

func TestTextRoundTrip(t *testing.T) {
	f := params.Ptr(false)
	txt := params.Text{
		Prompt: "Once", Model: "koboldcpp/x", SoftPrompt: "sp", N: params.Ptr(2),
		MaxContextLength: params.Ptr(4096), MaxLength: params.Ptr(200), Temperature: params.Ptr(0.7),
		DynamicTempExponent: params.Ptr(1.0), DynamicTempRange: params.Ptr(0.0), SmoothingFactor: params.Ptr(0.0),
		TopP: params.Ptr(0.9), TopK: params.Ptr(0), TopA: params.Ptr(0.0), MinP: params.Ptr(0.05), Typical: params.Ptr(1.0),
		TFS: params.Ptr(1.0), RepPen: params.Ptr(1.1), RepPenRange: params.Ptr(320), RepPenSlope: params.Ptr(0.7),
		SamplerOrder: []int{6, 0, 1, 3, 4, 2, 5}, StopSequences: []string{"\nYou:"}, UseDefaultBadWordsIDs: f,
		Format: params.TextFormat{AddLeadingSpace: f, RemoveBlankLines: params.Ptr(true), RemoveSpecialChars: f, TrimIncomplete: f, SingleLine: f},
	}
	opts := params.RequestOptions{TrustedWorkers: f, ValidatedBackends: f, SlowWorkers: f, Workers: []string{"w"}, Webhook: "https://example.com/x", Style: "abc"}
	req, err := adapters.TextRequest(&txt, &opts)
	require.NoError(t, err)
	b, err := json.Marshal(req)
	require.NoError(t, err)
	var wire gen.GenerationInputKobold
	require.NoError(t, json.Unmarshal(b, &wire))
	gotT, gotO := adapters.TextFromRequest(&wire)
	assert.Equal(t, txt, gotT)
	assert.Equal(t, opts, gotO)

	_, err = adapters.TextRequest(&txt, &params.RequestOptions{NSFW: params.Ptr(true)})
	assert.ErrorContains(t, err, "nsfw: is an image-only option")
}

func TestAlchemyRoundTrip(t *testing.T) {
	tests := []params.Alchemy{
		{Source: params.ImageData{URL: "https://x/y.png"}, Ops: []params.AlchemyOp{{Form: params.FormCaption}, {Form: "RealESRGAN_x4plus"}, {Form: params.FormInterrogation, Payload: map[string]string{"k": "v"}}}},
		{Source: params.ImageData{Data: []byte("img")}, Ops: []params.AlchemyOp{{Form: params.FormAesthetic}}},
	}
	for _, a := range tests {
		opts := params.RequestOptions{SlowWorkers: params.Ptr(false), Webhook: "https://example.com/hook"}
		req, err := adapters.AlchemyRequest(&a, &opts)
		require.NoError(t, err)
		b, _ := json.Marshal(req)
		var wire gen.ModelInterrogationInputStable
		require.NoError(t, json.Unmarshal(b, &wire))
		got, gotOpts, err := adapters.AlchemyFromRequest(&wire)
		require.NoError(t, err)
		assert.Equal(t, a, got)
		assert.Equal(t, opts, gotOpts)
	}
	_, err := adapters.AlchemyRequest(&params.Alchemy{}, nil)
	assert.ErrorContains(t, err, "source_image: is required")
}

func TestTextRequestSendsOnlySetFields(t *testing.T) {
	tests := []struct {
		txt  params.Text
		want string
	}{
		{params.Text{Prompt: "x"}, `{"prompt":"x"}`},
		{params.Text{Prompt: "x", Temperature: params.Ptr(0.0), Format: params.TextFormat{SingleLine: params.Ptr(false)}},
			`{"prompt":"x","params":{"temperature":0,"singleline":false}}`},
		{params.Text{Prompt: "x", Model: "m"}, `{"prompt":"x","models":["m"]}`},
	}
	for _, tt := range tests {
		req, err := adapters.TextRequest(&tt.txt, nil)
		require.NoError(t, err)
		b, err := json.Marshal(req)
		require.NoError(t, err)
		assert.JSONEq(t, tt.want, string(b))
	}
}

package params_test

import (
	"encoding/json"
	"testing"

	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFinalizeImage(t *testing.T) {
	tmpl := &params.Image{Model: "m", Steps: params.Ptr(40), LoRAs: []params.LoRA{{Name: "a"}}, Tiling: params.Ptr(true)}
	over := &params.Image{Prompt: "a cat", Steps: params.Ptr(20), Tiling: params.Ptr(false), LoRAs: []params.LoRA{{Name: "b"}, {Name: "c"}}}
	f, err := params.FinalizeImage(tmpl, over)
	require.NoError(t, err)
	want := params.Image{
		Prompt: "a cat", Model: "m", Width: params.Ptr(512), Height: params.Ptr(512), Steps: params.Ptr(20),
		CFGScale: params.Ptr(5.0), Sampler: params.SamplerKEulerA, Scheduler: params.SchedulerKarras,
		ClipSkip: params.Ptr(1), BatchSize: params.Ptr(1), Tiling: params.Ptr(false), Transparent: params.Ptr(false),
		SourceProcessing: params.SourceTxt2Img, LoRAs: []params.LoRA{{Name: "b"}, {Name: "c"}},
	}
	assert.Equal(t, want, f.Params)
	assert.Len(t, f.Fingerprint, 64)
	// Inputs are untouched and not shared.
	assert.Equal(t, 40, *tmpl.Steps)
	assert.Equal(t, "a", tmpl.LoRAs[0].Name)
	over.LoRAs[0].Name = "changed"
	assert.Equal(t, "b", f.Params.LoRAs[0].Name)

	// ControlNet changes the default steps.
	f2, err := params.FinalizeImage(&params.Image{Prompt: "p", ControlNet: &params.ControlNet{Type: params.ControlCanny, ControlMap: &params.ImageData{Data: []byte{1}}}}, nil)
	require.NoError(t, err)
	assert.Equal(t, 20, *f2.Params.Steps)

	_, err = params.FinalizeImage(&params.Image{Prompt: "p"}, &params.Image{Width: params.Ptr(100)})
	assert.EqualError(t, err, "width: must be a multiple of 64, got 100")
	_, err = params.FinalizeImage(nil, nil)
	assert.ErrorContains(t, err, "prompt: must not be empty")
}

func TestFinalizeText(t *testing.T) {
	f, err := params.FinalizeText(&params.Text{Model: "m", Temperature: params.Ptr(0.5),
		Format: params.TextFormat{SingleLine: params.Ptr(true)}},
		&params.Text{Prompt: "hi", Format: params.TextFormat{TrimIncomplete: params.Ptr(false)}})
	require.NoError(t, err)
	assert.Equal(t, params.Text{Prompt: "hi", Model: "m", N: params.Ptr(1), MaxContextLength: params.Ptr(2048),
		MaxLength: params.Ptr(80), Temperature: params.Ptr(0.5),
		Format: params.TextFormat{SingleLine: params.Ptr(true), TrimIncomplete: params.Ptr(false)}}, f.Params)
	_, err = params.FinalizeText(&params.Text{Prompt: "x"}, &params.Text{MaxLength: params.Ptr(4000)})
	assert.ErrorContains(t, err, "max_context_length: must be at least max_length (4000), got 2048")
}

func TestFinalizeAlchemy(t *testing.T) {
	f, err := params.FinalizeAlchemy(&params.Alchemy{Ops: []params.AlchemyOp{{Form: params.FormCaption}}},
		&params.Alchemy{Source: params.ImageData{URL: "https://x/y.png"}})
	require.NoError(t, err)
	assert.Equal(t, "https://x/y.png", f.Params.Source.URL)
	assert.Len(t, f.Params.Ops, 1)
	_, err = params.FinalizeAlchemy(&params.Alchemy{}, nil)
	assert.Error(t, err)
}

// goldenImage is finalized and fingerprinted; the expected hash is a
// constant, so any change of the canonical form (or a platform/run
// dependence) fails the test.
func goldenImage() *params.Image {
	return &params.Image{
		Prompt: "a lighthouse, ünïcode ✓", NegativePrompt: "fog", Model: "AlbedoBase XL (SDXL)",
		Baseline: params.BaselineSDXL, Seed: "42", Width: params.Ptr(1024), Height: params.Ptr(1024),
		Steps: params.Ptr(25), CFGScale: params.Ptr(6.25), DenoisingStrength: params.Ptr(0.1),
		Source:           &params.SourceImage{Image: params.ImageData{Data: []byte{0, 1, 2, 255}}},
		SourceProcessing: params.SourceImg2Img,
		HiresFix:         &params.HiresFix{DenoisingStrength: params.Ptr(1e-2)},
		LoRAs:            []params.LoRA{{Name: "x", Model: params.Ptr(-0.5)}},
		TIs:              []params.TI{{Name: "7808", Inject: params.TIInjectNegative}},
		PostProcessing:   []params.PostProcessor{params.PPGFPGAN, params.PP4xAnimeSharp},
	}
}

const goldenImageFingerprint = "3b24e2572f7d121724f83b35a4d93467c80b99878741b76b1e2ae0eb2b3ceaec"

func TestFingerprintStable(t *testing.T) {
	f1, err := params.FinalizeImage(goldenImage(), nil)
	require.NoError(t, err)
	f2, err := params.FinalizeImage(goldenImage(), nil)
	require.NoError(t, err)
	assert.Equal(t, f1.Fingerprint, f2.Fingerprint)
	assert.Equal(t, goldenImageFingerprint, f1.Fingerprint)

	// Every change of a value changes the fingerprint.
	changes := map[string]func(*params.Image){
		"prompt": func(i *params.Image) { i.Prompt += " " },
		"cfg":    func(i *params.Image) { i.CFGScale = params.Ptr(6.26) },
		"image":  func(i *params.Image) { i.Source.Image.Data[0] = 9 },
		"pp order": func(i *params.Image) {
			i.PostProcessing[0], i.PostProcessing[1] = i.PostProcessing[1], i.PostProcessing[0]
		},
		"lora":     func(i *params.Image) { i.LoRAs[0].Clip = params.Ptr(1.0) },
		"baseline": func(i *params.Image) { i.Baseline = params.BaselineSD1 },
		"hires":    func(i *params.Image) { i.HiresFix = nil },
	}
	for name, change := range changes {
		img := goldenImage()
		change(img)
		f, err := params.FinalizeImage(img, nil)
		require.NoError(t, err, name)
		assert.NotEqual(t, f1.Fingerprint, f.Fingerprint, name)
	}
	// Kinds are separated.
	a, _ := params.Fingerprint("image", struct{}{})
	b, _ := params.Fingerprint("text", struct{}{})
	assert.NotEqual(t, a, b)
}

// Parameter sets survive their own JSON encoding (for storage and queues).
func TestImageJSONRoundTrip(t *testing.T) {
	img := goldenImage()
	img.ControlNet = &params.ControlNet{Type: params.ControlCanny, ReturnControlMap: true}
	img.Remix = []params.RemixImage{{Image: params.ImageData{URL: "https://x/y"}, Strength: params.Ptr(0.5)}}
	img.Workflow = &params.CustomWorkflow{Name: params.WorkflowQRCode, ExtraTexts: []params.ExtraText{{Text: "t", Reference: "qr_code"}}}
	params.ComputeHiresFix(img)
	b, err := json.Marshal(img)
	require.NoError(t, err)
	var got params.Image
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, *img, got)
}

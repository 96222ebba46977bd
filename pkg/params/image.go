package params

import (
	"math"
	"strings"
)

// ImageData is an image given either inline (Data, raw bytes) or by URL.
// Exactly one of the two is set in a usable value.
//
// Decision on an upstream quirk: horde_sdk base64-decodes whatever the
// server sends, URLs included. Here a URL stays a URL; the caller (a
// worker) downloads it.
type ImageData struct {
	// Data is the image file content (typically WebP), not base64.
	Data []byte `json:"data,omitempty"`
	// URL is an http(s) URL the image can be fetched from.
	URL string `json:"url,omitempty"`
}

// IsZero reports whether neither Data nor URL is set.
func (d ImageData) IsZero() bool { return len(d.Data) == 0 && d.URL == "" }

// IsURL reports whether the image is given by URL.
func (d ImageData) IsURL() bool { return d.URL != "" }

// Image is a complete description of one image generation request or job.
//
// Decision on clip skip: ClipSkip always uses the API convention (1 means
// no layer skipped, 2 skips one layer). horde_sdk stores the API value but
// labels it with the negative (ComfyUI) convention; use
// [Image.ClipSkipComfy] for the ComfyUI value instead.
type Image struct {
	// Prompt is the positive prompt, without the "###" separator.
	Prompt string `json:"prompt"`
	// NegativePrompt is sent after "###" in the API prompt.
	NegativePrompt string `json:"negative_prompt,omitempty"`
	// Model is the model name. For requests, see also RequestOptions.Models.
	Model string `json:"model,omitempty"`
	// Baseline is the model family, from the model reference when known.
	Baseline Baseline `json:"baseline,omitempty"`
	// Seed is a number or any text; "" lets the server pick a random seed.
	Seed string `json:"seed,omitempty"`
	// SeedVariation increments the seed per image of a batch (1..1000).
	SeedVariation *int `json:"seed_variation,omitempty"`

	Width  *int `json:"width,omitempty"`  // 64..3072, multiple of 64; server default 512
	Height *int `json:"height,omitempty"` // 64..3072, multiple of 64; server default 512
	// Steps is the number of sampling steps (1..500; server default 30).
	Steps *int `json:"steps,omitempty"`
	// CFGScale is the classifier-free guidance scale (0..100).
	CFGScale *float64 `json:"cfg_scale,omitempty"`
	// Sampler is the sampler; "" means the server default.
	Sampler Sampler `json:"sampler,omitempty"`
	// Scheduler is the noise scheduler; "" means the server default
	// (karras). The API carries only karras and normal.
	Scheduler Scheduler `json:"scheduler,omitempty"`
	// ClipSkip uses the API convention (1..12, 1 = none skipped).
	ClipSkip *int `json:"clip_skip,omitempty"`
	// DenoisingStrength applies to img2img/inpainting (0.01..1).
	DenoisingStrength *float64 `json:"denoising_strength,omitempty"`
	// Tiling makes the image tile seamlessly.
	Tiling *bool `json:"tiling,omitempty"`
	// Transparent generates with Layer Diffuse (transparent background).
	Transparent *bool `json:"transparent,omitempty"`
	// BatchSize is the number of images (API "n", 1..20).
	BatchSize *int `json:"batch_size,omitempty"`

	// SourceProcessing is how Source is used; "" means txt2img without a
	// source image, and img2img (the server default) with one.
	SourceProcessing SourceProcessing `json:"source_processing,omitempty"`
	// Source is the img2img / inpainting / outpainting / remix source image
	// and mask, and the ControlNet input when ControlNet.ControlMap is unset.
	Source *SourceImage `json:"source,omitempty"`
	// Remix lists the extra images of a remix (API extra_source_images).
	Remix []RemixImage `json:"remix,omitempty"`
	// ControlNet enables ControlNet.
	ControlNet *ControlNet `json:"controlnet,omitempty"`
	// HiresFix enables the two-pass high-resolution fix.
	HiresFix *HiresFix `json:"hires_fix,omitempty"`
	// LoRAs to apply, in order (at most 5 on the Horde).
	LoRAs []LoRA `json:"loras,omitempty"`
	// TIs are the textual inversions to apply, in order (at most 20).
	TIs []TI `json:"tis,omitempty"`
	// Workflow selects a custom workflow and its extra texts.
	Workflow *CustomWorkflow `json:"workflow,omitempty"`
	// PostProcessing lists the post-processors, applied in this order.
	//
	// Decision: horde_sdk ignores post_processing_order; the current API has
	// no such field, so the list order is the order.
	PostProcessing []PostProcessor `json:"post_processing,omitempty"`
	// FacefixerStrength is the face fixer strength (0..1).
	FacefixerStrength *float64 `json:"facefixer_strength,omitempty"`
}

// SourceImage is the source image and optional mask.
type SourceImage struct {
	// Image is the source image.
	Image ImageData `json:"image"`
	// Mask is the inpainting/outpainting mask; empty means the mask is the
	// image's alpha channel.
	Mask ImageData `json:"mask,omitzero"`
}

// RemixImage is one extra image of a remix.
type RemixImage struct {
	// Image is the extra image.
	Image ImageData `json:"image"`
	// Strength defaults to 1 on the server when nil.
	Strength *float64 `json:"strength,omitempty"`
}

// ControlNet configures ControlNet.
type ControlNet struct {
	// Type is the preprocessor.
	Type ControlType `json:"type"`
	// ControlMap, when set, is a ready control map (API image_is_control);
	// otherwise the control input is Image.Source.
	ControlMap *ImageData `json:"control_map,omitempty"`
	// ReturnControlMap asks for the control map instead of an image.
	ReturnControlMap bool `json:"return_control_map,omitempty"`
}

// HiresFix configures the high-resolution fix.
type HiresFix struct {
	// DenoisingStrength of the second pass (0.01..1); nil means the
	// upstream default logic (see [ComputeHiresFix]).
	DenoisingStrength *float64 `json:"denoising_strength,omitempty"`
	// FirstPass and SecondPass are filled by [ComputeHiresFix] (the pop
	// adapter calls it); they are not sent in requests.
	FirstPass *HiresPass `json:"first_pass,omitempty"`
	// SecondPass runs at the requested size (see FirstPass).
	SecondPass *HiresPass `json:"second_pass,omitempty"`
}

// HiresPass is one pass of the hires fix.
type HiresPass struct {
	// Width of this pass in pixels.
	Width int `json:"width"`
	// Height of this pass in pixels.
	Height int `json:"height"`
	// Steps of this pass.
	Steps int `json:"steps"`
	// DenoisingStrength of this pass.
	DenoisingStrength float64 `json:"denoising_strength"`
}

// LoRA is one LoRA to apply.
//
// Decision: the API shape is kept (name or CivitAI version id, one optional
// trigger). horde_sdk turns InjectTrigger into a FUZZY_POSITIVE injection
// with that single trigger; backends should do the same.
type LoRA struct {
	// Name is the exact name or CivitAI model id, or the version id when
	// IsVersion is true (then it must be all digits).
	Name string `json:"name"`
	// IsVersion says Name is a CivitAI version id.
	IsVersion bool `json:"is_version,omitempty"`
	// Model and Clip are the strengths (-5..5, server default 1).
	Model *float64 `json:"model,omitempty"`
	// Clip is the strength applied to the text encoder.
	Clip *float64 `json:"clip,omitempty"`
	// InjectTrigger, when set (1..30 chars), injects the best-matching
	// trigger into the prompt; "any" picks the first trigger.
	InjectTrigger string `json:"inject_trigger,omitempty"`
}

// TI is one textual inversion.
type TI struct {
	// Name is the exact name or CivitAI id (1..255 chars).
	Name string `json:"name"`
	// Inject says where to inject the trigger; none by default.
	Inject TIInject `json:"inject,omitempty"`
	// Strength (-5..5, server default 1) only matters when Inject is set.
	Strength *float64 `json:"strength,omitempty"`
}

// CustomWorkflow selects a workflow and its extra texts.
type CustomWorkflow struct {
	// Name is the workflow.
	Name Workflow `json:"name"`
	// ExtraTexts are the texts the workflow uses.
	ExtraTexts []ExtraText `json:"extra_texts,omitempty"`
}

// ExtraText is a text passed to a workflow (qr_code needs reference "qr_code").
type ExtraText struct {
	// Text is the text (at least 1 char).
	Text string `json:"text"`
	// Reference says where the text is used (at least 3 chars).
	Reference string `json:"reference,omitempty"`
}

// Server-side defaults of an image generation (AI-Horde 5.1.5: the values
// the server applies when it builds the job, which differ from the swagger
// in places: cfg 5 not 7.5, sampler k_euler_a not k_euler, karras true),
// and the server's limits.
const (
	DefaultImageSide     = 512
	DefaultImageSteps    = 30
	DefaultControlSteps  = 20
	DefaultImageCFG      = 5.0
	DefaultSampler       = SamplerKEulerA
	DefaultScheduler     = SchedulerKarras
	DefaultClipSkip      = 1
	DefaultHiresDenoise  = 0.65
	DefaultBatchSize     = 1
	MaxLoRAs             = 5
	MaxTIs               = 20
	MaxExtraSourceImages = 5
	MaxImageSide         = 3072
	MinImageSide         = 64
	ImageSideMultiple    = 64
	MaxImageSteps        = 500
	MaxBatchSize         = 20
)

// EffectiveSourceProcessing returns SourceProcessing, or the server's
// default when it is unset: img2img with a source image, txt2img without.
func (img *Image) EffectiveSourceProcessing() SourceProcessing {
	if img.SourceProcessing != "" {
		return img.SourceProcessing
	}
	if img.Source != nil && !img.Source.Image.IsZero() {
		return SourceImg2Img
	}
	return SourceTxt2Img
}

// ClipSkipComfy returns the clip skip in the ComfyUI (negative offset)
// convention: API 1 → -1, API 2 → -2. It returns 0 when unset.
func (img *Image) ClipSkipComfy() int {
	if img.ClipSkip == nil {
		return 0
	}
	return -*img.ClipSkip
}

// NumResults is the number of images the generation produces.
func (img *Image) NumResults() int {
	if img.BatchSize == nil || *img.BatchSize < 1 {
		return 1
	}
	return *img.BatchSize
}

// APIPrompt joins the prompts the way the API expects: "positive###negative"
// (no separator when NegativePrompt is empty).
func (img *Image) APIPrompt() string {
	if img.NegativePrompt == "" {
		return img.Prompt
	}
	return img.Prompt + "###" + img.NegativePrompt
}

// SplitPrompt splits an API prompt at the first "###" into the positive and
// negative prompts, without trimming (as upstream): "a cat### ugly" gives
// "a cat" and " ugly". Later "###" stay in the negative prompt.
func SplitPrompt(p string) (positive, negative string) {
	positive, negative, _ = strings.Cut(p, "###")
	return positive, negative
}

// sdxlBuckets are the SDXL training resolutions the first pass snaps to.
var sdxlBuckets = [...][2]int{
	{1024, 1024}, {1152, 896}, {896, 1152}, {1216, 832}, {832, 1216},
	{1344, 768}, {768, 1344}, {1536, 640}, {640, 1536},
}

// FirstPassSize returns the size of the hires-fix first pass for a
// requested width and height, by baseline (upstream algorithm):
//   - stable_cascade: if the longer side exceeds 1024, scale so it is 1024;
//   - stable_diffusion_xl: the SDXL bucket with the nearest aspect ratio;
//   - anything else (Flux and unknown included): if both sides exceed 512,
//     scale so the shorter side is 512.
//
// Scaling keeps multiples of 64: new = floor(side / (ratio*64)) * 64.
func FirstPassSize(b Baseline, width, height int) (w, h int) {
	switch b {
	case BaselineCascade:
		if max(width, height) <= 1024 {
			return width, height
		}
		ratio := max(float64(height)/1024, float64(width)/1024)
		return scaleSide(width, ratio), scaleSide(height, ratio)
	case BaselineSDXL:
		aspect := float64(width) / float64(height)
		best, bestDiff := sdxlBuckets[0], math.Inf(1)
		for _, bk := range sdxlBuckets {
			d := math.Abs(float64(bk[0])/float64(bk[1]) - aspect)
			if d < bestDiff {
				best, bestDiff = bk, d
			}
		}
		return best[0], best[1]
	default:
		if width <= 512 || height <= 512 {
			return width, height
		}
		ratio := min(float64(height)/512, float64(width)/512)
		return scaleSide(width, ratio), scaleSide(height, ratio)
	}
}

func scaleSide(side int, ratio float64) int {
	return int(math.Floor(float64(side)/(ratio*64))) * 64
}

// SecondPassSteps computes the steps of the hires-fix second pass (upstream
// calc_upscale_sampler_steps; Python round is banker's rounding, so this
// uses math.RoundToEven). native is the baseline's native side, or 0 when
// unknown; strength is the second-pass denoising strength; steps the
// requested steps.
func SecondPassSteps(native, width, height int, strength float64, steps int) int {
	f := 0.0
	if native != 0 {
		n := float64(native)
		f = (float64(width) * float64(height) / (n * n)) / (3 * (512 / n))
	}
	s := min(max(strength, 0.01), 1.0)
	r := math.RoundToEven(3 + float64(steps-3)*s*s)
	r = math.RoundToEven(r * (1 / math.Pow(0.5, f)) / 2.25)
	out := int(r)
	if steps <= 18 {
		out += 3
	}
	out = min(out, steps)
	return max(out, min(6, steps))
}

// HiresFixApplies reports whether the hires fix is actually run for img
// (upstream rule): it must be requested, the source processing must not be
// inpainting or outpainting, and an SD1 image must exceed 512 on both
// sides, an SDXL image 1024 on both sides. Other baselines always apply.
func HiresFixApplies(img *Image) bool {
	if img.HiresFix == nil {
		return false
	}
	sp := img.EffectiveSourceProcessing()
	if sp == SourceInpainting || sp == SourceOutpainting {
		return false
	}
	w, h := img.size()
	switch img.Baseline {
	case BaselineSD1:
		return w > 512 && h > 512
	case BaselineSDXL:
		return w > 1024 && h > 1024
	}
	return true
}

func (img *Image) size() (w, h int) {
	w, h = DefaultImageSide, DefaultImageSide
	if img.Width != nil {
		w = *img.Width
	}
	if img.Height != nil {
		h = *img.Height
	}
	return w, h
}

func (img *Image) steps() int {
	if img.Steps != nil {
		return *img.Steps
	}
	if img.ControlNet != nil {
		return DefaultControlSteps
	}
	return DefaultImageSteps
}

// ComputeHiresFix fills img.HiresFix.FirstPass and SecondPass when the hires
// fix applies (see [HiresFixApplies]) and returns whether it did. Unset
// sizes and steps take the server defaults.
//
// First pass: [FirstPassSize], the requested steps, the image's denoising
// strength (1 when unset, the server default). Second pass: the requested
// size, [SecondPassSteps], and the denoising strength chosen as upstream:
// HiresFix.DenoisingStrength if set, else the image's denoising strength
// when the job is not txt2img, else [DefaultHiresDenoise].
//
// Decision on an upstream quirk: for the step formula horde_sdk uses
// "hires_fix_denoising_strength or 0.65", so an explicit 0 counted as unset;
// the API minimum is 0.01, so 0 cannot occur in a valid job and the
// difference is moot; this code uses the second-pass strength chosen above
// when it is set, 0.65 otherwise, exactly like upstream for valid input.
func ComputeHiresFix(img *Image) bool {
	if !HiresFixApplies(img) {
		return false
	}
	w, h := img.size()
	steps := img.steps()
	fw, fh := FirstPassSize(img.Baseline, w, h)
	firstDenoise := 1.0
	if img.DenoisingStrength != nil {
		firstDenoise = *img.DenoisingStrength
	}
	formulaStrength := DefaultHiresDenoise
	if img.HiresFix.DenoisingStrength != nil && *img.HiresFix.DenoisingStrength != 0 {
		formulaStrength = *img.HiresFix.DenoisingStrength
	}
	second := DefaultHiresDenoise
	switch {
	case img.HiresFix.DenoisingStrength != nil:
		second = *img.HiresFix.DenoisingStrength
	case img.EffectiveSourceProcessing() != SourceTxt2Img && img.DenoisingStrength != nil:
		second = *img.DenoisingStrength
	}
	native := img.Baseline.NativeResolution()
	if native == 0 {
		native = 512
	}
	img.HiresFix.FirstPass = &HiresPass{Width: fw, Height: fh, Steps: steps, DenoisingStrength: firstDenoise}
	img.HiresFix.SecondPass = &HiresPass{
		Width: w, Height: h,
		Steps:             SecondPassSteps(native, w, h, formulaStrength, steps),
		DenoisingStrength: second,
	}
	return true
}

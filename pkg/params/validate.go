package params

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// Violation is one broken rule: the field (a dotted path such as
// "loras[1].model") and the rule with the offending value.
type Violation struct {
	// Field is the API name or dotted path of the field.
	Field string
	// Rule describes the broken rule and the offending value.
	Rule string
}

// Error formats the violation as "field: rule".
func (v Violation) Error() string { return v.Field + ": " + v.Rule }

// Violations collects every violation found by a Validate method. A nil or
// empty Violations is never returned as an error.
type Violations []Violation

// Error joins the violations with "; ".
func (vs Violations) Error() string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Error())
	}
	return b.String()
}

// Unwrap returns the violations as individual errors, for errors.Is/As.
func (vs Violations) Unwrap() []error {
	out := make([]error, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// Has reports whether a violation concerns field.
func (vs Violations) Has(field string) bool {
	return slices.ContainsFunc(vs, func(v Violation) bool { return v.Field == field })
}

// err returns vs as an error, or nil when empty.
func (vs Violations) err() error {
	if len(vs) == 0 {
		return nil
	}
	return vs
}

type checker struct{ vs Violations }

func (c *checker) add(field, format string, args ...any) {
	c.vs = append(c.vs, Violation{Field: field, Rule: fmt.Sprintf(format, args...)})
}

func (c *checker) intRange(field string, v *int, lo, hi int) {
	if v == nil {
		return
	}
	if *v < lo || *v > hi {
		c.add(field, "must be between %d and %d, got %d", lo, hi, *v)
	}
}

func (c *checker) floatRange(field string, v *float64, lo, hi float64) {
	if v == nil {
		return
	}
	if !(*v >= lo && *v <= hi) { // also rejects NaN
		c.add(field, "must be between %g and %g, got %g", lo, hi, *v)
	}
}

func (c *checker) strLen(field, s string, lo, hi int) {
	n := len([]rune(s))
	if n < lo || (hi > 0 && n > hi) {
		if hi > 0 {
			c.add(field, "length must be between %d and %d, got %d", lo, hi, n)
		} else {
			c.add(field, "length must be at least %d, got %d", lo, n)
		}
	}
}

func (c *checker) side(field string, v *int) {
	if v == nil {
		return
	}
	c.intRange(field, v, MinImageSide, MaxImageSide)
	if *v%ImageSideMultiple != 0 {
		c.add(field, "must be a multiple of %d, got %d", ImageSideMultiple, *v)
	}
}

func (c *checker) imageData(field string, d ImageData) {
	if d.URL != "" && len(d.Data) > 0 {
		c.add(field, "must be either data or a URL, not both")
	}
	if d.URL != "" && !strings.HasPrefix(d.URL, "https://") && !strings.HasPrefix(d.URL, "http://") {
		c.add(field, "URL must be http or https, got %q", d.URL)
	}
}

// Validate checks img against every bound of the current API specification
// and the extra rules of horde_sdk and the server. It returns nil or
// [Violations] listing every problem. Unknown enum values are violations:
// the server would reject them (decoding a job never calls Validate).
//
// Extra rules beyond the schema (server / horde_sdk): a prompt is needed; a
// mask needs a source image; img2img, inpainting, outpainting and remix
// need a source image; remix images need remix; ControlNet needs a source
// image or a control map but not both, is incompatible with inpainting and
// with a transparent image; transparent is incompatible with extra source
// images; extra texts need a workflow; qr_code needs a "qr_code" extra text;
// at most 5 LoRAs, 20 TIs, 5 extra images, 1 upscaler; a LoRA version id is
// all digits; the scheduler must be one the API can carry; no duplicate
// post-processors.
func (img *Image) Validate() error {
	var c checker
	if img.Prompt == "" {
		c.add("prompt", "must not be empty")
	}
	if strings.Contains(img.Prompt, "###") {
		c.add("prompt", "must not contain the negative prompt separator \"###\"; use NegativePrompt")
	}
	if img.Baseline != "" && !img.Baseline.Known() {
		c.add("baseline", "unknown baseline %q", img.Baseline)
	}
	c.intRange("seed_variation", img.SeedVariation, 1, 1000)
	c.side("width", img.Width)
	c.side("height", img.Height)
	c.intRange("steps", img.Steps, 1, MaxImageSteps)
	c.floatRange("cfg_scale", img.CFGScale, 0, 100)
	if img.Sampler != "" && !img.Sampler.Known() {
		c.add("sampler_name", "must be one of %v, got %q", knownSamplers, img.Sampler)
	}
	if img.Scheduler != "" && !img.Scheduler.InAPI() {
		c.add("scheduler", "the AI Horde API carries only karras or normal, got %q", img.Scheduler)
	}
	c.intRange("clip_skip", img.ClipSkip, 1, 12)
	c.floatRange("denoising_strength", img.DenoisingStrength, 0.01, 1)
	c.intRange("n", img.BatchSize, 1, MaxBatchSize)
	c.floatRange("facefixer_strength", img.FacefixerStrength, 0, 1)

	sp := img.SourceProcessing
	if sp != "" && !sp.Known() {
		c.add("source_processing", "must be one of %v, got %q", apiSourceProcessing, sp)
	}
	hasSource := img.Source != nil && !img.Source.Image.IsZero()
	if img.Source != nil {
		c.imageData("source_image", img.Source.Image)
		c.imageData("source_mask", img.Source.Mask)
		if !img.Source.Mask.IsZero() && !hasSource {
			c.add("source_mask", "needs a source image")
		}
	}
	if sp.NeedsSourceImage() && !hasSource {
		c.add("source_image", "is required for source processing %q", sp)
	}
	if len(img.Remix) > 0 && img.EffectiveSourceProcessing() != SourceRemix {
		c.add("extra_source_images", "are only used with source processing \"remix\"")
	}
	if len(img.Remix) > MaxExtraSourceImages {
		c.add("extra_source_images", "at most %d images, got %d", MaxExtraSourceImages, len(img.Remix))
	}
	for i, r := range img.Remix {
		f := fmt.Sprintf("extra_source_images[%d].image", i)
		if r.Image.IsZero() {
			c.add(f, "length must be at least 1, got 0")
		}
		c.imageData(f, r.Image)
	}

	if cn := img.ControlNet; cn != nil {
		if !cn.Type.InAPI() {
			c.add("control_type", "must be one of %v, got %q", apiControlTypes, cn.Type)
		}
		hasMap := cn.ControlMap != nil && !cn.ControlMap.IsZero()
		if hasMap {
			c.imageData("control_map", *cn.ControlMap)
		}
		switch {
		case hasMap && hasSource:
			c.add("control_map", "the API carries one image: set either a control map or a source image")
		case !hasMap && !hasSource:
			c.add("source_image", "ControlNet needs a source image or a control map")
		}
		if sp == SourceInpainting || sp == SourceOutpainting {
			c.add("control_type", "cannot be combined with %s", sp)
		}
		if hasMap && cn.ReturnControlMap {
			c.add("return_control_map", "cannot be combined with a ready control map (image_is_control)")
		}
		if img.Transparent != nil && *img.Transparent {
			c.add("transparent", "cannot be combined with ControlNet")
		}
	}
	if img.Transparent != nil && *img.Transparent && len(img.Remix) > 0 {
		c.add("transparent", "cannot be combined with extra source images")
	}
	if h := img.HiresFix; h != nil {
		c.floatRange("hires_fix_denoising_strength", h.DenoisingStrength, 0.01, 1)
		if img.Baseline.IsFlux() || img.Baseline == BaselineQwenImage || img.Baseline == BaselineZImageTurbo {
			c.add("hires_fix", "is not supported for baseline %q", img.Baseline)
		}
	}

	if len(img.LoRAs) > MaxLoRAs {
		c.add("loras", "at most %d LoRAs, got %d", MaxLoRAs, len(img.LoRAs))
	}
	for i, l := range img.LoRAs {
		p := fmt.Sprintf("loras[%d].", i)
		c.strLen(p+"name", l.Name, 1, 255)
		c.floatRange(p+"model", l.Model, -5, 5)
		c.floatRange(p+"clip", l.Clip, -5, 5)
		if l.InjectTrigger != "" {
			c.strLen(p+"inject_trigger", l.InjectTrigger, 1, 30)
		}
		if l.IsVersion && !isDigits(l.Name) {
			c.add(p+"name", "must be a CivitAI version id (digits) when is_version is true, got %q", l.Name)
		}
	}
	if len(img.TIs) > MaxTIs {
		c.add("tis", "at most %d TIs, got %d", MaxTIs, len(img.TIs))
	}
	for i, t := range img.TIs {
		p := fmt.Sprintf("tis[%d].", i)
		c.strLen(p+"name", t.Name, 1, 255)
		if !t.Inject.Known() {
			c.add(p+"inject_ti", "must be one of [prompt negprompt], got %q", t.Inject)
		}
		c.floatRange(p+"strength", t.Strength, -5, 5)
	}

	if w := img.Workflow; w != nil {
		if !w.Name.Known() {
			c.add("workflow", "must be one of %v, got %q", Workflows(), w.Name)
		}
		hasQR := false
		for i, e := range w.ExtraTexts {
			p := fmt.Sprintf("extra_texts[%d].", i)
			c.strLen(p+"text", e.Text, 1, 0)
			if e.Reference != "" {
				c.strLen(p+"reference", e.Reference, 3, 0)
			}
			hasQR = hasQR || e.Reference == "qr_code"
		}
		if w.Name == WorkflowQRCode && !hasQR {
			c.add("extra_texts", "workflow qr_code needs an extra text with reference \"qr_code\"")
		}
	}

	upscalerCount := 0
	for i, p := range img.PostProcessing {
		f := fmt.Sprintf("post_processing[%d]", i)
		if !p.Known() {
			c.add(f, "unknown post-processor %q", p)
		}
		if slices.Index(img.PostProcessing, p) != i {
			c.add(f, "duplicate post-processor %q (items must be unique)", p)
		}
		if p.IsUpscaler() {
			upscalerCount++
		}
	}
	if upscalerCount > 1 {
		c.add("post_processing", "at most one upscaler, got %d", upscalerCount)
	}
	return c.vs.err()
}

// Validate checks the request options; image tells whether they belong to
// an image request (text requests reject the image-only options).
// The upstream rule "nsfw and censor_nsfw not both true" applies when both
// are set explicitly (decision: the server's effective defaults are both
// true, so an unset value says nothing).
func (o *RequestOptions) Validate(image bool) error {
	var c checker
	o.check(&c, image)
	return c.vs.err()
}

func (o *RequestOptions) check(c *checker, image bool) {
	if o.NSFW != nil && o.CensorNSFW != nil && *o.NSFW && *o.CensorNSFW {
		c.add("censor_nsfw", "cannot be true when nsfw is true")
	}
	if !image {
		for _, f := range []struct {
			name string
			set  bool
		}{{"nsfw", o.NSFW != nil}, {"censor_nsfw", o.CensorNSFW != nil}, {"r2", o.R2 != nil}, {"shared", o.Shared != nil}, {"replacement_filter", o.ReplacementFilter != nil}} {
			if f.set {
				c.add(f.name, "is an image-only option")
			}
		}
	}
	if o.Webhook != "" {
		c.strLen("webhook", o.Webhook, 10, 1024)
		if !strings.HasPrefix(o.Webhook, "https://") {
			c.add("webhook", "must start with https://")
		}
	}
	if o.Style != "" {
		c.strLen("style", o.Style, 3, 1024)
	}
}

// Validate checks t against every bound of the current API specification
// and the server's extra text rules (max_context_length not below
// max_length, a full sampler order, stop sequence limits).
func (t *Text) Validate() error {
	var c checker
	if t.Prompt == "" {
		c.add("prompt", "must not be empty")
	}
	c.intRange("n", t.N, 1, 20)
	c.intRange("max_context_length", t.MaxContextLength, 80, 1048576)
	c.intRange("max_length", t.MaxLength, 16, 4096)
	c.floatRange("temperature", t.Temperature, 0, 5)
	c.floatRange("dynatemp_exponent", t.DynamicTempExponent, 0, 5)
	c.floatRange("dynatemp_range", t.DynamicTempRange, 0, 5)
	c.floatRange("smoothing_factor", t.SmoothingFactor, 0, 10)
	c.floatRange("top_p", t.TopP, 0.001, 1)
	c.intRange("top_k", t.TopK, 0, 200)
	c.floatRange("top_a", t.TopA, 0, 1)
	c.floatRange("min_p", t.MinP, 0, 1)
	c.floatRange("typical", t.Typical, 0, 1)
	c.floatRange("tfs", t.TFS, 0, 1)
	c.floatRange("rep_pen", t.RepPen, 1, 3)
	c.intRange("rep_pen_range", t.RepPenRange, 0, 4096)
	c.floatRange("rep_pen_slope", t.RepPenSlope, 0, 10)
	if t.SoftPrompt != "" {
		c.strLen("softprompt", t.SoftPrompt, 1, 0)
	}
	ctx, length := 2048, 80
	if t.MaxContextLength != nil {
		ctx = *t.MaxContextLength
	}
	if t.MaxLength != nil {
		length = *t.MaxLength
	}
	if ctx < length {
		c.add("max_context_length", "must be at least max_length (%d), got %d", length, ctx)
	}
	if t.SamplerOrder != nil {
		distinct := map[int]struct{}{}
		for _, s := range t.SamplerOrder {
			distinct[s] = struct{}{}
		}
		if len(distinct) < MinSamplerOrderEntries {
			c.add("sampler_order", "must hold at least %d distinct samplers, got %d", MinSamplerOrderEntries, len(distinct))
		}
	}
	if len(t.StopSequences) > MaxStopSequences {
		c.add("stop_sequence", "at most %d sequences, got %d", MaxStopSequences, len(t.StopSequences))
	}
	total := 0
	for _, s := range t.StopSequences {
		total += len([]rune(s))
	}
	if total > MaxStopSequenceChars {
		c.add("stop_sequence", "at most %d characters in total, got %d", MaxStopSequenceChars, total)
	}
	return c.vs.err()
}

// Validate checks an alchemy request: a source image, at least one
// operation, known and unique forms the API accepts.
func (a *Alchemy) Validate() error {
	var c checker
	if a.Source.IsZero() {
		c.add("source_image", "is required")
	}
	c.imageData("source_image", a.Source)
	if len(a.Ops) == 0 {
		c.add("forms", "at least one form is required")
	}
	for i, op := range a.Ops {
		f := fmt.Sprintf("forms[%d].name", i)
		if !op.Form.InAPI() {
			c.add(f, "must be one of the API's alchemy forms, got %q", op.Form)
		}
		if slices.IndexFunc(a.Ops, func(o AlchemyOp) bool { return o.Form == op.Form }) != i {
			c.add(f, "duplicate form %q", op.Form)
		}
	}
	return c.vs.err()
}

// ValidateImageRequest validates an image and its request options together.
func ValidateImageRequest(img *Image, o *RequestOptions) error {
	var vs Violations
	if err := img.Validate(); err != nil {
		vs = append(vs, err.(Violations)...)
	}
	var c checker
	o.check(&c, true)
	vs = append(vs, c.vs...)
	return vs.err()
}

// ValidateTextRequest validates a text generation and its request options.
func ValidateTextRequest(t *Text, o *RequestOptions) error {
	var vs Violations
	if err := t.Validate(); err != nil {
		vs = append(vs, err.(Violations)...)
	}
	var c checker
	o.check(&c, false)
	vs = append(vs, c.vs...)
	return vs.err()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// DecodeBase64 decodes base64 image data as the Horde sends it: standard
// alphabet, with or without padding. Whitespace (line breaks) is ignored.
//
// Decision on an upstream quirk: Python's b64decode silently drops
// characters outside the alphabet; this decoder rejects them, so garbage
// is detected instead of producing a corrupt image. An empty string is
// not an image (upstream accepted it as b"").
func DecodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("empty base64 data")
	}
	if strings.ContainsAny(s, "\r\n\t ") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case '\r', '\n', '\t', ' ':
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimRight(s, "=")
	return base64.RawStdEncoding.DecodeString(s)
}

package hordetest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/horde-go/horde/gen"
)

// validateImageInput applies the schema limits of the image request model.
func validateImageInput(in *gen.GenerationInputStable, promptPresent bool) *apiError {
	if !promptPresent {
		return validationErr("prompt", "'prompt' is a required property")
	}
	if in.Prompt == "" {
		return validationErr("prompt", "'' is too short")
	}
	if in.Webhook != nil && (len(*in.Webhook) < 10 || len(*in.Webhook) > 1024) {
		return validationErr("webhook", strconv.Quote(*in.Webhook)+" is too short")
	}
	if in.Style != nil && (len(*in.Style) < 3 || len(*in.Style) > 1024) {
		return validationErr("style", strconv.Quote(*in.Style)+" is too short")
	}
	if in.SourceProcessing != nil {
		switch *in.SourceProcessing {
		case "img2img", "inpainting", "outpainting", "remix":
		default:
			return validationErr("source_processing", fmt.Sprintf("'%s' is not one of ['img2img', 'inpainting', 'outpainting', 'remix']", *in.SourceProcessing))
		}
	}
	if in.Params == nil {
		return nil
	}
	return validateStableParamsSchema(in.Params)
}

// validateStableParamsSchema applies the schema limits of image params (requests and styles).
func validateStableParamsSchema(p *gen.ModelGenerationInputStable) *apiError {
	for _, d := range []struct {
		name string
		v    *int
	}{{"width", p.Width}, {"height", p.Height}} {
		if d.v == nil {
			continue
		}
		if e := intRange("params."+d.name, *d.v, 64, 3072); e != nil {
			return e
		}
		if *d.v%64 != 0 {
			return validationErr("params."+d.name, fmt.Sprintf("%d is not a multiple of 64", *d.v))
		}
	}
	checks := []struct {
		name     string
		v        *int
		min, max int
	}{{"steps", p.Steps, 1, 500}, {"n", p.N, 1, 20}, {"clip_skip", p.ClipSkip, 1, 12}, {"seed_variation", p.SeedVariation, 1, 1000}}
	for _, c := range checks {
		if e := optRange("params."+c.name, c.v, c.min, c.max); e != nil {
			return e
		}
	}
	if p.CFGScale != nil && (*p.CFGScale < 0 || *p.CFGScale > 100) {
		return validationErr("params.cfg_scale", fmt.Sprintf("%v is out of range 0..100", *p.CFGScale))
	}
	if p.DenoisingStrength != nil && (*p.DenoisingStrength < 0.01 || *p.DenoisingStrength > 1) {
		return validationErr("params.denoising_strength", fmt.Sprintf("%v is out of range 0.01..1", *p.DenoisingStrength))
	}
	if p.SamplerName != nil {
		ok := false
		for _, n := range samplerNames {
			ok = ok || string(*p.SamplerName) == n
		}
		if !ok {
			return validationErr("params.sampler_name", fmt.Sprintf("'%s' is not one of %s", *p.SamplerName, pyList(samplerNames)))
		}
	}
	seen := map[gen.PostProcessor]bool{}
	for _, pp := range p.PostProcessing {
		if seen[pp] {
			return validationErr("params.post_processing", "has non-unique elements")
		}
		seen[pp] = true
	}
	for i, l := range p.Loras {
		if l.Model != nil && (*l.Model < -5 || *l.Model > 5) {
			return validationErr(fmt.Sprintf("params.loras.%d.model", i), fmt.Sprintf("%v is out of range -5..5", *l.Model))
		}
		if l.Clip != nil && (*l.Clip < -5 || *l.Clip > 5) {
			return validationErr(fmt.Sprintf("params.loras.%d.clip", i), fmt.Sprintf("%v is out of range -5..5", *l.Clip))
		}
	}
	return nil
}

// validateImageParams applies the server's parameter rules (ParamValidator) to a request.
func (s *Server) validateImageParams(prompt string, models []string, p *gen.ModelGenerationInputStable) *apiError {
	bad := func(rc, msg string) *apiError { return herr(http.StatusBadRequest, rc, msg) }
	if deref(p.HiresFix, false) && s.heavyModel(models) {
		return bad("HiResMismatch", "hires_fix is not available for this model.")
	}
	if len(p.Loras) > 5 {
		return bad("TooManyLoras", "You cannot request more than 5 loras per generation.")
	}
	for _, l := range p.Loras {
		if deref(l.IsVersion, false) {
			if _, err := strconv.Atoi(l.Name); err != nil {
				return bad("BadLoraVersion", "A lora version must be sent as the version id.")
			}
		}
	}
	if len(p.Tis) > 20 {
		return bad("TooManyTIs", "You cannot request more than 20 Textual Inversions per generation.")
	}
	if len(strings.Fields(prompt)) > 7500 {
		return bad("InvalidPromptSize", "The prompt is too long (more than 7500 words).")
	}
	for _, m := range models {
		if isPostProcessor(m) {
			return bad("UnexpectedModelName", "A post-processor is not a model.")
		}
	}
	ups := 0
	for _, pp := range p.PostProcessing {
		if isUpscaler(pp) {
			ups++
		}
	}
	if ups > 1 {
		return bad("TooManyUpscalers", "Only one upscaler per request.")
	}
	if p.CFGScale != nil && math.Abs(*p.CFGScale*100-math.Round(*p.CFGScale*100)) > 1e-6 {
		return bad("BadCFGDecimals", "cfg_scale must have at most 2 decimals.")
	}
	return nil
}

// validateImageWorkflow applies the image endpoint's own checks, in the server's order.
func (s *Server) validateImageWorkflow(in *gen.GenerationInputStable, models []string, p *gen.ModelGenerationInputStable, src, proc, ctype string) *apiError {
	bad := func(rc, msg string) *apiError { return herr(http.StatusBadRequest, rc, msg) }
	if p.Special != nil && len(*p.Special) > 0 {
		return bad("BadRequest", "The special field is reserved for special users.")
	}
	if in.SourceMask != nil && src == "" {
		return bad("SourceMaskUnnecessary", "A source_mask needs a source_image.")
	}
	if ctype != "" {
		for _, m := range models {
			if m == "pix2pix" {
				return bad("ControlNetUnsupported", "ControlNet cannot be used with this model.")
			}
		}
		if src == "" {
			return bad("ControlNetSourceMissing", "ControlNet needs a source image.")
		}
		if proc == "inpainting" {
			return bad("ControlNetInpaintingMismatch", "ControlNet does not work with inpainting.")
		}
		for _, m := range models {
			if s.modelBaseline(m) > 1 {
				return bad("ControlNetMismatch", "ControlNet does not work with this model family.")
			}
		}
	}
	if deref(p.Transparent, false) {
		if len(in.ExtraSourceImages) > 0 {
			return bad("InvalidTransparencyImg2Img", "Transparent images cannot use extra source images.")
		}
		if ctype != "" {
			return bad("InvalidTransparencyCN", "Transparent images cannot use ControlNet.")
		}
	}
	if proc == "remix" {
		for _, m := range models {
			if !strings.Contains(strings.ToLower(m), "cascade") {
				return bad("InvalidRemix", "Remix needs a Stable Cascade model.")
			}
		}
	}
	if len(in.ExtraSourceImages) > 0 && proc != "remix" {
		return bad("InvalidExtraSourceImages.", "Extra source images are only accepted with remix.")
	}
	qr := p.Workflow != nil && *p.Workflow == "qr_code"
	if len(p.ExtraTexts) > 0 && !qr {
		return bad("InvalidExtraTexts.", "Extra texts are only accepted by the qr_code workflow.")
	}
	if qr {
		found := false
		for _, t := range p.ExtraTexts {
			found = found || deref(t.Reference, "") == "qr_code"
		}
		if !found {
			return bad("MissingExtraTexts.", "The qr_code workflow needs an extra text with reference qr_code.")
		}
	}
	if src == "" {
		for _, m := range models {
			if m == "Stable Diffusion 2 Depth" || m == "pix2pix" {
				return bad("SourceImageRequiredForModel", "This model needs a source image.")
			}
		}
	}
	return nil
}

// noWorkerMessage says that no active worker can serve a request (simulator wording).
const noWorkerMessage = "Warning: no active worker can serve this request right now; it expires 20 minutes after its last activity unless one appears. A smaller size or another model may help."

var warningText = map[string]string{
	"NoAvailableWorker": noWorkerMessage,
	"ClipSkipMismatch":  "clip_skip differs from what a requested model requires.",
	"StepsTooFew":       "steps are below the minimum of a requested model.",
	"StepsTooMany":      "steps are above the maximum of a requested model.",
	"CfgScaleMismatch":  "cfg_scale differs from what a requested model requires.",
	"CfgScaleTooSmall":  "cfg_scale is below the minimum of a requested model.",
	"CfgScaleTooLarge":  "cfg_scale is above the maximum of a requested model.",
	"SamplerMismatch":   "sampler_name is not among the samplers a requested model supports.",
	"SchedulerMismatch": "the scheduler (karras or simple) is not among those a requested model supports.",
}

func warning(code string) gen.RequestSingleWarning {
	return gen.RequestSingleWarning{Code: ptr(gen.WarningCode(code)), Message: ptr(warningText[code])}
}

// imageWarnings compares the request's params with the requirements registered for its
// models (WithModelRequirements), with the defaults the server uses for the comparison.
func (s *Server) imageWarnings(models []string, p *gen.ModelGenerationInputStable) []gen.RequestSingleWarning {
	found := map[string]bool{}
	clip, steps, cfg := deref(p.ClipSkip, 1), deref(p.Steps, 30), deref(p.CFGScale, 7.5)
	sampler := string(deref(p.SamplerName, gen.SamplerName("k_euler_a")))
	scheduler := "karras"
	if !deref(p.Karras, true) {
		scheduler = "simple"
	}
	for _, m := range models {
		rq, ok := s.requirementsOf(m)
		if !ok {
			continue
		}
		found["ClipSkipMismatch"] = found["ClipSkipMismatch"] || rq.ClipSkip != nil && *rq.ClipSkip != clip
		found["StepsTooFew"] = found["StepsTooFew"] || rq.MinSteps != nil && *rq.MinSteps > steps
		found["StepsTooMany"] = found["StepsTooMany"] || rq.MaxSteps != nil && *rq.MaxSteps < steps
		found["CfgScaleMismatch"] = found["CfgScaleMismatch"] || rq.CfgScale != nil && *rq.CfgScale != cfg
		found["CfgScaleTooSmall"] = found["CfgScaleTooSmall"] || rq.MinCfgScale != nil && *rq.MinCfgScale > cfg
		found["CfgScaleTooLarge"] = found["CfgScaleTooLarge"] || rq.MaxCfgScale != nil && *rq.MaxCfgScale < cfg
		found["SamplerMismatch"] = found["SamplerMismatch"] || rq.Samplers != nil && !contains(rq.Samplers, sampler)
		found["SchedulerMismatch"] = found["SchedulerMismatch"] || rq.Schedulers != nil && !contains(rq.Schedulers, scheduler)
	}
	var out []gen.RequestSingleWarning
	for _, code := range []string{"ClipSkipMismatch", "StepsTooFew", "StepsTooMany", "CfgScaleMismatch",
		"CfgScaleTooSmall", "CfgScaleTooLarge", "SamplerMismatch", "SchedulerMismatch"} {
		if found[code] {
			out = append(out, warning(code))
		}
	}
	return out
}

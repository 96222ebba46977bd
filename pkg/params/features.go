package params

import (
	"fmt"
	"slices"
)

// GenerationFeatureFlags describes what one job needs from a worker.
// Derive it with [Image.FeatureFlags], [Text.FeatureFlags] or
// [Alchemy.FeatureFlags].
type GenerationFeatureFlags struct {
	// Kind is "image", "text" or "alchemy".
	Kind string
	// Baseline is the model's baseline ("" when unknown).
	Baseline Baseline
	// Sampler is the requested sampler ("" = default).
	Sampler Sampler
	// Scheduler is the requested scheduler.
	Scheduler Scheduler
	// SourceProcessing is the effective mode.
	SourceProcessing SourceProcessing
	ClipSkip         bool // a clip skip other than 1 (none skipped)
	// Tiling is requested.
	Tiling bool
	// Transparent (Layer Diffuse) is requested.
	Transparent bool
	// HiresFix is requested.
	HiresFix bool
	// LoRAs are used.
	LoRAs bool
	// TIs are used.
	TIs bool
	// ControlType is the requested ControlNet type, "" for none.
	ControlType ControlType
	// ImageIsControl: a ready control map is given.
	ImageIsControl bool
	// ReturnControlMap: the control map is the result.
	ReturnControlMap bool
	// ExtraSourceImages is the number of remix images.
	ExtraSourceImages int
	// ExtraTexts are passed to a workflow.
	ExtraTexts bool
	// Workflow is the custom workflow, "" for none.
	Workflow Workflow
	// PostProcessors in order (image post-processing).
	PostProcessors []PostProcessor
	// AlchemyForms are the forms of an alchemy job.
	AlchemyForms []AlchemyForm
	// Pixels is width × height of an image job (server defaults applied).
	Pixels int
	// MaxLength and MaxContextLength are the token counts of a text job
	// (server defaults applied).
	MaxLength        int
	MaxContextLength int
}

// FeatureFlags returns what img needs from a worker.
//
// Decisions on upstream quirks: post-processors are listed by name (upstream
// listed forms such as "post_process" and only when a private cache was
// filled); LoRAs and TIs are booleans (upstream put entry names in a list
// meant for sources); ImageIsControl is true when a control map is given
// (upstream inverted it); clip skip, extra texts and extra source images
// are set (upstream never set them).
func (img *Image) FeatureFlags() GenerationFeatureFlags {
	f := GenerationFeatureFlags{
		Kind:              "image",
		Baseline:          img.Baseline,
		Sampler:           img.Sampler,
		Scheduler:         img.Scheduler,
		SourceProcessing:  img.EffectiveSourceProcessing(),
		ClipSkip:          img.ClipSkip != nil && *img.ClipSkip > 1,
		Tiling:            img.Tiling != nil && *img.Tiling,
		Transparent:       img.Transparent != nil && *img.Transparent,
		HiresFix:          img.HiresFix != nil,
		LoRAs:             len(img.LoRAs) > 0,
		TIs:               len(img.TIs) > 0,
		ExtraSourceImages: len(img.Remix),
		PostProcessors:    slices.Clone(img.PostProcessing),
	}
	w, h := img.size()
	f.Pixels = w * h
	if cn := img.ControlNet; cn != nil {
		f.ControlType = cn.Type
		f.ImageIsControl = cn.ControlMap != nil && !cn.ControlMap.IsZero()
		f.ReturnControlMap = cn.ReturnControlMap
	}
	if w := img.Workflow; w != nil {
		f.Workflow = w.Name
		f.ExtraTexts = len(w.ExtraTexts) > 0
	}
	return f
}

// FeatureFlags returns what t needs from a worker: its token counts (the
// model is matched by the server).
func (t *Text) FeatureFlags() GenerationFeatureFlags {
	f := GenerationFeatureFlags{Kind: "text", MaxLength: 80, MaxContextLength: 2048}
	if t.MaxLength != nil {
		f.MaxLength = *t.MaxLength
	}
	if t.MaxContextLength != nil {
		f.MaxContextLength = *t.MaxContextLength
	}
	return f
}

// FeatureFlags returns what a needs from a worker: its forms.
func (a *Alchemy) FeatureFlags() GenerationFeatureFlags {
	f := GenerationFeatureFlags{Kind: "alchemy"}
	for _, op := range a.Ops {
		f.AlchemyForms = append(f.AlchemyForms, op.Form)
	}
	return f
}

// WorkerFeatureFlags describes what a worker offers. Empty lists mean
// "none" except Baselines, Samplers and Schedulers, where an empty list
// means "any" (a worker rarely enumerates them).
type WorkerFeatureFlags struct {
	Kinds []string // "image", "text", "alchemy"; empty = any
	// Baselines offered; empty = any.
	Baselines []Baseline
	// Samplers offered; empty = any.
	Samplers []Sampler
	// Schedulers offered; empty = any.
	Schedulers       []Scheduler
	SourceProcessing []SourceProcessing // txt2img is always supported
	// ClipSkip: clip skip above 1 is supported.
	ClipSkip bool
	// Tiling is supported.
	Tiling bool
	// Transparent (Layer Diffuse) is supported.
	Transparent bool
	// HiresFix is supported.
	HiresFix bool
	// LoRAs are supported.
	LoRAs bool
	// TIs are supported.
	TIs bool
	// ControlTypes offered; empty = no ControlNet.
	ControlTypes []ControlType
	// ImageIsControl: ready control maps are accepted.
	ImageIsControl bool
	// ReturnControlMap: control maps can be returned.
	ReturnControlMap bool
	// MaxExtraSourceImages is how many remix images the worker takes.
	MaxExtraSourceImages int
	// ExtraTexts are supported.
	ExtraTexts bool
	// Workflows offered.
	Workflows []Workflow
	// PostProcessors offered.
	PostProcessors []PostProcessor
	// AlchemyForms offered.
	AlchemyForms []AlchemyForm
	// MaxPixels is the largest width × height the worker renders; 0 = no limit.
	MaxPixels int
	// MaxLength and MaxContextLength are a text worker's token limits;
	// 0 = no limit.
	MaxLength        int
	MaxContextLength int
}

// Reason is one reason a worker cannot run a job.
type Reason struct {
	// Feature names the feature (the API field name where there is one).
	Feature string
	// Detail says what is missing.
	Detail string
}

// String formats the reason as "feature: detail".
func (r Reason) String() string { return r.Feature + ": " + r.Detail }

// Supports reports whether the worker can run a job needing f. When it
// cannot, it returns every reason, in a fixed order: kind, baseline,
// size (max_pixels), max_length, max_context_length, sampler, scheduler, source processing, clip skip, tiling, transparent,
// hires fix, LoRAs, TIs, ControlNet (type, control map, returned map),
// extra source images, extra texts, workflow, post-processors, alchemy
// forms. Unlike upstream, post-processing, source processing, workflows
// and ControlNet types are checked.
func (w *WorkerFeatureFlags) Supports(f GenerationFeatureFlags) (bool, []Reason) {
	var rs []Reason
	no := func(feature, format string, args ...any) {
		rs = append(rs, Reason{Feature: feature, Detail: fmt.Sprintf(format, args...)})
	}
	if len(w.Kinds) > 0 && f.Kind != "" && !slices.Contains(w.Kinds, f.Kind) {
		no("kind", "worker does not run %s jobs", f.Kind)
	}
	if f.Baseline != "" && f.Baseline != BaselineInfer && len(w.Baselines) > 0 && !slices.Contains(w.Baselines, f.Baseline) {
		no("baseline", "baseline %q not offered", f.Baseline)
	}
	if w.MaxPixels > 0 && f.Pixels > w.MaxPixels {
		no("max_pixels", "%d pixels needed, worker renders at most %d", f.Pixels, w.MaxPixels)
	}
	if w.MaxLength > 0 && f.MaxLength > w.MaxLength {
		no("max_length", "%d tokens needed, worker generates at most %d", f.MaxLength, w.MaxLength)
	}
	if w.MaxContextLength > 0 && f.MaxContextLength > w.MaxContextLength {
		no("max_context_length", "%d tokens of context needed, worker takes at most %d", f.MaxContextLength, w.MaxContextLength)
	}
	if f.Sampler != "" && len(w.Samplers) > 0 && !slices.Contains(w.Samplers, f.Sampler) {
		no("sampler_name", "sampler %q not offered", f.Sampler)
	}
	if f.Scheduler != "" && len(w.Schedulers) > 0 && !slices.Contains(w.Schedulers, f.Scheduler) {
		no("scheduler", "scheduler %q not offered", f.Scheduler)
	}
	if sp := f.SourceProcessing; sp != "" && sp != SourceTxt2Img && !slices.Contains(w.SourceProcessing, sp) &&
		!(sp == SourceOutpainting && slices.Contains(w.SourceProcessing, SourceInpainting)) {
		no("source_processing", "%s not offered", sp)
	}
	flag := func(need, have bool, feature string) {
		if need && !have {
			no(feature, "not offered")
		}
	}
	flag(f.ClipSkip, w.ClipSkip, "clip_skip")
	flag(f.Tiling, w.Tiling, "tiling")
	flag(f.Transparent, w.Transparent, "transparent")
	flag(f.HiresFix, w.HiresFix, "hires_fix")
	flag(f.LoRAs, w.LoRAs, "loras")
	flag(f.TIs, w.TIs, "tis")
	if f.ControlType != "" && !slices.Contains(w.ControlTypes, f.ControlType) {
		no("control_type", "control type %q not offered", f.ControlType)
	}
	flag(f.ImageIsControl, w.ImageIsControl, "image_is_control")
	flag(f.ReturnControlMap, w.ReturnControlMap, "return_control_map")
	if f.ExtraSourceImages > w.MaxExtraSourceImages {
		no("extra_source_images", "%d needed, worker takes %d", f.ExtraSourceImages, w.MaxExtraSourceImages)
	}
	flag(f.ExtraTexts, w.ExtraTexts, "extra_texts")
	if f.Workflow != "" && !slices.Contains(w.Workflows, f.Workflow) {
		no("workflow", "workflow %q not offered", f.Workflow)
	}
	for _, p := range f.PostProcessors {
		if !slices.Contains(w.PostProcessors, p) {
			no("post_processing", "post-processor %q not offered", p)
		}
	}
	for _, a := range f.AlchemyForms {
		if !slices.Contains(w.AlchemyForms, a) {
			no("forms", "alchemy form %q not offered", a)
		}
	}
	return len(rs) == 0, rs
}

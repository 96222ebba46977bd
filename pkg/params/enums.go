package params

import "slices"

// Sampler is an image sampler name as the AI Horde API spells it.
type Sampler string

// Samplers accepted by the AI Horde API (enum SamplerName).
const (
	SamplerKLMS         Sampler = "k_lms"
	SamplerKHeun        Sampler = "k_heun"
	SamplerKEuler       Sampler = "k_euler"
	SamplerKEulerA      Sampler = "k_euler_a"
	SamplerKDPM2        Sampler = "k_dpm_2"
	SamplerKDPM2A       Sampler = "k_dpm_2_a"
	SamplerKDPMFast     Sampler = "k_dpm_fast"
	SamplerKDPMAdaptive Sampler = "k_dpm_adaptive"
	SamplerKDPMPP2SA    Sampler = "k_dpmpp_2s_a"
	SamplerKDPMPP2M     Sampler = "k_dpmpp_2m"
	SamplerDPMSolver    Sampler = "dpmsolver"
	SamplerKDPMPPSDE    Sampler = "k_dpmpp_sde"
	SamplerLCM          Sampler = "lcm"
	SamplerDDIM         Sampler = "DDIM"
)

var knownSamplers = [...]Sampler{
	SamplerKLMS, SamplerKHeun, SamplerKEuler, SamplerKEulerA, SamplerKDPM2,
	SamplerKDPM2A, SamplerKDPMFast, SamplerKDPMAdaptive, SamplerKDPMPP2SA,
	SamplerKDPMPP2M, SamplerDPMSolver, SamplerKDPMPPSDE, SamplerLCM, SamplerDDIM,
}

// Samplers returns every sampler the API accepts, in a fresh slice.
func Samplers() []Sampler { return slices.Clone(knownSamplers[:]) }

// Known reports whether s is one of [Samplers].
func (s Sampler) Known() bool { return slices.Contains(knownSamplers[:], s) }

// Scheduler is a noise scheduler. The AI Horde API can only express
// karras (karras: true) and normal (karras: false); the other schedulers
// are known to the Python SDK and to backends, and are usable locally.
type Scheduler string

// Schedulers known to horde_sdk.
const (
	SchedulerNormal          Scheduler = "normal"
	SchedulerKarras          Scheduler = "karras"
	SchedulerExponential     Scheduler = "exponential"
	SchedulerSGMUniform      Scheduler = "sgm_uniform"
	SchedulerSimple          Scheduler = "simple"
	SchedulerDDIMUniform     Scheduler = "ddim_uniform"
	SchedulerBeta            Scheduler = "beta"
	SchedulerLinearQuadratic Scheduler = "linear_quadratic"
	SchedulerKLOptimal       Scheduler = "kl_optimal"
)

var knownSchedulers = [...]Scheduler{
	SchedulerNormal, SchedulerKarras, SchedulerExponential, SchedulerSGMUniform,
	SchedulerSimple, SchedulerDDIMUniform, SchedulerBeta, SchedulerLinearQuadratic,
	SchedulerKLOptimal,
}

// Schedulers returns every known scheduler, in a fresh slice.
func Schedulers() []Scheduler { return slices.Clone(knownSchedulers[:]) }

// Known reports whether s is one of [Schedulers].
func (s Scheduler) Known() bool { return slices.Contains(knownSchedulers[:], s) }

// InAPI reports whether the AI Horde API can carry s (karras or normal).
func (s Scheduler) InAPI() bool { return s == SchedulerKarras || s == SchedulerNormal }

// ControlType is a ControlNet preprocessor / annotator.
type ControlType string

// Control types accepted by the AI Horde API (enum ControlType).
const (
	ControlCanny         ControlType = "canny"
	ControlHED           ControlType = "hed"
	ControlDepth         ControlType = "depth"
	ControlNormal        ControlType = "normal"
	ControlOpenpose      ControlType = "openpose"
	ControlSeg           ControlType = "seg"
	ControlScribble      ControlType = "scribble"
	ControlFakeScribbles ControlType = "fakescribbles"
	// ControlHough is the legacy name of ControlMLSD.
	ControlHough ControlType = "hough"
)

// Control types that horde_sdk knows as annotators but that the current API
// does not accept in a generation request.
const (
	ControlMLSD                ControlType = "mlsd"
	ControlBinary              ControlType = "binary"
	ControlStandardLineart     ControlType = "standard_lineart"
	ControlLineart             ControlType = "lineart"
	ControlLineartAnime        ControlType = "lineart_anime"
	ControlLineartAnimeDenoise ControlType = "lineart_anime_denoise"
	ControlPidinet             ControlType = "pidinet"
	ControlScribbleXDoG        ControlType = "scribble_xdog"
	ControlScribblePidinet     ControlType = "scribble_pidinet"
	ControlTEED                ControlType = "teed"
	ControlPyraCanny           ControlType = "pyracanny"
	ControlMidasDepth          ControlType = "midas_depth"
	ControlZoeDepth            ControlType = "zoe_depth"
	ControlDepthAnything       ControlType = "depth_anything"
	ControlDepthAnythingV2     ControlType = "depth_anything_v2"
	ControlNormalBAE           ControlType = "normal_bae"
	ControlOneformerADE20K     ControlType = "oneformer_ade20k"
	ControlOneformerCOCO       ControlType = "oneformer_coco"
	ControlColor               ControlType = "color"
	ControlShuffle             ControlType = "shuffle"
	ControlRecolorLuminance    ControlType = "recolor_luminance"
	ControlRecolorIntensity    ControlType = "recolor_intensity"
	ControlTile                ControlType = "tile"
	ControlTileTTPlanetGuided  ControlType = "tile_ttplanet_guided"
	ControlTileTTPlanetSimple  ControlType = "tile_ttplanet_simple"
)

var apiControlTypes = [...]ControlType{
	ControlCanny, ControlHED, ControlDepth, ControlNormal, ControlOpenpose,
	ControlSeg, ControlScribble, ControlFakeScribbles, ControlHough,
}

var extraControlTypes = [...]ControlType{
	ControlMLSD, ControlBinary, ControlStandardLineart, ControlLineart,
	ControlLineartAnime, ControlLineartAnimeDenoise, ControlPidinet,
	ControlScribbleXDoG, ControlScribblePidinet, ControlTEED, ControlPyraCanny,
	ControlMidasDepth, ControlZoeDepth, ControlDepthAnything, ControlDepthAnythingV2,
	ControlNormalBAE, ControlOneformerADE20K, ControlOneformerCOCO, ControlColor,
	ControlShuffle, ControlRecolorLuminance, ControlRecolorIntensity, ControlTile,
	ControlTileTTPlanetGuided, ControlTileTTPlanetSimple,
}

// ControlTypes returns the control types the API accepts, in a fresh slice.
func ControlTypes() []ControlType { return slices.Clone(apiControlTypes[:]) }

// AllControlTypes returns every known control type: the API ones followed by
// the annotators known to horde_sdk (34 values).
func AllControlTypes() []ControlType {
	return slices.Concat(apiControlTypes[:], extraControlTypes[:])
}

// InAPI reports whether the API accepts c in a generation request.
func (c ControlType) InAPI() bool { return slices.Contains(apiControlTypes[:], c) }

// Known reports whether c is one of [AllControlTypes].
func (c ControlType) Known() bool {
	return c.InAPI() || slices.Contains(extraControlTypes[:], c)
}

// SourceProcessing says how a source image is used.
//
// Decision on an upstream quirk: horde_sdk makes outpainting an alias of
// inpainting, so the distinction is lost on a round trip. Here outpainting
// is its own value, as in the API; a worker offering inpainting is taken to
// support outpainting too (see [WorkerFeatureFlags.Supports]).
type SourceProcessing string

// Source processing modes. SourceTxt2Img is never sent: the API expresses it
// by the absence of a source image.
const (
	SourceTxt2Img     SourceProcessing = "txt2img"
	SourceImg2Img     SourceProcessing = "img2img"
	SourceInpainting  SourceProcessing = "inpainting"
	SourceOutpainting SourceProcessing = "outpainting"
	SourceRemix       SourceProcessing = "remix"
)

var apiSourceProcessing = [...]SourceProcessing{SourceImg2Img, SourceInpainting, SourceOutpainting, SourceRemix}

// SourceProcessings returns the modes the API accepts (txt2img excluded).
func SourceProcessings() []SourceProcessing { return slices.Clone(apiSourceProcessing[:]) }

// Known reports whether s is txt2img or one of [SourceProcessings].
func (s SourceProcessing) Known() bool {
	return s == SourceTxt2Img || slices.Contains(apiSourceProcessing[:], s)
}

// NeedsSourceImage reports whether s cannot run without a source image.
func (s SourceProcessing) NeedsSourceImage() bool {
	return s == SourceImg2Img || s == SourceInpainting || s == SourceOutpainting || s == SourceRemix
}

// PostProcessor is an image post-processor: an upscaler, a face fixer or
// another operation such as background stripping.
type PostProcessor string

// Post-processors accepted by the API (enum PostProcessor).
const (
	PPRealESRGANX4Plus          PostProcessor = "RealESRGAN_x4plus"
	PPRealESRGANX2Plus          PostProcessor = "RealESRGAN_x2plus"
	PPRealESRGANX4PlusAnime6B   PostProcessor = "RealESRGAN_x4plus_anime_6B"
	PPNMKDSiax                  PostProcessor = "NMKD_Siax"
	PP4xAnimeSharp              PostProcessor = "4x_AnimeSharp"
	PP4xNomos8kSC               PostProcessor = "4xNomos8kSC"
	PP4xLSDIRplus               PostProcessor = "4xLSDIRplus"
	PP4xNomosWebPhotoRealPLKSR  PostProcessor = "4xNomosWebPhoto_RealPLKSR"
	PP4xNomos2RealplksrDysample PostProcessor = "4xNomos2_realplksr_dysample"
	PP4xNomos2HqDat2            PostProcessor = "4xNomos2_hq_dat2"
	PP2xModernSpanimationV1     PostProcessor = "2xModernSpanimationV1"
	PPGFPGAN                    PostProcessor = "GFPGAN"
	PPCodeFormers               PostProcessor = "CodeFormers"
	PPGFPGANv13                 PostProcessor = "GFPGANv1.3"
	PPRestoreFormer             PostProcessor = "RestoreFormer"
	PPStripBackground           PostProcessor = "strip_background"
)

var upscalers = [...]PostProcessor{
	PPRealESRGANX4Plus, PPRealESRGANX2Plus, PPRealESRGANX4PlusAnime6B, PPNMKDSiax,
	PP4xAnimeSharp, PP4xNomos8kSC, PP4xLSDIRplus, PP4xNomosWebPhotoRealPLKSR,
	PP4xNomos2RealplksrDysample, PP4xNomos2HqDat2, PP2xModernSpanimationV1,
}

var faceFixers = [...]PostProcessor{PPGFPGAN, PPCodeFormers, PPGFPGANv13, PPRestoreFormer}

// PostProcessors returns every post-processor the API accepts: upscalers,
// then face fixers, then strip_background.
func PostProcessors() []PostProcessor {
	return slices.Concat(upscalers[:], faceFixers[:], []PostProcessor{PPStripBackground})
}

// IsUpscaler reports whether p is a known upscaler.
func (p PostProcessor) IsUpscaler() bool { return slices.Contains(upscalers[:], p) }

// IsFaceFixer reports whether p is a known face fixer.
func (p PostProcessor) IsFaceFixer() bool { return slices.Contains(faceFixers[:], p) }

// Known reports whether p is one of [PostProcessors].
func (p PostProcessor) Known() bool {
	return p.IsUpscaler() || p.IsFaceFixer() || p == PPStripBackground
}

// AlchemyForm is an alchemy (interrogation) form name.
type AlchemyForm string

// Alchemy forms of the API (enum InterrogationFormName) besides the
// post-processors, which are forms too (AlchemyForm(PPGFPGAN) and so on).
const (
	FormCaption       AlchemyForm = "caption"
	FormInterrogation AlchemyForm = "interrogation"
	FormNSFW          AlchemyForm = "nsfw"
	FormVectorize     AlchemyForm = "vectorize"
	FormPalette       AlchemyForm = "palette"
	FormDescribe      AlchemyForm = "describe"
	FormAesthetic     AlchemyForm = "aesthetic"
	// FormAnnotation is known to horde_sdk (a control map parameterised by a
	// control type) but absent from the current API: requests reject it.
	FormAnnotation AlchemyForm = "annotation"
)

var nonPPForms = [...]AlchemyForm{
	FormCaption, FormInterrogation, FormNSFW, FormVectorize, FormPalette, FormDescribe, FormAesthetic,
}

// AlchemyForms returns every form the API accepts: the analysis forms, then
// every post-processor.
func AlchemyForms() []AlchemyForm {
	out := slices.Clone(nonPPForms[:])
	for _, p := range PostProcessors() {
		out = append(out, AlchemyForm(p))
	}
	return out
}

// InAPI reports whether the API accepts f.
func (f AlchemyForm) InAPI() bool {
	return slices.Contains(nonPPForms[:], f) || PostProcessor(f).Known()
}

// Known reports whether f is one of [AlchemyForms] or FormAnnotation.
func (f AlchemyForm) Known() bool { return f == FormAnnotation || f.InAPI() }

// PostProcessor returns f as a post-processor and whether it is one.
func (f AlchemyForm) PostProcessor() (PostProcessor, bool) {
	p := PostProcessor(f)
	return p, p.Known()
}

// ReturnsImage reports whether the result of f is an image (uploaded to R2),
// as opposed to a text/JSON result.
func (f AlchemyForm) ReturnsImage() bool {
	_, ok := f.PostProcessor()
	return ok || f == FormAnnotation
}

// Baseline is the model family of an image model.
type Baseline string

// Baselines known to horde_sdk's model reference (7.4.0 and newer).
// BaselineInfer means "unknown, infer from the model".
const (
	BaselineInfer       Baseline = "infer"
	BaselineSD1         Baseline = "stable_diffusion_1"
	BaselineSD2_768     Baseline = "stable_diffusion_2_768"
	BaselineSD2_512     Baseline = "stable_diffusion_2_512"
	BaselineSDXL        Baseline = "stable_diffusion_xl"
	BaselineCascade     Baseline = "stable_cascade"
	BaselineFlux1       Baseline = "flux_1"
	BaselineFluxSchnell Baseline = "flux_schnell"
	BaselineFluxDev     Baseline = "flux_dev"
	BaselineQwenImage   Baseline = "qwen_image"
	BaselineZImageTurbo Baseline = "z_image_turbo"
)

var knownBaselines = [...]Baseline{
	BaselineInfer, BaselineSD1, BaselineSD2_768, BaselineSD2_512, BaselineSDXL,
	BaselineCascade, BaselineFlux1, BaselineFluxSchnell, BaselineFluxDev,
	BaselineQwenImage, BaselineZImageTurbo,
}

// Baselines returns every known baseline, in a fresh slice.
func Baselines() []Baseline { return slices.Clone(knownBaselines[:]) }

// Known reports whether b is one of [Baselines].
func (b Baseline) Known() bool { return slices.Contains(knownBaselines[:], b) }

// ParseBaseline maps a baseline as the image model reference writes it to a
// Baseline. The legacy reference (the file the Horde serves today) spells
// "stable diffusion 1" and "stable diffusion 2" with spaces; the first maps
// to BaselineSD1 and the second, which covers both SD2 variants, to
// BaselineSD2_768 (the reference's SD2 models are the 768-v ones; decision).
// Unknown strings are kept as they are.
func ParseBaseline(s string) Baseline {
	switch s {
	case "stable diffusion 1", "stable_diffusion_1", "stable_diffusion":
		return BaselineSD1
	case "stable diffusion 2", "stable_diffusion_2":
		return BaselineSD2_768
	case "stable diffusion 2 512":
		return BaselineSD2_512
	}
	return Baseline(s)
}

// NativeResolution returns the side in pixels the baseline was trained at,
// or 0 when unknown (then formulas treat the baseline as absent).
func (b Baseline) NativeResolution() int {
	switch b {
	case BaselineSD1, BaselineSD2_512:
		return 512
	case BaselineSD2_768:
		return 768
	case BaselineSDXL, BaselineCascade, BaselineFlux1, BaselineFluxSchnell, BaselineFluxDev:
		return 1024
	}
	return 0
}

// IsFlux reports whether b is one of the Flux baselines.
func (b Baseline) IsFlux() bool {
	return b == BaselineFlux1 || b == BaselineFluxSchnell || b == BaselineFluxDev
}

// TIInject says where a textual inversion's trigger is injected.
type TIInject string

// TI injection choices of the API (enum TIInjection). TIInjectNone ("") is
// the absence of inject_ti.
const (
	TIInjectNone     TIInject = ""
	TIInjectPositive TIInject = "prompt"
	TIInjectNegative TIInject = "negprompt"
)

// Known reports whether t is none, prompt or negprompt.
func (t TIInject) Known() bool {
	return t == TIInjectNone || t == TIInjectPositive || t == TIInjectNegative
}

// Workflow is a custom image workflow.
type Workflow string

// Workflows accepted by the API (enum Workflow).
const WorkflowQRCode Workflow = "qr_code"

// Workflows returns every workflow the API accepts.
func Workflows() []Workflow { return []Workflow{WorkflowQRCode} }

// Known reports whether w is one of [Workflows].
func (w Workflow) Known() bool { return w == WorkflowQRCode }

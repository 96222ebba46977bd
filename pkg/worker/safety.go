package worker

import "context"

// SafetyVerdict is a safety classifier's verdict on one generated image.
type SafetyVerdict struct {
	// NSFW is true when the image is not safe for work.
	NSFW bool
	// CSAM is true when the image must never be delivered; the worker always censors it.
	CSAM bool
}

// SafetyChecker classifies generated images. An image backend that has no classifier of its own
// uses one so that the worker can serve requests that ask for censorship; a backend's output
// never claims a verdict that no classifier computed.
type SafetyChecker interface {
	// CheckImage classifies one encoded image (WebP or PNG). An error means no verdict: the
	// worker must not deliver the image as if it had been checked.
	CheckImage(ctx context.Context, image []byte) (SafetyVerdict, error)
}

// Metadata is one note reported with a generated image, in the Horde's terms: Type is what it
// is about ("lora", "ti", "censorship", "source_image", …), Value what happened
// ("download_failed", "csam", "nsfw", …), Ref the item it names (a LoRA id), when any.
type Metadata struct {
	Type  string
	Value string
	Ref   string
}

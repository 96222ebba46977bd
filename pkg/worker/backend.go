package worker

import (
	"context"

	"github.com/horde-go/horde/pkg/params"
)

// ImageBackend runs image jobs: a Stable Diffusion server, a ComfyUI bridge, or a test double.
type ImageBackend interface {
	// GenerateImages runs one job and returns one output per result id of the job, in order.
	// Source images arrive downloaded: every params.ImageData in the job has Data set.
	// An error faults the whole job; the worker reports it to the Horde and carries on.
	GenerateImages(ctx context.Context, job *ImageJob) ([]ImageOutput, error)
}

// ImageJob is what an image backend is asked to do.
type ImageJob struct {
	// ID is the job's first result id, for logs.
	ID string
	// Params is the generation; Params.BatchSize images are expected.
	Params params.Image
	// ResultIDs are the ids of the expected images, in order.
	ResultIDs []string
	// UseNSFWCensor asks that NSFW images be censored.
	UseNSFWCensor bool
}

// ImageOutput is one generated image.
type ImageOutput struct {
	// Data is the encoded image, WebP preferred (the Horde stores .webp objects); PNG is sent
	// as it is.
	Data []byte
	// Safety is the backend's own verdict on the image, or nil when it computed none. Without
	// one, the worker asks Settings.Safety; if there is still none and the job needs one (it
	// asks for the censor, or the worker does not serve NSFW), the job is faulted rather than
	// delivered unchecked. The worker censors CSAM always, and NSFW when the worker does not
	// serve NSFW or the job asks for the censor.
	Safety *SafetyVerdict
	// Metadata is reported with the image (for example {Type: "lora", Value:
	// "download_failed", Ref: "123"} for a LoRA that failed to load).
	Metadata []Metadata
}

// TextBackend runs text jobs: an OpenAI-compatible or KoboldAI server, or a test double.
type TextBackend interface {
	// GenerateText runs one job. An error faults it.
	GenerateText(ctx context.Context, job *TextJob) (TextOutput, error)
}

// TextJob is what a text backend is asked to do.
type TextJob struct {
	ID     string
	Params params.Text
	// MaxLength and MaxContextLength are the job's limits after the worker's own caps.
	MaxLength, MaxContextLength int
}

// TextOutput is one generated text.
type TextOutput struct {
	Text string
	// Seed is the seed the backend used, when it reports one.
	Seed int
}

// AlchemyBackend runs alchemy forms: captioning, interrogation, NSFW checks, upscaling, face
// fixing, background removal.
type AlchemyBackend interface {
	// Alchemy runs one form on its source image (downloaded: Op.Source.Data is set).
	// An error faults the form.
	Alchemy(ctx context.Context, job *AlchemyJob) (AlchemyOutput, error)
}

// AlchemyJob is one alchemy form to run.
type AlchemyJob struct {
	ID string
	Op params.AlchemyOp
}

// AlchemyOutput is the result of one form: Result for the text forms ({"caption": "…"},
// {"nsfw": true}, …), Image for the forms that produce an image (upscalers, face fixers,
// strip_background), which the worker uploads.
type AlchemyOutput struct {
	Result map[string]any
	Image  []byte
}

// Backends are the backends a worker serves with; a nil one means the worker does not pop that
// kind of job.
type Backends struct {
	Image   ImageBackend
	Text    TextBackend
	Alchemy AlchemyBackend
}

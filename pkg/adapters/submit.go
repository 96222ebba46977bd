package adapters

import (
	"encoding/base64"
	"slices"

	"github.com/horde-go/horde/gen"
)

// ImageResult is the outcome of one image of a job.
type ImageResult struct {
	// ID is the result id (one of Dispatch.IDs).
	ID string
	// Seed is the seed actually used (the API wants an integer).
	Seed int
	// Image is the encoded image (WebP); unused for a faulted result.
	Image []byte
	// State is ok when empty; faulted, censored or csam otherwise.
	State gen.SubmitState
	// Censored tells the server the image was censored by the worker.
	Censored bool
	// Metadata is added to the job's conversion faults.
	Metadata []gen.GenerationMetadataStable
}

// ImageSubmit builds the body of POST /v2/generate/submit for one result
// and says where the image must be uploaded first.
//
// When the id has an R2 upload URL, the caller PUTs res.Image to
// uploadURL and sends the body, whose generation is "R2". Otherwise the
// image travels inline, base64-encoded, and uploadURL is "" (horde_sdk had
// no such path: it refused jobs without R2 URLs). A faulted result sends
// generation "Faulted" and no image. The job's conversion faults are
// reported with every result.
func ImageSubmit(job *ImagePop, res ImageResult) (body gen.SubmitInputStable, uploadURL string) {
	body = gen.SubmitInputStable{ID: res.ID, Seed: res.Seed}
	if res.State != "" {
		st := res.State
		body.State = &st
	}
	if res.Censored {
		body.Censored = truePtr(true)
	}
	if md := slices.Concat(job.Faults, res.Metadata); len(md) > 0 {
		body.GenMetadata = md
	}
	var generation string
	switch {
	case res.State == gen.SubmitStateFaulted:
		generation = "Faulted"
	case job.Dispatch.UploadURL(res.ID) != "":
		generation, uploadURL = "R2", job.Dispatch.UploadURL(res.ID)
	default:
		generation = base64.StdEncoding.EncodeToString(res.Image)
	}
	body.Generation = &generation
	return body, uploadURL
}

package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/horde-go/horde/gen"
)

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

// errNoVerdict faults a job that needs a safety verdict no one computed.
var errNoVerdict = errors.New("no safety verdict: the backend computed none and no SafetyChecker is set, " +
	"and the job needs one (it asks for the NSFW censor, or the worker does not serve NSFW)")

// verdict is the safety verdict on one image: the backend's, else the checker's. An image
// without one is acceptable only for a job that needs none; it then counts as safe.
func (w *Worker) verdict(ctx context.Context, out ImageOutput, censorAsked bool) (SafetyVerdict, error) {
	if out.Safety != nil {
		return *out.Safety, nil
	}
	if w.s.Safety != nil {
		v, err := w.s.Safety.CheckImage(ctx, out.Data)
		if err != nil {
			return SafetyVerdict{}, fmt.Errorf("safety check: %w", err)
		}
		return v, nil
	}
	if censorAsked || !w.s.ServeNSFW {
		return SafetyVerdict{}, errNoVerdict
	}
	return SafetyVerdict{}, nil
}

// apiMetadata converts the worker's metadata to the submit body's.
func apiMetadata(md []Metadata) []gen.GenerationMetadataStable {
	if len(md) == 0 {
		return nil
	}
	out := make([]gen.GenerationMetadataStable, len(md))
	for i, m := range md {
		out[i] = gen.GenerationMetadataStable{Type: gen.MetadataType(m.Type), Value: gen.MetadataValue(m.Value)}
		if m.Ref != "" {
			out[i].Ref = &m.Ref
		}
	}
	return out
}

package worker

import (
	"fmt"

	"github.com/horde-go/horde/pkg/params"
)

// DefaultWorkerName is the name a worker registers under when its offer names none.
const DefaultWorkerName = "An Awesome AI Horde Worker"

// ImageOffer is what a worker offers the Horde for image work. The Horde hands the worker only
// requests that fit it, so it should say exactly what the backend can run: a backend that
// implements ImageOfferLimiter narrows it at start.
type ImageOffer struct {
	// Name is the worker's name on the Horde (default DefaultWorkerName).
	Name string
	// Models are the Horde model names the worker serves (at least one).
	Models []string
	// MaxPixels is the largest width × height it generates (default 512×512).
	MaxPixels int
	// MaxBatch is how many images of one request it generates in one job (default 1).
	MaxBatch int
	// Blacklist are words whose prompts the worker refuses.
	Blacklist []string
	// AllowImg2Img, AllowPainting, AllowPostProcessing, AllowControlNet, AllowSDXLControlNet and
	// AllowLoRA offer those features. The Horde also checks the bridge agent's name before it
	// hands out jobs that need them (see the package documentation).
	AllowImg2Img, AllowPainting, AllowPostProcessing, AllowControlNet, AllowSDXLControlNet, AllowLoRA bool
	// AllowUnsafeIPAddr takes requests from IP addresses the Horde considers unsafe (VPNs,
	// proxies); their source images are more often abusive.
	AllowUnsafeIPAddr bool
	// LimitMaxSteps asks for requests with no more steps than the model's reference allows.
	LimitMaxSteps bool
	// ModelReference gives each model's baseline to the jobs (params.Image.Baseline); nil
	// leaves it empty.
	ModelReference *params.ImageModelReference
}

// TextOffer is what a worker offers the Horde for text work.
type TextOffer struct {
	// Name is the worker's name on the Horde (default DefaultWorkerName).
	Name string
	// Models are the model names the worker serves (at least one), as the Horde knows them
	// ("koboldcpp/…", "aphrodite/…").
	Models []string
	// MaxLength is the most tokens it generates for one request (default 512); the Horde
	// hands it no request that asks for more.
	MaxLength int
	// MaxContextLength is the largest prompt context it takes, in tokens (default 2048, the
	// Horde's default for a request that names none: a smaller one misses those requests).
	MaxContextLength int
}

// AlchemyOffer is what a worker offers the Horde for alchemy work.
type AlchemyOffer struct {
	// Name is the worker's name on the Horde (default DefaultWorkerName).
	Name string
	// Forms are the forms it runs (at least one): caption, interrogation, nsfw, and the
	// post-processors.
	Forms []params.AlchemyForm
	// MaxTiles is the largest image it post-processes, in 512×512 tiles (default 16).
	MaxTiles int
	// PerPop is how many forms one pop may bring (default 1).
	PerPop int
}

func (o *ImageOffer) withDefaults() ImageOffer {
	out := *o
	setDefaultString(&out.Name, DefaultWorkerName)
	setDefault(&out.MaxPixels, 512*512)
	setDefault(&out.MaxBatch, 1)
	return out
}

func (o *TextOffer) withDefaults() TextOffer {
	out := *o
	setDefaultString(&out.Name, DefaultWorkerName)
	setDefault(&out.MaxLength, 512)
	setDefault(&out.MaxContextLength, 2048)
	return out
}

func (o *AlchemyOffer) withDefaults() AlchemyOffer {
	out := *o
	setDefaultString(&out.Name, DefaultWorkerName)
	setDefault(&out.MaxTiles, 16)
	setDefault(&out.PerPop, 1)
	return out
}

func setDefaultString(v *string, def string) {
	if *v == "" {
		*v = def
	}
}

// validateOffers checks each offer; every error names the field and the rule. An offer may
// leave its models (or forms) to a backend that implements the kind's offer limiter, which
// names them at start.
func (s *Settings) validateOffers(b Backends) []error {
	_, imageNames := b.Image.(ImageOfferLimiter)
	_, textNames := b.Text.(TextOfferLimiter)
	_, alchemyNames := b.Alchemy.(AlchemyOfferLimiter)
	var errs []error
	bad := func(field, rule string, v any) {
		errs = append(errs, fmt.Errorf("worker: settings: %s: %s, got %v", field, rule, v))
	}
	if o := s.Image; o != nil {
		if len(o.Models) == 0 && !imageNames {
			bad("Image.Models", "must name at least one model", "none")
		}
		if o.MaxPixels < 0 {
			bad("Image.MaxPixels", "must not be negative", o.MaxPixels)
		}
		if o.MaxBatch < 0 || o.MaxBatch > 20 {
			bad("Image.MaxBatch", "must be between 1 and 20", o.MaxBatch)
		}
	}
	if o := s.Text; o != nil {
		if len(o.Models) == 0 && !textNames {
			bad("Text.Models", "must name at least one model", "none")
		}
		if o.MaxLength < 0 {
			bad("Text.MaxLength", "must not be negative", o.MaxLength)
		}
		if o.MaxContextLength < 0 {
			bad("Text.MaxContextLength", "must not be negative", o.MaxContextLength)
		}
	}
	if o := s.Alchemy; o != nil {
		if len(o.Forms) == 0 && !alchemyNames {
			bad("Alchemy.Forms", "must name at least one form", "none")
		}
		for _, f := range o.Forms {
			if !f.InAPI() {
				bad("Alchemy.Forms", "must be forms of the API", f)
			}
		}
		if o.MaxTiles < 0 {
			bad("Alchemy.MaxTiles", "must not be negative", o.MaxTiles)
		}
		if o.PerPop < 0 || o.PerPop > 100 {
			bad("Alchemy.PerPop", "must be between 1 and 100", o.PerPop)
		}
	}
	return errs
}

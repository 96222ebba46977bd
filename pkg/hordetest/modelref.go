package hordetest

import (
	"regexp"
	"strings"

	"github.com/horde-go/horde/pkg/params"
)

// WithModelReference sets the image and text model references the simulator judges requests
// and workers by, as the server uses its own: which models are known (a worker offers an
// unknown image model only with the customizer role; model statistics filter by
// model_state), the baseline behind a model's kudos and its hires-fix and ControlNet rules, and
// the requirements behind the warnings of a request (StepsTooFew, SamplerMismatch, ...). A nil
// reference keeps the snapshot embedded in pkg/params (June 2026). The models given to
// [WithImageModels] and [WithTextModels] count as known whatever the reference says.
func WithModelReference(img *params.ImageModelReference, txt *params.TextModelReference) Option {
	return func(c *config) {
		if img != nil {
			c.imageRef = img
		}
		if txt != nil {
			c.textRef = txt
		}
	}
}

// loadReferences fills the references the options left unset with the embedded snapshots. The
// snapshots are part of the module, so they always load; were one broken, the simulator would
// fall back to guessing from model names rather than refuse to start.
func (c *config) loadReferences() {
	if c.imageRef == nil {
		c.imageRef, _ = params.SnapshotImageModelReference()
	}
	if c.textRef == nil {
		c.textRef, _ = params.SnapshotTextModelReference()
	}
}

func (s *Server) imageRecord(model string) (params.ImageModelRecord, bool) {
	if s.cfg.imageRef == nil {
		return params.ImageModelRecord{}, false
	}
	return s.cfg.imageRef.Get(model)
}

// knownImageModel: the model is in the image reference (is_known_image_model) or served by the
// built-in worker.
func (s *Server) knownImageModel(m string) bool {
	if contains(s.cfg.imageModels, m) {
		return true
	}
	_, ok := s.imageRecord(m)
	return ok
}

// quantSuffix is the server's no_q_regex: a quantisation tag in a text model's name
// ("-Q4_K_M", ".Q8_0", "-IQ-Int4"), which is_known_text_model also tries without.
var quantSuffix = regexp.MustCompile(`[.,-][a-zA-Z0-9]+?-?Q(-[Ii]nt)?[2-9]{1,2}([_.-][0-9a-zA-Z]+)*`)

// knownTextModel: the model, without a "::user" suffix, is in the text reference, as it is or
// without its quantisation tag (is_known_text_model), or served by the built-in worker.
func (s *Server) knownTextModel(m string) bool {
	if contains(s.cfg.textModels, m) {
		return true
	}
	if name, _, ok := strings.Cut(m, "::"); ok {
		m = name
	}
	if s.cfg.textRef == nil {
		return false
	}
	if _, ok := s.cfg.textRef.Get(m); ok {
		return true
	}
	_, ok := s.cfg.textRef.Get(quantSuffix.ReplaceAllString(m, ""))
	return ok
}

// modelBaseline is the kudos multiplier of a model (SDXL ×2, Stable Cascade ×4, Flux and
// Z-Image ×8, Qwen-Image ×12), from its baseline in the reference; a model the reference does
// not know is judged by its name.
func (s *Server) modelBaseline(model string) float64 {
	rec, ok := s.imageRecord(model)
	if !ok {
		return baselineByName(model)
	}
	switch rec.Baseline {
	case params.BaselineSDXL:
		return 2
	case params.BaselineCascade:
		return 4
	case params.BaselineFlux1, params.BaselineFluxSchnell, params.BaselineFluxDev, params.BaselineZImageTurbo:
		return 8
	case params.BaselineQwenImage:
		return 12
	}
	return 1
}

// heavyModel: a Flux, Qwen-Image or Z-Image model, which takes no hires fix and three times
// the job's time to live.
func (s *Server) heavyModel(models []string) bool {
	for _, m := range models {
		if s.modelBaseline(m) >= 8 {
			return true
		}
	}
	return false
}

// requirementsOf are a model's requirements: those given with [WithModelRequirements], else
// the reference's.
func (s *Server) requirementsOf(model string) (ModelRequirements, bool) {
	if rq, ok := s.cfg.requirements[model]; ok {
		return rq, true
	}
	rec, ok := s.imageRecord(model)
	if !ok {
		return ModelRequirements{}, false
	}
	r := rec.Requirements
	out := ModelRequirements{ClipSkip: r.ClipSkip, MinSteps: r.MinSteps, MaxSteps: r.MaxSteps,
		CfgScale: r.CFGScale, MinCfgScale: r.MinCFGScale, MaxCfgScale: r.MaxCFGScale}
	for _, x := range r.Samplers {
		out.Samplers = append(out.Samplers, string(x))
	}
	for _, x := range r.Schedulers {
		out.Schedulers = append(out.Schedulers, string(x))
	}
	empty := out.ClipSkip == nil && out.MinSteps == nil && out.MaxSteps == nil && out.CfgScale == nil &&
		out.MinCfgScale == nil && out.MaxCfgScale == nil && out.Samplers == nil && out.Schedulers == nil
	return out, !empty
}

package hordetest

import (
	"math"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/params"
)

// upfrontRuleLocked is the server's require_upfront_kudos (classes/stable/waiting_prompt.py):
// whether an image request needs its kudos upfront, and the largest resolution that does not.
// The limit grows with the active threads and shrinks with the queue, between 576 and 1024
// (768 at least for SD 2 models, 1024 for SDXL, Cascade and Flux). Requests that refuse slow
// workers always need the kudos; so do more than 10 LCM steps, more steps than a model's
// max_steps (40 by default), a larger area, and more than 20 steps with ControlNet.
func (s *Server) upfrontRuleLocked(req *request, now time.Time) (bool, int) {
	maxRes := 1024 + 10*s.activeThreadsLocked(kindImage, now) - int(pyRound(0.9*float64(s.queuedJobsLocked(kindImage))))
	if !req.slowWorkers {
		return true, maxRes
	}
	maxRes = max(maxRes, 576)
	if maxRes < 768 && s.anyBaseline(req.models, params.BaselineSD2_512, params.BaselineSD2_768) {
		maxRes = 768
	}
	if maxRes < 1024 && s.anyBaseline(req.models, params.BaselineSDXL, params.BaselineCascade, params.BaselineFlux1,
		params.BaselineFluxSchnell, params.BaselineFluxDev) {
		maxRes = 1024
	}
	maxRes = min(maxRes, 1024)
	acc := accurateSteps(string(*req.root.SamplerName), req.steps)
	switch {
	case usesLCM(&req.root) && acc > 10:
		return true, maxRes
	case s.minMaxSteps(req.models, 40) < acc:
		return true, maxRes
	case req.width*req.height > maxRes*maxRes:
		return true, maxRes
	case req.controlType != "" && acc > 20:
		return true, maxRes
	}
	return false, maxRes
}

// downgradeLocked is the server's downgrade of a request whose user lacks the upfront kudos and
// allowed it: slow workers on, the area scaled into maxRes² (snapped to multiples of 64, at
// least 512×512), the steps lowered to the models' max_steps (30 by default, 20 with ControlNet,
// 10 for LCM) but not below 5.
func (s *Server) downgradeLocked(req *request, maxRes int) {
	req.slowWorkers = true
	if limit := maxRes * maxRes; req.width*req.height > limit {
		scale := math.Sqrt(float64(limit) / float64(req.width*req.height))
		w, h := int(float64(req.width)*scale)/64*64, int(float64(req.height)*scale)/64*64
		for w*h > limit {
			if w >= h {
				w -= 64
			} else {
				h -= 64
			}
		}
		if w*h < 512*512 {
			w, h = 512, 512
		}
		req.width, req.height = w, h
	}
	maxSteps := s.minMaxSteps(req.models, 30)
	if req.controlType != "" {
		maxSteps = 20
	}
	if usesLCM(&req.root) {
		maxSteps = 10
	}
	for accurateSteps(string(*req.root.SamplerName), req.steps) > maxSteps && req.steps >= 5 {
		req.steps--
	}
	req.root.Width, req.root.Height = ptr(req.width), ptr(req.height)
	req.perJob = imageKudos(req)
}

// minMaxSteps is the smallest max_steps the models' requirements give (def for a model without).
func (s *Server) minMaxSteps(models []string, def int) int {
	out := math.MaxInt
	for _, m := range models {
		v := def
		if rq, ok := s.requirementsOf(m); ok && rq.MaxSteps != nil {
			v = *rq.MaxSteps
		}
		out = min(out, v)
	}
	if out == math.MaxInt {
		return def
	}
	return out
}

// anyBaseline reports whether one of the models has one of the baselines in the reference.
func (s *Server) anyBaseline(models []string, baselines ...params.Baseline) bool {
	for _, m := range models {
		if rec, ok := s.imageRecord(m); ok {
			for _, b := range baselines {
				if rec.Baseline == b {
					return true
				}
			}
		}
	}
	return false
}

// The LCM LoRAs the server knows (horde/consts.py): by CivitAI version, and by model id.
var (
	lcmLoRAVersions = []string{"246747", "247778", "268475", "243643", "225222", "219782", "363353"}
	lcmLoRAIDs      = []string{"195519", "216190", "324115"}
)

// usesLCM is the server's is_using_lcm: the lcm sampler, or a known LCM LoRA.
func usesLCM(p *gen.ModelPayloadRootStable) bool {
	if p.SamplerName != nil && *p.SamplerName == "lcm" {
		return true
	}
	for _, l := range p.Loras {
		if deref(l.IsVersion, false) {
			if contains(lcmLoRAVersions, l.Name) {
				return true
			}
		} else if contains(lcmLoRAIDs, l.Name) {
			return true
		}
	}
	return false
}

// availableKudosLocked is what a user may still commit upfront, as the server's
// available_kudos reckons it: the balance above the user's floor, less what the user's running
// upfront requests still hold (a hold shrinks as the request is charged, and ends with it).
func (s *Server) availableKudosLocked(u *user) float64 {
	held := 0.0
	for _, r := range s.requests {
		if r.user != u || r.hold <= 0 || r.cancelled || r.expired || r.completed() {
			continue
		}
		held += math.Max(r.hold-r.charged, 0)
	}
	return u.Kudos - u.floor() - held
}

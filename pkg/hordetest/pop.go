package hordetest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/internal/bridgeagent"
)

func (s *Server) queuedJobsLocked(kind string) int {
	q := 0
	for _, r := range s.queue {
		if r.kind == kind {
			q += r.n
		}
	}
	return q
}

// hasValidWorkerLocked reports whether an active worker could serve r (1.6).
func (s *Server) hasValidWorkerLocked(r *request, now time.Time) bool {
	for _, j := range r.jobs {
		if j.state == jobProcessing {
			return true
		}
	}
	for _, w := range s.workers {
		if w.kind != r.kind || !w.online(now) {
			continue
		}
		if (w.maintenance || w.paused) && w.owner != r.user {
			continue
		}
		if reason := s.skipReasonLocked(w, r, now); reason == "" {
			return true
		}
	}
	return false
}

// grantsOf is what the server grants a worker by its bridge agent (internal/bridgeagent, the
// table the worker reports from too), read once per agent the worker sends; under s.mu.
func grantsOf(w *worker) *bridgeagent.Grants {
	if w.grants == nil || w.grants.Agent != w.bridgeAgent {
		g := bridgeagent.For(w.bridgeAgent)
		w.grants = &g
	}
	return w.grants
}

// bridgeSkip is the server's bridge checks of can_generate (classes/stable/worker.py): the
// first reason the bridge agent keeps worker w from request r, or "". The worker's own
// allow_* settings are checked by the caller.
func bridgeSkip(w *worker, r *request) string {
	if w.builtin {
		return ""
	}
	g := grantsOf(w)
	p := &r.root
	if r.sourceImage != "" && !g.Has("img2img") {
		return "img2img"
	}
	if (r.sourceProc == "inpainting" || r.sourceProc == "outpainting") && !g.Has("inpainting") {
		return "painting"
	}
	sampler := string(deref(p.SamplerName, gen.SamplerName("k_euler_a")))
	if !slices.Contains(g.Samplers, sampler) && (deref(p.Karras, false) || !slices.Contains(g.SamplersNoKarras, sampler)) {
		return "bridge_version"
	}
	if len(p.PostProcessing) > 0 && !g.Has("post-processing") {
		return "bridge_version"
	}
	for _, pp := range p.PostProcessing {
		if !g.Has(string(pp)) {
			return "bridge_version"
		}
	}
	needs := []struct {
		asked   bool
		feature string
	}{
		{deref(p.Tiling, false), "tiling"},
		{deref(p.ReturnControlMap, false), "return_control_map"},
		{r.controlType != "", "controlnet"},
		{r.controlType != "", "image_is_control"},
		{p.Workflow != nil && *p.Workflow == "qr_code", "controlnet"},
		{p.Workflow != nil && *p.Workflow == "qr_code", "qr_code"},
		{deref(p.HiresFix, false), "hires_fix"},
		{deref(p.ClipSkip, 1) > 1, "clip_skip"},
		{slices.ContainsFunc(p.Loras, func(l gen.ModelPayloadLorasStable) bool { return deref(l.IsVersion, false) }), "lora_versions"},
		{len(p.Loras) > 0, "lora"},
		{len(p.Tis) > 0, "textual_inversion"},
		{len(r.imgIn.ExtraSourceImages) > 0, "extra_source_images"},
		{r.r2, "r2"},
	}
	for _, n := range needs {
		if n.asked && !g.Has(n.feature) {
			return "bridge_version"
		}
	}
	return ""
}

// skipReasonLocked is the first reason worker w cannot take request r ("" if it can).
func (s *Server) skipReasonLocked(w *worker, r *request, now time.Time) string {
	if r.kind == kindText {
		return s.textSkipReason(w, r)
	}
	if r.width*r.height > w.maxPixels {
		return "max_pixels"
	}
	if len(r.models) > 0 {
		ok := false
		for _, m := range r.models {
			ok = ok || w.serves(m)
		}
		if !ok {
			return "models"
		}
	}
	if r.nsfw && !w.nsfw {
		return "nsfw"
	}
	if r.trustedWorkers && !w.owner.Trusted {
		return "untrusted"
	}
	lp := strings.ToLower(r.prompt)
	for _, b := range w.blacklist {
		if b != "" && strings.Contains(lp, strings.ToLower(b)) {
			return "blacklist"
		}
	}
	if len(r.workersList) > 0 {
		listed := false
		for _, id := range r.workersList {
			listed = listed || id == w.id
		}
		if listed == r.workerBlacklist {
			return "worker_id"
		}
	}
	if reason := bridgeSkip(w, r); reason != "" {
		return reason
	}
	if r.sourceImage != "" {
		if r.sourceProc == "inpainting" || r.sourceProc == "outpainting" {
			if !w.allowPainting {
				return "painting"
			}
		} else if !w.allowImg2Img {
			return "img2img"
		}
	}
	if r.hasLoras && !w.allowLora {
		return "lora"
	}
	if r.controlType != "" && !w.allowControlnet {
		return "controlnet"
	}
	if r.extraSlow != w.extraSlow && w.extraSlow {
		return "performance"
	}
	if w.limitMaxSteps && accurateSteps(string(*r.root.SamplerName), r.steps) > 30 {
		return "step_count"
	}
	if r.postProcessors > 0 && !w.allowPostProcessing {
		return "post-processing"
	}
	if w.requireUpfront && !r.user.Trusted {
		avail := r.user.Kudos
		if avail > 0 {
			avail -= r.user.floor()
		}
		if avail < r.perJob {
			return "kudos"
		}
	}
	return ""
}

// workerForPopLocked validates a pop and finds or creates the worker (2.2).
func (s *Server) workerForPopLocked(r *http.Request, kind string, name *string, prio []string, now time.Time) (*worker, bool, *apiError) {
	if name == nil {
		return nil, false, validationErr("name", "The Name of the Worker. Missing required parameter in the JSON body")
	}
	for _, p := range prio {
		if !strings.Contains(p, "#") {
			return nil, false, herr(http.StatusBadRequest, "InvalidPriorityUsername", "Priority usernames need to be provided in the form of 'alias#number'. Example: 'db0#1'")
		}
	}
	u, ae := s.authLocked(r, true, helpRegisteredKey)
	if ae != nil {
		return nil, false, ae
	}
	if u.deleted {
		return nil, false, herr(http.StatusForbidden, "DeletedUser", "This user has been deleted.")
	}
	if u.flagged {
		return nil, false, herr(http.StatusForbidden, "WorkerFlaggedMaintenance", "This user has been flagged.")
	}
	if u.id == 0 {
		return nil, false, herr(http.StatusForbidden, "AnonForbiddenWorker", "Anonymous users cannot run workers. Please register an account.")
	}
	wn := strings.TrimSpace(*name)
	if len(wn) > 100 {
		wn = wn[:100]
	}
	w := s.workerNames[wn]
	if w != nil && w.kind != kind {
		return nil, false, herr(http.StatusBadRequest, "PolymorphicNameConflict", "This worker name is already in use by another type of worker.")
	}
	if ae := s.checkIPLocked(r, now); ae != nil {
		return nil, false, ae
	}
	created := false
	if w == nil {
		lw := strings.ToLower(wn)
		if strings.Contains(lw, "colab") || strings.Contains(lw, "tpu") || strings.Contains(lw, "google") {
			return nil, false, herr(http.StatusBadRequest, "BadRequest", "Worker names containing colab, tpu or google are not allowed.")
		}
		if s.ext.inviteOnly && len(u.workers) >= u.ext.workerInvited {
			return nil, false, workerInviteOnly(len(u.workers))
		}
		if !u.Trusted && len(u.workers) > 3 {
			return nil, false, herr(http.StatusForbidden, "TooManyWorkers", "You have too many workers.")
		}
		w = &worker{id: s.newUUIDLocked(), name: wn, kind: kind, owner: u, created: now, threads: 1}
		s.workers[w.id] = w
		s.workerNames[wn] = w
		u.workers = append(u.workers, w.id)
		created = true
	} else if w.owner != u {
		return nil, false, herr(http.StatusForbidden, "WrongCredentials", "Wrong credentials to submit as this worker.")
	}
	refresh := created || now.Sub(w.lastSettings) >= 30*time.Second || now.Sub(w.created) < 30*time.Second
	w.lastCheckIn = now
	if refresh {
		w.lastSettings = now
		w.ip = clientIP(r)
	}
	return w, refresh, nil
}

// prioritisedLocked orders the queue for a pop: the owner's and priority users' requests
// first, then everyone's, each in priority order.
func (s *Server) prioritisedLocked(kind string, w *worker, prio []string, now time.Time) []*request {
	q := s.orderedQueueLocked(kind, now)
	ids := map[int]bool{w.owner.id: true}
	for _, p := range prio {
		if i := strings.LastIndexByte(p, '#'); i >= 0 {
			if id, err := strconv.Atoi(p[i+1:]); err == nil {
				ids[id] = true
			}
		}
	}
	out := make([]*request, 0, len(q))
	for _, r := range q {
		if ids[r.user.id] {
			out = append(out, r)
		}
	}
	for _, r := range q {
		if !ids[r.user.id] {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) pickModelLocked(reqModels, popModels []string) string {
	var cands []string
	if len(reqModels) == 0 {
		cands = popModels
	} else {
		for _, m := range reqModels {
			for _, p := range popModels {
				if m == p {
					cands = append(cands, m)
					break
				}
			}
		}
	}
	if len(cands) == 0 {
		if len(reqModels) > 0 {
			return reqModels[0]
		}
		return ""
	}
	return cands[s.rng.IntN(len(cands))]
}

// logAbortLocked counts a dropped job; a worker dropping more than 20 jobs within an hour
// (alchemists: 100) is put into maintenance, as the server does.
func (s *Server) logAbortLocked(w *worker) {
	w.aborted++
	if w.builtin {
		return
	}
	now := s.clock.Now()
	keep := w.abortTimes[:0]
	for _, t := range w.abortTimes {
		if now.Sub(t) < time.Hour {
			keep = append(keep, t)
		}
	}
	w.abortTimes = append(keep, now)
	limit := 20
	if w.kind == kindInterrogation {
		limit = 100
	}
	if len(w.abortTimes) > limit {
		w.maintenance = true
	}
}

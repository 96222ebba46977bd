package hordetest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

var modelSizeRE = regexp.MustCompile(`(?i)(\d+(?:\.\d+)?)\s*b\b`)

// textModelSize is the model size in billions of parameters read from its name (0 if unknown).
func textModelSize(model string) float64 {
	m := modelSizeRE.FindStringSubmatch(strings.ReplaceAll(model, "_", " "))
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func ctxFactor(tokens int) float64 {
	return math.Min(math.Max(1.2+math.Pow(2.2, math.Log2(float64(tokens)/1024)), 0.1), 30)
}

func (s *Server) textSkipReason(w *worker, r *request) string {
	if len(r.models) > 0 {
		ok := false
		for _, m := range r.models {
			ok = ok || w.serves(m)
		}
		if !ok {
			return "models"
		}
	}
	if r.maxContext > w.maxContext {
		return "max_context_length"
	}
	if r.maxLength > w.maxLength {
		return "max_length"
	}
	if r.trustedWorkers && !w.owner.Trusted {
		return "untrusted"
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
	lp := strings.ToLower(r.prompt)
	for _, b := range w.blacklist {
		if b != "" && strings.Contains(lp, strings.ToLower(b)) {
			return "blacklist"
		}
	}
	if deref(r.txtIn.ValidatedBackends, false) && !w.builtin && !grantsOf(w).TextValidated {
		return "bridge_version"
	}
	return ""
}

func (s *Server) handleTextAsync(r *http.Request) (int, any) {
	var in gen.GenerationInputKobold
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	p := gen.ModelGenerationInputKobold{}
	if in.Params != nil {
		p = *in.Params
	}
	checks := []struct {
		name     string
		v        *int
		min, max int
	}{{"n", p.N, 1, 20}, {"max_length", p.MaxLength, 16, 4096}, {"max_context_length", p.MaxContextLength, 80, 1048576}}
	for _, c := range checks {
		if e := optRange("params."+c.name, c.v, c.min, c.max); e != nil {
			return 0, e
		}
	}
	if e := strLen("style", in.Style, 3, 1024); e != nil {
		return 0, e
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpRegisteredKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	userPrompt := in.Prompt
	if in.Style != nil {
		if e := s.applyTextStyleLocked(&in); e != nil {
			return 0, e
		}
		p = *in.Params
	}
	if s.maintenance {
		return 0, herr(http.StatusBadRequest, "MaintenanceMode", "AI Horde has entered maintenance mode. Please try again later.")
	}
	if in.Webhook != nil && !strings.HasPrefix(*in.Webhook, "https://") {
		return 0, herr(http.StatusBadRequest, "BadRequest", "webhook must be an https URL")
	}
	allowDowngrade := deref(in.AllowDowngrade, false)
	u, key, downgrade, ae := s.genAuthLocked(r, allowDowngrade, now)
	if ae != nil {
		return 0, ae
	}
	if in.ProxiedAccount != nil && !u.ext.service {
		return 0, herr(http.StatusBadRequest, "OnlyServiceAccountProxy", "Only service accounts can provide a proxied_account value.")
	}
	if len(in.ExtraSourceImages) > 5 {
		return 0, herr(http.StatusBadRequest, "TooManyExtraSourceImages.", "You can send a maximum of 5 extra source images.")
	}
	missingPrompt := deref(in.Prompt, "") == ""
	if in.Style != nil { // the server checks the request's own prompt
		missingPrompt = userPrompt != nil && *userPrompt == ""
	}
	if missingPrompt {
		return 0, herr(http.StatusBadRequest, "MissingPrompt", "You cannot specify an empty prompt.")
	}
	for _, wid := range in.Workers {
		if _, ok := s.workers[wid]; !ok {
			return 0, herr(http.StatusNotFound, "WorkerNotFound", "Worker "+wid+" not found.")
		}
	}
	n := deref(p.N, 1)
	if n > 1 && deref(in.DisableBatching, false) && !u.Trusted {
		return 0, herr(http.StatusBadRequest, "RequiresTrust", "Only trusted users can disable batching.")
	}
	if s.waitingJobsLocked(u, kindText)+n > u.Concurrency {
		return 0, herr(http.StatusTooManyRequests, "TooManyPrompts", "Parallel requests exceeded user limit.")
	}
	if ae := s.checkIPLocked(r, now); ae != nil {
		return 0, ae
	}
	maxLen, maxCtx := deref(p.MaxLength, 80), deref(p.MaxContextLength, 2048)
	if e := validateTextParams(&p); e != nil {
		return 0, e
	}
	if len(in.ExtraSourceImages) > 0 {
		return 0, herr(http.StatusBadRequest, "InvalidExtraSourceImages.", "Text generation does not take extra source images.")
	}
	req := &request{id: s.newUUIDLocked(), kind: kindText, user: u, ip: clientIP(r), created: now, txtIn: in,
		models: in.Models, prompt: *in.Prompt, n: n, total: n, trustedWorkers: deref(in.TrustedWorkers, false),
		slowWorkers: deref(in.SlowWorkers, true), extraSlow: deref(in.ExtraSlowWorkers, false),
		workersList: firstN(in.Workers, 5), workerBlacklist: deref(in.WorkerBlacklist, false),
		disableBatching: deref(in.DisableBatching, false), maxLength: maxLen, maxContext: maxCtx}
	size := 0.0
	for _, m := range in.Models {
		size = math.Max(size, textModelSize(m))
	}
	limit := max(min(512+5*s.activeThreadsLocked(kindText, now)-int(pyRound(0.9*float64(s.queuedJobsLocked(kindText)))), 512), 256)
	need := 20.0 * float64(n)
	if len(in.Models) > 0 {
		need = round2(float64(maxLen)*math.Max(size, 1)/21) * float64(n)
	}
	if short, e := sharedKeyShort(key, need, allowDowngrade, "reques"); e != nil {
		return 0, e
	} else if short {
		downgrade = true
	}
	if !req.slowWorkers || maxLen > limit { // upfront kudos, reserved until the request ends
		if s.availableKudosLocked(u) < need {
			return 0, herr(http.StatusForbidden, "KudosUpfront", fmt.Sprintf("This request requires %v kudos to fulfil.", need))
		}
		req.hold = need
	}
	if key != nil {
		if msg := key.jobWithin(-1, -1, maxLen); msg != "" {
			return 0, herr(http.StatusBadRequest, "BadRequest", msg)
		}
	}
	if deref(in.DryRun, false) {
		ctx := ctxFactor(maxCtx)
		var k float64
		if len(in.Models) == 0 {
			k = round2(float64(maxLen) * 13 * ctx / 100)
		} else {
			ps := textModelSize(in.Models[0])
			if ps == 0 {
				return http.StatusInternalServerError, map[string]any{"message": "Internal Server Error"}
			}
			k = round2(float64(maxLen) * math.Pow(math.Max(ps, 13)/13, 0.2) * ps * ctx / 100)
		}
		return http.StatusOK, gen.DryRunKudos{Kudos: pyRound((k+1)*float64(n) + 1)}
	}
	s.seq++
	req.seq = s.seq
	req.priority = math.Round(u.Kudos)
	if downgrade {
		req.priority = -50
	}
	req.sharedKey = key
	u.ext.lastActive = now
	req.expiry = now.Add(s.cfg.expiry)
	tax := 1.0
	if in.Style != nil {
		tax += 2 // the style adjustment of the horde tax (text requests pay it only with a style)
	}
	s.chargeLocked(req, tax)
	req.charged = tax
	s.requests[req.id] = req
	s.queue = append(s.queue, req)
	u.requests[kindText]++
	resp := gen.RequestAsync{ID: ptr(req.id), Kudos: ptr(0.0)}
	if !s.hasValidWorkerLocked(req, now) {
		resp.Message = ptr(noWorkerMessage)
	}
	return http.StatusAccepted, resp
}

func (s *Server) textStatusLocked(req *request, now time.Time) textStatus {
	c := s.statusOfLocked(req, now)
	st := textStatus{statusCheck: c, Generations: []textGeneration{}}
	for _, j := range req.jobs {
		if j.state != jobDone {
			continue
		}
		g := textGeneration{Text: j.text, Seed: j.seed, WorkerID: j.worker.id, WorkerName: j.worker.name,
			Model: j.model, State: j.textState, GenMetadata: j.genMetaText}
		if g.GenMetadata == nil {
			g.GenMetadata = []gen.GenerationMetadataKobold{}
		}
		st.Generations = append(st.Generations, g)
	}
	return st
}

func (s *Server) handleTextStatus(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	req, e := s.lookupLocked(r.PathValue("id"), kindText)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, s.textStatusLocked(req, now)
}

func (s *Server) handleTextCancel(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	req, e := s.lookupLocked(r.PathValue("id"), kindText)
	if e != nil {
		return 0, e
	}
	st := s.textStatusLocked(req, now)
	req.n = 0 // the server leaves jobs as is: done stays false unless all had finished (quirk)
	req.cancelled = true
	s.compactQueueLocked()
	return http.StatusOK, st
}

func (s *Server) handleTextPop(r *http.Request) (int, any) {
	var in gen.PopInputKobold
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if e := optRange("amount", in.Amount, 1, 20); e != nil {
		return 0, e
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpRegisteredKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	w, refresh, ae := s.workerForPopLocked(r, kindText, in.Name, in.PriorityUsernames, now)
	if ae != nil {
		return 0, ae
	}
	if refresh {
		if len(in.Models) == 0 {
			return 0, herr(http.StatusBadRequest, "BadRequest", "Unrecognised models or no models for this worker.")
		}
		w.models = in.Models
		w.bridgeAgent = deref(in.BridgeAgent, "unknown:0:unknown")
		w.threads = deref(in.Threads, 1)
		w.nsfw = deref(in.NSFW, true)
		w.maxLength = deref(in.MaxLength, 512)
		w.maxContext = deref(in.MaxContextLength, 2048)
		w.extraSlow = deref(in.ExtraSlowWorker, false)
	}
	skipped := map[string]int{}
	for _, req := range s.prioritisedLocked(kindText, w, in.PriorityUsernames, now) {
		if (w.maintenance || w.paused) && req.user != w.owner {
			continue
		}
		if reason := s.textSkipReason(w, req); reason != "" {
			skipped[reason]++
			continue
		}
		return http.StatusOK, s.startTextJobsLocked(w, req, in.Models, deref(in.Amount, 1), now)
	}
	if w.maintenance {
		return 0, herr(http.StatusForbidden, "WorkerMaintenance", w.maintenanceText())
	}
	return http.StatusOK, map[string]any{"payload": map[string]any{}, "ids": []string{}, "messages": s.popMessagesLocked(w, now), "skipped": skipped,
		"id": nil, "ttl": nil, "model": nil, "softprompt": nil, "extra_source_images": nil} // null, as the server sends them
}

func (s *Server) startTextJobsLocked(w *worker, req *request, popModels []string, amount int, now time.Time) textPop {
	batch := min(amount, req.n)
	if req.disableBatching {
		batch = 1
	}
	model := s.pickModelLocked(req.models, popModels)
	if w.builtin && model == "" && len(w.models) > 0 {
		model = w.models[0]
	}
	var p gen.ModelPayloadKobold
	if req.txtIn.Params != nil {
		b, _ := json.Marshal(req.txtIn.Params)
		_ = json.Unmarshal(b, &p)
	}
	p.Prompt = ptr(req.prompt)
	p.N = ptr(1)
	p.MaxLength = ptr(req.maxLength)
	p.MaxContextLength = ptr(req.maxContext)
	p.MinP = ptr(deref(p.MinP, 0.0))
	p.SmoothingFactor = ptr(deref(p.SmoothingFactor, 0.0))
	p.DynatempRange = ptr(deref(p.DynatempRange, 0.0))
	p.DynatempExponent = ptr(deref(p.DynatempExponent, 1.0))
	out := textPop{Payload: &p, Model: model, TTL: 150, Messages: s.popMessagesLocked(w, now), Skipped: map[string]int{}}
	for i := 0; i < batch; i++ {
		j := &job{id: s.newUUIDLocked(), req: req, worker: w, model: model, popped: now, ttl: 150, state: jobProcessing}
		req.jobs = append(req.jobs, j)
		s.jobs[j.id] = j
		out.Ids = append(out.Ids, j.id)
	}
	out.ID = out.Ids[0]
	req.n -= batch
	req.expiry = now.Add(s.cfg.expiry)
	w.uncompleted += batch
	s.compactQueueLocked()
	return out
}

type textSubmit struct {
	ID          *string                        `json:"id"`
	Generation  *string                        `json:"generation"`
	State       *string                        `json:"state"`
	Seed        *int                           `json:"seed"`
	GenMetadata []gen.GenerationMetadataKobold `json:"gen_metadata"`
}

func (s *Server) handleTextSubmit(r *http.Request) (int, any) {
	var in textSubmit
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if in.ID == nil {
		return 0, validationErr("id", "The processing generation uuid. Missing required parameter in the JSON body")
	}
	if in.Generation == nil {
		return 0, validationErr("generation", "The generated text. Missing required parameter in the JSON body")
	}
	state := deref(in.State, "ok")
	if status, body := checkSubmitState(state); body != nil {
		return status, body
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpRegisteredKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	j, status, body := s.submittedJobLocked(r, *in.ID, kindText)
	if j == nil {
		return status, body
	}
	if state == "faulted" {
		s.faultJobLocked(j)
		return http.StatusOK, gen.GenerationSubmitted{Reward: ptr(0.0)}
	}
	j.text = *in.Generation
	j.seed = deref(in.Seed, 0)
	j.genMetaText = in.GenMetadata
	j.textState = "ok"
	if state == "censored" || state == "csam" {
		j.textState = state
		j.censored = true
	}
	return http.StatusOK, gen.GenerationSubmitted{Reward: ptr(s.finishTextJobLocked(j, now))}
}

func (s *Server) finishTextJobLocked(j *job, now time.Time) float64 {
	req := j.req
	j.state = jobDone
	j.submits++
	j.finishedAt = now
	tokens := min(max(int(math.Ceil(float64(len(j.text))/4)), 20), req.maxLength)
	promptTokens := min(max(int(math.Ceil(float64(len(req.prompt))/4)), 20), req.maxContext)
	ctx := ctxFactor(promptTokens)
	size := textModelSize(j.model)
	var reward float64
	switch {
	case size > 0:
		reward = round2(float64(tokens) * math.Pow(math.Max(size, 13)/13, 0.2) * size / 125 * ctx)
		if !j.worker.builtin && !grantsOf(j.worker).TextValidated {
			reward = round2(reward * 0.3)
		}
	case j.worker.owner.Trusted:
		reward = round2(float64(tokens) * ctx * 0.027)
	default:
		reward = round2(ctx)
	}
	j.reward = reward
	credit := reward
	if !j.worker.owner.Trusted {
		credit /= 2
	}
	j.worker.owner.Kudos += credit
	j.worker.owner.earned += credit
	j.worker.kudosEarned += credit
	j.worker.fulfilled++
	j.worker.uncompleted--
	s.creditTeamLocked(j.worker, credit)
	j.worker.things += float64(tokens)
	s.chargeLocked(req, reward+1)
	req.charged += reward + 1
	req.expiry = now.Add(s.cfg.expiry)
	s.stats.textRequests++
	s.stats.tokens += tokens
	s.stats.txtModels[j.model]++
	return reward
}

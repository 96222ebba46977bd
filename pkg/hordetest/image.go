package hordetest

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

func (s *Server) handleImageAsync(r *http.Request) (int, any) {
	var in gen.GenerationInputStable
	raw, e := decodeBody(r, &in)
	if e != nil {
		return 0, e
	}
	if e := validateImageInput(&in, in.Prompt != "" || hasKey(raw, "prompt")); e != nil {
		return 0, e
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpRegisteredKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	var styleModels []string
	if in.Style != nil {
		m, e := s.applyImageStyleLocked(&in)
		if e != nil {
			return 0, e
		}
		styleModels = m
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
	if u.deleted {
		return 0, herr(http.StatusForbidden, "DeletedUser", "This user has been deleted.")
	}
	if len(in.ExtraSourceImages) > 5 {
		return 0, herr(http.StatusBadRequest, "TooManyExtraSourceImages.", "You can send a maximum of 5 extra source images.")
	}
	if len(in.ExtraSourceImages) > 1 && !u.Trusted {
		return 0, herr(http.StatusBadRequest, "MoreThanMinExtraSourceImage.", "Only trusted users can send more than one extra source image.")
	}
	for _, wid := range in.Workers {
		if _, ok := s.workers[wid]; !ok {
			return 0, herr(http.StatusNotFound, "WorkerNotFound", "Worker "+wid+" not found.")
		}
	}
	p := gen.ModelGenerationInputStable{}
	if in.Params != nil {
		p = *in.Params
	}
	n := deref(p.N, 1)
	if n > 1 && deref(in.DisableBatching, false) && !u.Trusted {
		return 0, herr(http.StatusBadRequest, "RequiresTrust", "Only trusted users can disable batching.")
	}
	if s.waitingJobsLocked(u, kindImage)+n > u.Concurrency {
		msg := "Parallel requests exceeded user limit."
		if u.id == 0 {
			msg = "This anonymous account has too many parallel requests. Please register an account or wait for your previous requests to finish."
		}
		return 0, herr(http.StatusTooManyRequests, "TooManyPrompts", msg)
	}
	if ae := s.checkIPLocked(r, now); ae != nil {
		return 0, ae
	}
	prompt, ae := s.filterPromptLocked(r, u, in.Prompt, deref(in.ReplacementFilter, true), now)
	if ae != nil {
		return 0, ae
	}
	in.Prompt = prompt
	// Absent means the parser's default; an explicit [] (or null) means any model.
	var models []string
	switch {
	case in.Models != nil:
		models = *in.Models
	case !hasKey(raw, "models"):
		models = []string{"stable_diffusion"}
	}
	// The server checks the request's own models but queues the style's.
	reqModels := models
	if in.Style != nil {
		reqModels = styleModels
	}
	src := deref(in.SourceImage, "")
	proc := string(deref(in.SourceProcessing, gen.SourceProcessing("img2img")))
	ctype := ""
	if p.ControlType != nil {
		ctype = string(*p.ControlType)
	}
	if e := s.validateImageParams(in.Prompt, models, &p); e != nil {
		return 0, e
	}
	if e := s.validateImageWorkflow(&in, models, &p, src, proc, ctype); e != nil {
		return 0, e
	}
	disableBatching := deref(in.DisableBatching, false)
	if p.Workflow != nil && *p.Workflow == "qr_code" {
		disableBatching = true // the qr_code pipeline cannot batch
	}
	if r.Header.Get("Client-Agent") == "My-Project:v0.0.1:My-Contact" {
		return 0, herr(http.StatusForbidden, "BannedClientAgent", "This Client-Agent is banned.")
	}

	req := &request{id: s.newUUIDLocked(), kind: kindImage, user: u, ip: clientIP(r), created: now,
		imgIn: in, models: reqModels, prompt: in.Prompt, n: n, total: n,
		trustedWorkers: deref(in.TrustedWorkers, false), slowWorkers: deref(in.SlowWorkers, true),
		extraSlow: deref(in.ExtraSlowWorkers, false), workersList: firstN(in.Workers, 5),
		workerBlacklist: deref(in.WorkerBlacklist, false), disableBatching: disableBatching,
		nsfw: deref(in.NSFW, true), censor: deref(in.CensorNSFW, true), r2: deref(in.R2, true),
		sourceImage: src, sourceMask: deref(in.SourceMask, ""), sourceProc: proc, controlType: ctype,
		hasLoras: len(p.Loras) > 0, postProcessors: len(p.PostProcessing)}
	if u.ext.education { // education accounts get these whatever they ask
		req.nsfw, req.censor, req.trustedWorkers = false, true, true
	}
	req.width, req.height = deref(p.Width, 512), deref(p.Height, 512)
	req.steps = deref(p.Steps, 30)
	if ctype != "" {
		if p.Steps == nil {
			req.steps = 20
		} else if req.steps > 40 {
			req.steps = 40
		}
	}
	req.root = gen.ModelPayloadRootStable{
		CFGScale: ptr(deref(p.CFGScale, 5.0)), ClipSkip: p.ClipSkip, ControlType: p.ControlType,
		DenoisingStrength: p.DenoisingStrength, ExtraTexts: p.ExtraTexts, FacefixerStrength: p.FacefixerStrength,
		Height: ptr(req.height), Width: ptr(req.width), HiresFix: ptr(deref(p.HiresFix, false)),
		HiresFixDenoisingStrength: p.HiresFixDenoisingStrength, ImageIsControl: ptr(deref(p.ImageIsControl, false)),
		Karras: ptr(deref(p.Karras, true)), Loras: p.Loras, PostProcessing: p.PostProcessing,
		ReturnControlMap: ptr(deref(p.ReturnControlMap, false)),
		SamplerName:      ptr(deref(p.SamplerName, gen.SamplerName("k_euler_a"))), Special: p.Special,
		Tiling: ptr(deref(p.Tiling, false)), Tis: p.Tis, Transparent: ptr(deref(p.Transparent, false)), Workflow: p.Workflow,
	}
	if p.Seed != nil && *p.Seed != "" {
		v := seedToInt(*p.Seed)
		req.seed = &v
	}
	if p.SeedVariation != nil {
		req.seedVariation = *p.SeedVariation
		if req.seed == nil {
			v := uint64(s.rng.Uint32())
			req.seed = &v
		}
	}
	if src != "" && !strings.HasPrefix(src, "http") {
		if _, err := base64.StdEncoding.DecodeString(src); err != nil {
			return 0, herr(http.StatusBadRequest, "ImageValidationFailed", "Image validation failed: the source image is not valid base64.")
		}
	}
	req.perJob = imageKudos(req)
	estimate := func() float64 {
		m := 2.0
		if len(reqModels) > 0 {
			m = s.modelBaseline(reqModels[0])
		}
		return burn(req, req.perJob)*float64(n)*m + 1
	}
	if short, e := sharedKeyShort(key, estimate(), allowDowngrade, "request"); e != nil {
		return 0, e
	} else if short {
		downgrade = true
	}
	// Upfront kudos (the server's rule): reserved until the request ends. A user short of them
	// who allowed it gets the request downgraded instead.
	upfront, maxRes := s.upfrontRuleLocked(req, now)
	if upfront && s.availableKudosLocked(u) >= estimate() {
		req.hold = estimate()
	} else if upfront {
		if !allowDowngrade {
			return 0, herr(http.StatusForbidden, "KudosUpfront", "Due to heavy demand, for requests over "+strconv.Itoa(maxRes)+"x"+strconv.Itoa(maxRes)+
				" or over 50 steps (10 steps for LCM work, 30 steps for Stable Cascade, and half those steps for k_heun, dpmpp_sde, and dpm_2*)"+
				" the client needs to already have the required kudos. This request requires "+strconv.FormatFloat(round2(estimate()), 'f', -1, 64)+" kudos to fulfil.")
		}
		s.downgradeLocked(req, maxRes)
	}
	if key != nil {
		if msg := key.jobWithin(req.width*req.height, req.steps, -1); msg != "" {
			return 0, herr(http.StatusBadRequest, "BadRequest", msg)
		}
	}
	if deref(in.DryRun, false) {
		return http.StatusOK, gen.DryRunKudos{Kudos: pyRound(estimate())}
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
	activation := 1 + 5*float64(len(in.ExtraSourceImages)) + 2
	s.chargeLocked(req, activation)
	req.charged = activation
	s.requests[req.id] = req
	s.queue = append(s.queue, req)
	u.requests[kindImage]++
	resp := gen.RequestAsync{ID: ptr(req.id), Kudos: ptr(pyRound(req.perJob))}
	resp.Warnings = s.imageWarnings(models, &p)
	if !s.hasValidWorkerLocked(req, now) {
		resp.Message = ptr(noWorkerMessage)
		resp.Warnings = append(resp.Warnings, warning("NoAvailableWorker"))
	}
	return http.StatusAccepted, resp
}

func (s *Server) handleImagePop(r *http.Request) (int, any) {
	var in gen.PopInputStable
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if e := optRange("amount", in.Amount, 1, 20); e != nil {
		return 0, e
	}
	if e := optRange("threads", in.Threads, 1, 50); e != nil {
		return 0, e
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpRegisteredKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	w, refresh, ae := s.workerForPopLocked(r, kindImage, in.Name, in.PriorityUsernames, now)
	if ae != nil {
		return 0, ae
	}
	// require_upfront_kudos is not stored: it is honoured only on pops that refresh the settings.
	w.requireUpfront = refresh && deref(in.RequireUpfrontKudos, false)
	if refresh {
		if len(in.Models) == 0 {
			return 0, herr(http.StatusBadRequest, "BadRequest", "Unrecognised models or no models for this worker.")
		}
		var models []string
		for _, m := range in.Models {
			if w.owner.Customizer || s.knownImageModel(m) {
				models = append(models, m)
			}
		}
		if len(models) == 0 {
			return 0, herr(http.StatusBadRequest, "BadRequest", "Unrecognised models or no models for this worker.")
		}
		w.models = models
		w.bridgeAgent = deref(in.BridgeAgent, "unknown:0:unknown")
		w.threads = deref(in.Threads, 1)
		w.nsfw = deref(in.NSFW, true)
		w.blacklist = in.Blacklist
		w.maxPixels = deref(in.MaxPixels, 262144)
		w.allowImg2Img = deref(in.AllowImg2Img, true)
		w.allowPainting = deref(in.AllowPainting, true)
		w.allowUnsafeIP = deref(in.AllowUnsafeIpaddr, true)
		w.allowPostProcessing = deref(in.AllowPostProcessing, true)
		w.allowControlnet = deref(in.AllowControlnet, false)
		w.allowSDXLControlnet = deref(in.AllowSDXLControlnet, false)
		w.allowLora = deref(in.AllowLora, false)
		w.limitMaxSteps = deref(in.LimitMaxSteps, false)
		w.extraSlow = deref(in.ExtraSlowWorker, false)
	}
	amount := deref(in.Amount, 1)
	skipped := map[string]int{}
	for _, req := range s.prioritisedLocked(kindImage, w, in.PriorityUsernames, now) {
		if (w.maintenance || w.paused) && req.user != w.owner {
			continue
		}
		if reason := s.skipReasonLocked(w, req, now); reason != "" {
			skipped[reason]++
			continue
		}
		return http.StatusOK, s.startImageJobsLocked(r, w, req, in.Models, amount, now)
	}
	if w.maintenance {
		return 0, herr(http.StatusForbidden, "WorkerMaintenance", w.maintenanceText())
	}
	for _, k := range []string{"models", "worker_id", "img2img", "painting", "unsafe_ip", "nsfw", "lora", "post-processing", "controlnet", "performance", "untrusted", "bridge_version"} {
		skipped[k] += 0
	}
	return http.StatusOK, map[string]any{
		"payload": map[string]any{"ddim_steps": 30, "n_iter": 1, "image_is_control": false, "return_control_map": false,
			"sampler_name": "k_euler_a", "cfg_scale": 7.5, "height": 512, "width": 512, "karras": false, "tiling": false,
			"hires_fix": false, "transparent": false},
		"ids": []string{}, "messages": s.popMessagesLocked(w, now), "skipped": skipped, "source_processing": "img2img",
		// What the server has no value for, it sends as null (recorded 5.1.5 answer).
		"id": nil, "ttl": nil, "model": nil, "source_image": nil, "source_mask": nil, "extra_source_images": nil,
		"r2_upload": nil, "r2_uploads": nil,
	}
}

func (s *Server) startImageJobsLocked(hr *http.Request, w *worker, req *request, popModels []string, amount int, now time.Time) imagePop {
	batch := min(amount, req.n)
	if req.disableBatching {
		batch = 1
	}
	if p := float64(req.width*req.height) * (1 + 0.4*float64(req.postProcessors)); p > 0 && !w.builtin {
		safe := int(pyRound(float64(w.maxPixels) / 3.5 * float64(amount) / p))
		batch = min(batch, max(min(safe, amount), 1))
	}
	model := s.pickModelLocked(req.models, popModels)
	if w.builtin && len(req.models) == 0 && len(w.models) > 0 {
		model = w.models[0]
	}
	acc := accurateSteps(string(*req.root.SamplerName), req.steps)
	ttl := 30 + int(float64(acc)*2*float64(req.width*req.height)/float64(512*512))
	if req.controlType != "" {
		ttl *= 2
	}
	if s.heavyModel(req.models) {
		ttl *= 3
	}
	ttl = max(ttl, 150)
	if w.extraSlow {
		ttl *= 3
	}
	var seed string
	switch {
	case req.seed == nil:
		seed = strconv.FormatUint(uint64(s.rng.Uint32()), 10)
	case req.seedVariation > 0:
		v := *req.seed + uint64(req.seedVariation)*uint64(req.n)
		for v >= 1<<32 {
			v >>= 32
		}
		seed = strconv.FormatUint(v, 10)
	default:
		seed = strconv.FormatUint(*req.seed, 10)
	}
	rt := req.root
	payload := gen.ModelPayloadStable{
		CFGScale: rt.CFGScale, ClipSkip: rt.ClipSkip, ControlType: rt.ControlType, DdimSteps: ptr(req.steps),
		DenoisingStrength: rt.DenoisingStrength, ExtraTexts: rt.ExtraTexts, FacefixerStrength: rt.FacefixerStrength,
		Height: rt.Height, HiresFix: rt.HiresFix, HiresFixDenoisingStrength: rt.HiresFixDenoisingStrength,
		ImageIsControl: rt.ImageIsControl, Karras: rt.Karras, Loras: rt.Loras, NIter: ptr(batch),
		PostProcessing: rt.PostProcessing, Prompt: ptr(req.prompt), ReturnControlMap: rt.ReturnControlMap,
		SamplerName: rt.SamplerName, Seed: ptr(seed), Special: rt.Special, Tiling: rt.Tiling, Tis: rt.Tis,
		Transparent: rt.Transparent, Width: rt.Width, Workflow: rt.Workflow,
	}
	if !req.nsfw && req.censor {
		payload.UseNSFWCensor = ptr(true)
	}
	out := imagePop{Payload: &payload, Model: model, TTL: ttl, Skipped: map[string]int{}, Messages: s.popMessagesLocked(w, now),
		SourceProcessing: req.sourceProc, ExtraSourceImages: req.imgIn.ExtraSourceImages}
	base := ""
	if hr != nil {
		base = baseURLOf(hr)
	}
	r2Source := w.builtin || grantsOf(w).Has("r2_source") // else the source travels inline as base64
	if req.sourceImage != "" {
		out.SourceImage = ptr(s.sourceForWorkerLocked(base, req.id+"_src.webp", req.sourceImage, r2Source, now))
	}
	if req.sourceMask != "" {
		out.SourceMask = ptr(s.sourceForWorkerLocked(base, req.id+"_msk.webp", req.sourceMask, r2Source, now))
	}
	seedInt, _ := strconv.Atoi(seed)
	for i := 0; i < batch; i++ {
		j := &job{id: s.newUUIDLocked(), req: req, worker: w, model: model, popped: now, ttl: ttl, state: jobProcessing, seed: seedInt}
		req.jobs = append(req.jobs, j)
		s.jobs[j.id] = j
		out.Ids = append(out.Ids, j.id)
		if req.r2 && base != "" {
			out.R2Uploads = append(out.R2Uploads, s.r2URL(base, http.MethodPut, j.id+".webp", now))
		}
	}
	out.ID = out.Ids[0]
	if len(out.R2Uploads) > 0 {
		out.R2Upload = ptr(out.R2Uploads[0])
	}
	req.n -= batch
	req.expiry = now.Add(s.cfg.expiry)
	if w.extraSlow {
		req.expiry = now.Add(3 * s.cfg.expiry)
	}
	w.uncompleted += batch
	s.compactQueueLocked()
	return out
}

func (s *Server) sourceForWorkerLocked(base, object, src string, r2 bool, now time.Time) string {
	if strings.HasPrefix(src, "http") || !r2 || base == "" {
		return src
	}
	if _, ok := s.r2[object]; !ok {
		b, _ := base64.StdEncoding.DecodeString(src)
		s.r2[object] = b
	}
	return s.r2URL(base, http.MethodGet, object, now)
}

type imageSubmit struct {
	ID          *string                        `json:"id"`
	Generation  *string                        `json:"generation"`
	State       *string                        `json:"state"`
	Seed        *json.Number                   `json:"seed"`
	Censored    *bool                          `json:"censored"`
	GenMetadata []gen.GenerationMetadataStable `json:"gen_metadata"`
}

func (s *Server) handleImageSubmit(r *http.Request) (int, any) {
	var in imageSubmit
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if in.ID == nil {
		return 0, validationErr("id", "The processing generation uuid. Missing required parameter in the JSON body")
	}
	if in.Generation == nil {
		return 0, validationErr("generation", "The R2 upload or a base64 image. Missing required parameter in the JSON body")
	}
	if in.Seed == nil {
		return 0, validationErr("seed", "The seed of the generation. Missing required parameter in the JSON body")
	}
	seed, err := in.Seed.Int64()
	if err != nil {
		return 0, validationErr("seed", "invalid literal for int() with base 10")
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
	j, status, body := s.submittedJobLocked(r, *in.ID, kindImage)
	if j == nil {
		return status, body
	}
	if state == "faulted" {
		s.faultJobLocked(j)
		return http.StatusOK, gen.GenerationSubmitted{Reward: ptr(0.0)}
	}
	j.seed = int(seed)
	j.genMeta = in.GenMetadata
	for _, m := range in.GenMetadata {
		if m.Type == "censorship" {
			j.censored = true
		}
	}
	if *in.Generation == "R2" {
		j.imgIsR2 = true
	} else if b, err := base64.StdEncoding.DecodeString(*in.Generation); err == nil {
		j.img = b
	} else {
		j.img = []byte(*in.Generation)
	}
	reward := s.finishImageJobLocked(j, now)
	if len(in.GenMetadata) > 50 {
		return 0, herr(http.StatusBadRequest, "BadRequest", "Too many gen_metadata entries.")
	}
	return http.StatusOK, gen.GenerationSubmitted{Reward: ptr(reward)}
}

func (s *Server) handleImageCheck(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	if ca := r.Header.Get("Client-Agent"); (ca == "" || ca == "unknown:0:unknown") && s.ipTimeoutLocked(clientIP(r), now) > 0 {
		return 0, herr(http.StatusForbidden, "Forbidden", "Your IP address has been blocked due to using an unknown client "+
			"which is sending too many garbage requests. Please contact us on discord.")
	}
	req, e := s.lookupLocked(r.PathValue("id"), kindImage)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, s.statusOfLocked(req, now)
}

func (s *Server) imageStatusLocked(hr *http.Request, req *request, now time.Time) imageStatus {
	c := s.statusOfLocked(req, now)
	st := imageStatus{statusCheck: c, Generations: []imageGeneration{}}
	base := baseURLOf(hr)
	for _, j := range req.jobs {
		if j.state != jobDone {
			continue
		}
		g := imageGeneration{ID: j.id, Seed: strconv.Itoa(j.seed), Model: j.model, WorkerID: j.worker.id,
			WorkerName: j.worker.name, Censored: j.censored, GenMetadata: j.genMeta, State: "ok"}
		if g.GenMetadata == nil {
			g.GenMetadata = []gen.GenerationMetadataStable{}
		}
		object := j.id + ".webp"
		if !j.imgIsR2 {
			if _, ok := s.r2[object]; !ok {
				s.r2[object] = j.img
			}
		}
		if req.r2 {
			g.Img = s.r2URL(base, http.MethodGet, object, now)
		} else if b, ok := s.r2[object]; ok {
			g.Img = base64.StdEncoding.EncodeToString(b)
		} else {
			g.Img = "N/A"
		}
		st.Generations = append(st.Generations, g)
	}
	return st
}

func (s *Server) handleImageStatus(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	req, e := s.lookupLocked(r.PathValue("id"), kindImage)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, s.imageStatusLocked(r, req, now)
}

func (s *Server) handleImageCancel(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	req, e := s.lookupLocked(r.PathValue("id"), kindImage)
	if e != nil {
		return 0, e
	}
	st := s.imageStatusLocked(r, req, now)
	finished := 0
	for _, j := range req.jobs {
		if j.state == jobDone {
			finished++
		}
	}
	req.n = 0
	req.total = finished
	req.cancelled = true
	s.compactQueueLocked()
	return http.StatusOK, st
}

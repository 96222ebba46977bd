package hordetest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

const helpRegisteredKey = "The API Key corresponding to a registered user."

var samplerNames = []string{"k_lms", "k_heun", "k_euler", "k_euler_a", "k_dpm_2", "k_dpm_2_a", "k_dpm_fast",
	"k_dpm_adaptive", "k_dpmpp_2s_a", "k_dpmpp_2m", "dpmsolver", "k_dpmpp_sde", "DDIM", "lcm"}

// referenceImageModels are image model names a worker may offer without being a customizer,
// in addition to the models the simulator was configured with.
var referenceImageModels = []string{"stable_diffusion", "stable_diffusion_2.1", "SDXL 1.0",
	"AlbedoBase XL (SDXL)", "Deliberate", "Dreamshaper", "Flux.1-Schnell fp8 (Compact)",
	"Stable Cascade 1.0", "Realistic Vision"}

func (s *Server) routes(add func(method, path, op string, h handlerFunc)) {
	add("GET", "/v2/status/heartbeat", "get_heartbeat", s.handleHeartbeat)
	add("GET", "/v2/find_user", "get_find_user", s.handleFindUser)
	add("GET", "/v2/users", "get_users", s.handleUsers)
	add("GET", "/v2/users/{user_id}", "get_user_single", s.handleUserSingle)
	add("POST", "/v2/generate/async", "post_image_async_generate", s.handleImageAsync)
	add("GET", "/v2/generate/check/{id}", "get_image_async_check", s.handleImageCheck)
	add("GET", "/v2/generate/status/{id}", "get_image_async_status", s.handleImageStatus)
	add("DELETE", "/v2/generate/status/{id}", "delete_image_async_status", s.handleImageCancel)
	add("POST", "/v2/generate/pop", "post_image_job_pop", s.handleImagePop)
	add("POST", "/v2/generate/submit", "post_image_job_submit", s.handleImageSubmit)
	add("POST", "/v2/generate/text/async", "post_text_async_generate", s.handleTextAsync)
	add("GET", "/v2/generate/text/status/{id}", "get_text_async_status", s.handleTextStatus)
	add("DELETE", "/v2/generate/text/status/{id}", "delete_text_async_status", s.handleTextCancel)
	add("POST", "/v2/generate/text/pop", "post_text_job_pop", s.handleTextPop)
	add("POST", "/v2/generate/text/submit", "post_text_job_submit", s.handleTextSubmit)
	add("POST", "/v2/interrogate/async", "post_interrogate", s.handleInterrogateAsync)
	add("GET", "/v2/interrogate/status/{id}", "get_interrogation_status", s.handleInterrogateStatus)
	add("DELETE", "/v2/interrogate/status/{id}", "delete_interrogation_status", s.handleInterrogateCancel)
	add("POST", "/v2/interrogate/pop", "post_interrogate_pop", s.handleInterrogatePop)
	add("POST", "/v2/interrogate/submit", "post_interrogate_submit", s.handleInterrogateSubmit)
	add("GET", "/v2/workers", "get_workers", s.handleWorkers)
	add("GET", "/v2/workers/{worker_id}", "get_worker_single", s.handleWorkerSingle)
	add("PUT", "/v2/workers/{worker_id}", "put_worker_single", s.handleWorkerPut)
	add("GET", "/v2/workers/name/{worker_name}", "get_worker_single_name", s.handleWorkerByName)
	add("POST", "/v2/kudos/transfer", "post_transfer_kudos", s.handleTransfer)
	add("GET", "/v2/status/models", "get_models", s.handleModels)
	add("GET", "/v2/status/models/{model_name}", "get_model_single", s.handleModelSingle)
	add("GET", "/v2/status/modes", "get_horde_modes", s.handleModes)
	add("GET", "/v2/status/news", "get_horde_news", s.handleNews)
	add("GET", "/v2/status/performance", "get_horde_load", s.handlePerformance)
	add("GET", "/v2/stats/img/totals", "get_image_horde_stats_totals", s.handleImgTotals)
	add("GET", "/v2/stats/img/models", "get_image_horde_stats_models", s.handleImgModels)
	add("GET", "/v2/stats/text/totals", "get_text_horde_stats_totals", s.handleTextTotals)
	add("GET", "/v2/stats/text/models", "get_text_horde_stats_models", s.handleTextModels)
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// validateImageInput applies the schema limits of the image request model.
func validateImageInput(in *gen.GenerationInputStable, promptPresent bool) *apiError {
	if !promptPresent {
		return validationErr("prompt", "'prompt' is a required property")
	}
	if in.Prompt == "" {
		return validationErr("prompt", "'' is too short")
	}
	if in.Webhook != nil && (len(*in.Webhook) < 10 || len(*in.Webhook) > 1024) {
		return validationErr("webhook", strconv.Quote(*in.Webhook)+" is too short")
	}
	if in.Style != nil && (len(*in.Style) < 3 || len(*in.Style) > 1024) {
		return validationErr("style", strconv.Quote(*in.Style)+" is too short")
	}
	if in.SourceProcessing != nil {
		switch *in.SourceProcessing {
		case "img2img", "inpainting", "outpainting", "remix":
		default:
			return validationErr("source_processing", fmt.Sprintf("'%s' is not one of ['img2img', 'inpainting', 'outpainting', 'remix']", *in.SourceProcessing))
		}
	}
	p := in.Params
	if p == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    *int
	}{{"width", p.Width}, {"height", p.Height}} {
		if d.v == nil {
			continue
		}
		if e := intRange("params."+d.name, *d.v, 64, 3072); e != nil {
			return e
		}
		if *d.v%64 != 0 {
			return validationErr("params."+d.name, fmt.Sprintf("%d is not a multiple of 64", *d.v))
		}
	}
	checks := []struct {
		name     string
		v        *int
		min, max int
	}{{"steps", p.Steps, 1, 500}, {"n", p.N, 1, 20}, {"clip_skip", p.ClipSkip, 1, 12}, {"seed_variation", p.SeedVariation, 1, 1000}}
	for _, c := range checks {
		if e := optRange("params."+c.name, c.v, c.min, c.max); e != nil {
			return e
		}
	}
	if p.CFGScale != nil && (*p.CFGScale < 0 || *p.CFGScale > 100) {
		return validationErr("params.cfg_scale", fmt.Sprintf("%v is out of range 0..100", *p.CFGScale))
	}
	if p.DenoisingStrength != nil && (*p.DenoisingStrength < 0.01 || *p.DenoisingStrength > 1) {
		return validationErr("params.denoising_strength", fmt.Sprintf("%v is out of range 0.01..1", *p.DenoisingStrength))
	}
	if p.SamplerName != nil {
		ok := false
		for _, n := range samplerNames {
			ok = ok || string(*p.SamplerName) == n
		}
		if !ok {
			return validationErr("params.sampler_name", fmt.Sprintf("'%s' is not one of %s", *p.SamplerName, pyList(samplerNames)))
		}
	}
	seen := map[gen.PostProcessor]bool{}
	for _, pp := range p.PostProcessing {
		if seen[pp] {
			return validationErr("params.post_processing", "has non-unique elements")
		}
		seen[pp] = true
	}
	for i, l := range p.Loras {
		if l.Model != nil && (*l.Model < -5 || *l.Model > 5) {
			return validationErr(fmt.Sprintf("params.loras.%d.model", i), fmt.Sprintf("%v is out of range -5..5", *l.Model))
		}
		if l.Clip != nil && (*l.Clip < -5 || *l.Clip > 5) {
			return validationErr(fmt.Sprintf("params.loras.%d.clip", i), fmt.Sprintf("%v is out of range -5..5", *l.Clip))
		}
	}
	return nil
}

func pyList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func intRange(field string, v, min, max int) *apiError {
	if v < min {
		return validationErr(field, fmt.Sprintf("%d is less than the minimum of %d", v, min))
	}
	if v > max {
		return validationErr(field, fmt.Sprintf("%d is greater than the maximum of %d", v, max))
	}
	return nil
}

// optRange is intRange for an optional field: an absent value passes.
func optRange(field string, v *int, min, max int) *apiError {
	if v == nil {
		return nil
	}
	return intRange(field, *v, min, max)
}

// seedToInt turns a seed text into the server's integer seed.
func seedToInt(s string) uint64 {
	v := new(big.Int)
	if _, ok := v.SetString(s, 10); !ok || v.Sign() < 0 {
		b := []byte(s)
		rev := make([]byte, len(b))
		for i := range b {
			rev[len(b)-1-i] = b[i]
		}
		v.SetBytes(rev) // little-endian bytes
	}
	lim := new(big.Int).Lsh(big.NewInt(1), 32)
	for v.Cmp(lim) >= 0 {
		v.Rsh(v, 32)
	}
	return v.Uint64()
}

func accurateSteps(sampler string, steps int) int {
	switch sampler {
	case "k_dpm_adaptive":
		return 40
	case "k_heun", "k_dpm_2", "k_dpm_2_a", "k_dpmpp_2s_a", "k_dpmpp_sde":
		return steps * 2
	}
	return steps
}

// round2 is Python's round(x, 2): correctly rounded, ties to even.
func round2(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return v
}

// pyRound is Python's round(x): ties to even.
func pyRound(x float64) float64 { return math.RoundToEven(x) }

// modelBaseline is the kudos multiplier of a model, from its name.
func modelBaseline(model string) float64 {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "qwen"):
		return 12
	case strings.Contains(m, "flux"), strings.Contains(m, "z_image"), strings.Contains(m, "z-image"):
		return 8
	case strings.Contains(m, "cascade"):
		return 4
	case strings.Contains(m, "sdxl"), strings.Contains(m, " xl"):
		return 2
	}
	return 1
}

// imageKudos is the per-job kudos K of a request (the server's documented fallback formula).
func imageKudos(r *request) float64 {
	res := math.Pow(float64(r.width*r.height-64*64), 1.75) / math.Pow(float64(1024*1024-64*64), 1.75)
	k := round2(0.1232*float64(r.steps) + res*(0.1232*float64(r.steps)*8.75))
	for i := 0; i < r.postProcessors; i++ {
		k = round2(k * 1.2)
	}
	if r.controlType != "" && !deref(r.root.ReturnControlMap, false) {
		k = round2(k * 3)
	}
	k += 3 * float64(len(r.root.Loras))
	if len(r.root.Tis) > 0 {
		k++
	}
	return k
}

// burn is the requester's charge f(x) for a job reward x.
func burn(r *request, x float64) float64 {
	if r.sourceImage != "" {
		x *= 1.3
	}
	x++
	if !r.slowWorkers {
		x *= 1.2
	}
	if r.workerBlacklist {
		x *= 1.1
	}
	return x
}

func (s *Server) authLocked(r *http.Request, required bool, help string) (*user, *apiError) {
	key := r.Header.Get("apikey")
	if key == "" {
		if required {
			return nil, missingAPIKey(help)
		}
		key = AnonymousAPIKey
	}
	u := s.usersByKey[key]
	if u == nil {
		return nil, herr(http.StatusUnauthorized, "InvalidAPIKey", "No user matching sent API Key. Have you remembered to register at https://aihorde.net/register ?")
	}
	return u, nil
}

// waitingJobsLocked counts the user's waiting (not yet popped) jobs of a kind.
func (s *Server) waitingJobsLocked(u *user, kind string) int {
	n := 0
	for _, r := range s.queue {
		if r.user == u && r.kind == kind && !r.faulted {
			n += r.n
		}
	}
	return n
}

func (s *Server) activeThreadsLocked(kind string, now time.Time) int {
	t := 0
	for _, w := range s.workers {
		if w.kind == kind && w.online(now) && !w.maintenance {
			t += w.threads
		}
	}
	return t
}

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
	now := s.clock.Now()
	s.sweepLocked(now)
	if s.maintenance {
		return 0, herr(http.StatusBadRequest, "MaintenanceMode", "AI Horde has entered maintenance mode. Please try again later.")
	}
	if in.Style != nil {
		return 0, herr(http.StatusNotFound, "StyleNotFound", "Style '"+*in.Style+"' not found.")
	}
	if in.Webhook != nil && !strings.HasPrefix(*in.Webhook, "https://") {
		return 0, herr(http.StatusBadRequest, "BadRequest", "webhook must be an https URL")
	}
	u, ae := s.authLocked(r, true, helpRegisteredKey)
	if ae != nil {
		return 0, ae
	}
	if in.ProxiedAccount != nil {
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
	// Absent means the parser's default; an explicit [] (or null) means any model.
	var models []string
	switch {
	case in.Models != nil:
		models = *in.Models
	case !hasKey(raw, "models"):
		models = []string{"stable_diffusion"}
	}
	src := deref(in.SourceImage, "")
	proc := string(deref(in.SourceProcessing, gen.SourceProcessing("img2img")))
	ctype := ""
	if p.ControlType != nil {
		ctype = string(*p.ControlType)
	}
	if e := validateImageParams(in.Prompt, models, &p); e != nil {
		return 0, e
	}
	if e := validateImageWorkflow(&in, models, &p, src, proc, ctype); e != nil {
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
		imgIn: in, models: models, prompt: in.Prompt, n: n, total: n,
		trustedWorkers: deref(in.TrustedWorkers, false), slowWorkers: deref(in.SlowWorkers, true),
		extraSlow: deref(in.ExtraSlowWorkers, false), workersList: firstN(in.Workers, 5),
		workerBlacklist: deref(in.WorkerBlacklist, false), disableBatching: disableBatching,
		nsfw: deref(in.NSFW, true), censor: deref(in.CensorNSFW, true), r2: deref(in.R2, true),
		sourceImage: src, sourceMask: deref(in.SourceMask, ""), sourceProc: proc, controlType: ctype,
		hasLoras: len(p.Loras) > 0, postProcessors: len(p.PostProcessing)}
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
		if len(models) > 0 {
			m = modelBaseline(models[0])
		}
		return burn(req, req.perJob)*float64(n)*m + 1
	}
	// Upfront kudos (the server's rule, without holds).
	maxRes := 1024 + 10*s.activeThreadsLocked(kindImage, now) - int(pyRound(0.9*float64(s.queuedJobsLocked(kindImage))))
	maxRes = max(min(maxRes, 1024), 576)
	acc := accurateSteps(string(*req.root.SamplerName), req.steps)
	upfront := !req.slowWorkers || acc > 40 || req.width*req.height > maxRes*maxRes || (ctype != "" && acc > 20)
	if upfront {
		if u.Kudos-u.floor() < estimate() {
			return 0, herr(http.StatusForbidden, "KudosUpfront", "This request requires "+strconv.FormatFloat(round2(estimate()), 'f', -1, 64)+" kudos to fulfil. You need to have at least this amount of kudos to request it.")
		}
	}
	if deref(in.DryRun, false) {
		return http.StatusOK, gen.DryRunKudos{Kudos: pyRound(estimate())}
	}
	s.seq++
	req.seq = s.seq
	req.priority = math.Round(u.Kudos)
	req.expiry = now.Add(s.cfg.expiry)
	activation := 1 + 5*float64(len(in.ExtraSourceImages)) + 2
	s.debitLocked(u, activation)
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

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

func anyModel(models []string, sub string) bool {
	for _, m := range models {
		if strings.Contains(strings.ToLower(m), sub) {
			return true
		}
	}
	return false
}

func isPostProcessor(name string) bool {
	switch name {
	case "GFPGAN", "GFPGANv1.3", "RealESRGAN_x4plus", "RealESRGAN_x2plus", "RealESRGAN_x4plus_anime_6B", "NMKD_Siax",
		"4x_AnimeSharp", "strip_background", "CodeFormers", "RestoreFormer", "2xModernSpanimationV1", "4xLSDIRplus",
		"4xNomos2_hq_dat2", "4xNomos2_realplksr_dysample", "4xNomos8kSC", "4xNomosWebPhoto_RealPLKSR":
		return true
	}
	return false
}

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

// bridge capabilities of a bridge agent "name:version:url".
type bridgeCaps struct {
	known                                            bool
	r2, r2Source, lora, extraSources, controlnet, pp bool
	img2img, painting                                bool
	factor                                           float64
}

func capsOf(agent string) bridgeCaps {
	parts := strings.SplitN(agent, ":", 3)
	name := parts[0]
	ver := 0
	if len(parts) > 1 {
		ver, _ = strconv.Atoi(strings.SplitN(parts[1], ".", 2)[0])
	}
	switch name {
	case "AI Horde Worker reGen":
		f := 0.9
		if ver >= 13 {
			f = 1.0
		}
		return bridgeCaps{known: true, r2: true, r2Source: true, lora: ver >= 2, extraSources: ver >= 5, controlnet: true,
			pp: true, img2img: true, painting: true, factor: f}
	case "AI Horde Worker":
		return bridgeCaps{known: true, r2: ver >= 10, r2Source: ver >= 17, lora: ver >= 22, controlnet: ver >= 19, pp: true,
			img2img: true, painting: true, factor: 0.9}
	case "SD-WebUI Stable Horde Worker Bridge", "HordeAutoWebBridge":
		return bridgeCaps{known: true, r2: true, pp: true, img2img: true, painting: true, factor: 0.75}
	}
	return bridgeCaps{factor: 0.75}
}

// skipReasonLocked is the first reason worker w cannot take request r ("" if it can).
func (s *Server) skipReasonLocked(w *worker, r *request, now time.Time) string {
	if r.kind == kindText {
		return s.textSkipReason(w, r)
	}
	caps := capsOf(w.bridgeAgent)
	if w.builtin {
		caps = bridgeCaps{known: true, r2: true, r2Source: true, lora: true, extraSources: true, controlnet: true, pp: true,
			img2img: true, painting: true, factor: 1}
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
	if r.sourceImage != "" {
		if r.sourceProc == "inpainting" || r.sourceProc == "outpainting" {
			if !caps.painting || !w.allowPainting {
				return "painting"
			}
		} else if !caps.img2img || !w.allowImg2Img {
			return "img2img"
		}
	}
	if r.postProcessors > 0 && !caps.pp {
		return "bridge_version"
	}
	if r.r2 && !caps.r2 {
		return "bridge_version"
	}
	if len(r.imgIn.ExtraSourceImages) > 0 && !caps.extraSources {
		return "bridge_version"
	}
	if r.hasLoras {
		if !caps.lora {
			return "bridge_version"
		}
		if !w.allowLora {
			return "lora"
		}
	}
	if r.controlType != "" {
		if !caps.controlnet {
			return "bridge_version"
		}
		if !w.allowControlnet {
			return "controlnet"
		}
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
	created := false
	if w == nil {
		lw := strings.ToLower(wn)
		if strings.Contains(lw, "colab") || strings.Contains(lw, "tpu") || strings.Contains(lw, "google") {
			return nil, false, herr(http.StatusBadRequest, "BadRequest", "Worker names containing colab, tpu or google are not allowed.")
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
	now := s.clock.Now()
	s.sweepLocked(now)
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
		"ids": []string{}, "messages": []any{}, "skipped": skipped, "source_processing": "img2img",
	}
}

func (s *Server) knownImageModel(m string) bool {
	for _, k := range s.cfg.imageModels {
		if k == m {
			return true
		}
	}
	for _, k := range referenceImageModels {
		if k == m {
			return true
		}
	}
	return false
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
	if anyModel(req.models, "flux") || anyModel(req.models, "qwen") || anyModel(req.models, "z_image") {
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
	out := imagePop{Payload: &payload, Model: model, TTL: ttl, Skipped: map[string]int{}, Messages: []any{},
		SourceProcessing: req.sourceProc, ExtraSourceImages: req.imgIn.ExtraSourceImages}
	base := ""
	if hr != nil {
		base = baseURLOf(hr)
	}
	caps := capsOf(w.bridgeAgent)
	if req.sourceImage != "" {
		out.SourceImage = ptr(s.sourceForWorkerLocked(base, req.id+"_src.webp", req.sourceImage, caps.r2Source, now))
	}
	if req.sourceMask != "" {
		out.SourceMask = ptr(s.sourceForWorkerLocked(base, req.id+"_msk.webp", req.sourceMask, caps.r2Source, now))
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
	now := s.clock.Now()
	s.sweepLocked(now)
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

// finishImageJobLocked records a delivered image job: rewards, charges, stats.
func (s *Server) finishImageJobLocked(j *job, now time.Time) float64 {
	req := j.req
	j.state = jobDone
	j.submits++
	j.finishedAt = now
	reward := round2(req.perJob * modelBaseline(j.model))
	j.reward = reward
	credit := reward * capsOf(j.worker.bridgeAgent).factor
	if j.worker.builtin {
		credit = reward
	}
	if !j.worker.owner.Trusted {
		credit /= 2
	}
	j.worker.owner.Kudos += credit
	j.worker.owner.earned += credit
	j.worker.kudosEarned += credit
	j.worker.fulfilled++
	j.worker.uncompleted--
	things := float64(req.width * req.height * accurateSteps(string(*req.root.SamplerName), req.steps))
	j.worker.things += things
	charge := burn(req, reward)
	if j.censored {
		charge = burn(req, 0)
	}
	s.debitLocked(req.user, charge)
	req.charged += charge
	req.expiry = now.Add(s.cfg.expiry)
	s.stats.images++
	s.stats.ps += int(things)
	s.stats.imgModels[j.model]++
	return reward
}

// faultJobLocked marks a processing job faulted (reported or timed out) and requeues it.
func (s *Server) faultJobLocked(j *job) {
	if j.state != jobProcessing {
		return
	}
	req := j.req
	j.state = jobFaulted
	s.logAbortLocked(j.worker)
	j.worker.uncompleted--
	req.faultedJobs++
	finished := 0
	for _, x := range req.jobs {
		if x.state == jobDone {
			finished++
		}
	}
	if req.kind == kindText || finished < req.total {
		req.n++
		if req.n == 1 && !req.faulted {
			s.queue = append(s.queue, req)
			s.requeueSortLocked()
		}
	}
	if req.faultedJobs >= 3 {
		req.faulted = true
		s.compactQueueLocked()
	}
}

// requeueSortLocked keeps the queue in creation order after a re-insertion.
func (s *Server) requeueSortLocked() {
	for i := len(s.queue) - 1; i > 0 && s.queue[i].seq < s.queue[i-1].seq; i-- {
		s.queue[i], s.queue[i-1] = s.queue[i-1], s.queue[i]
	}
}

// statusOf computes the check/status counters of a request (1.7).
func (s *Server) statusOfLocked(req *request, now time.Time) statusCheck {
	finished, processing := 0, 0
	for _, j := range req.jobs {
		switch j.state {
		case jobDone:
			finished++
		case jobProcessing:
			processing++
		}
	}
	waiting := min(max(req.n, 0), max(req.total-processing-finished, 0))
	done := false
	switch {
	case req.faulted:
		done = true
	case req.n > 0:
		done = false
	default:
		done = finished+req.faultedJobs-processing >= req.total
	}
	qpos := 0
	var qthings float64
	qn := 0
	if req.n > 0 && !req.faulted {
		for i, r := range s.orderedQueueLocked(req.kind, now) {
			qthings += r.things() * float64(r.n)
			qn += r.n
			if r == req {
				qpos = i + 1
				break
			}
		}
	}
	wait := 0
	if qpos > 0 {
		threads := max(min(s.activeThreadsLocked(req.kind, now), qn), 1)
		wait = int(pyRound(qthings / 1e6 / float64(threads)))
	}
	possible := processing > 0 || s.hasValidWorkerLocked(req, now)
	return statusCheck{Done: done, Faulted: req.faulted, Finished: finished, IsPossible: possible,
		Kudos: pyRound(req.charged), Processing: processing, QueuePosition: qpos, Restarted: req.faultedJobs,
		WaitTime: wait, Waiting: waiting}
}

func (r *request) things() float64 {
	if r.kind == kindText {
		return float64(r.maxLength)
	}
	return float64(r.width * r.height * accurateSteps(string(*r.root.SamplerName), r.steps))
}

func (s *Server) lookupLocked(id, kind string) (*request, *apiError) {
	req := s.requests[id]
	if req == nil || req.kind != kind {
		return nil, herr(http.StatusNotFound, "RequestNotFound", "Request with ID '"+id+"' not found.")
	}
	return req, nil
}

func (s *Server) handleImageCheck(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweepLocked(now)
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
	now := s.clock.Now()
	s.sweepLocked(now)
	req, e := s.lookupLocked(r.PathValue("id"), kindImage)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, s.imageStatusLocked(r, req, now)
}

func (s *Server) handleImageCancel(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweepLocked(now)
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

func isUpscaler(pp gen.PostProcessor) bool {
	n := string(pp)
	return strings.Contains(n, "ESRGAN") || strings.HasPrefix(n, "2x") || strings.HasPrefix(n, "4x") || n == "NMKD_Siax"
}

// validateImageParams applies the server's parameter rules (ParamValidator) to a request.
func validateImageParams(prompt string, models []string, p *gen.ModelGenerationInputStable) *apiError {
	bad := func(rc, msg string) *apiError { return herr(http.StatusBadRequest, rc, msg) }
	if deref(p.HiresFix, false) && (anyModel(models, "flux") || anyModel(models, "qwen") || anyModel(models, "z_image")) {
		return bad("HiResMismatch", "hires_fix is not available for this model.")
	}
	if len(p.Loras) > 5 {
		return bad("TooManyLoras", "You cannot request more than 5 loras per generation.")
	}
	for _, l := range p.Loras {
		if deref(l.IsVersion, false) {
			if _, err := strconv.Atoi(l.Name); err != nil {
				return bad("BadLoraVersion", "A lora version must be sent as the version id.")
			}
		}
	}
	if len(p.Tis) > 20 {
		return bad("TooManyTIs", "You cannot request more than 20 Textual Inversions per generation.")
	}
	if len(strings.Fields(prompt)) > 7500 {
		return bad("InvalidPromptSize", "The prompt is too long (more than 7500 words).")
	}
	for _, m := range models {
		if isPostProcessor(m) {
			return bad("UnexpectedModelName", "A post-processor is not a model.")
		}
	}
	ups := 0
	for _, pp := range p.PostProcessing {
		if isUpscaler(pp) {
			ups++
		}
	}
	if ups > 1 {
		return bad("TooManyUpscalers", "Only one upscaler per request.")
	}
	if p.CFGScale != nil && math.Abs(*p.CFGScale*100-math.Round(*p.CFGScale*100)) > 1e-6 {
		return bad("BadCFGDecimals", "cfg_scale must have at most 2 decimals.")
	}
	return nil
}

// validateImageWorkflow applies the image endpoint's own checks, in the server's order.
func validateImageWorkflow(in *gen.GenerationInputStable, models []string, p *gen.ModelGenerationInputStable, src, proc, ctype string) *apiError {
	bad := func(rc, msg string) *apiError { return herr(http.StatusBadRequest, rc, msg) }
	if p.Special != nil && len(*p.Special) > 0 {
		return bad("BadRequest", "The special field is reserved for special users.")
	}
	if in.SourceMask != nil && src == "" {
		return bad("SourceMaskUnnecessary", "A source_mask needs a source_image.")
	}
	if ctype != "" {
		for _, m := range models {
			if m == "pix2pix" {
				return bad("ControlNetUnsupported", "ControlNet cannot be used with this model.")
			}
		}
		if src == "" {
			return bad("ControlNetSourceMissing", "ControlNet needs a source image.")
		}
		if proc == "inpainting" {
			return bad("ControlNetInpaintingMismatch", "ControlNet does not work with inpainting.")
		}
		for _, m := range models {
			if modelBaseline(m) > 1 {
				return bad("ControlNetMismatch", "ControlNet does not work with this model family.")
			}
		}
	}
	if deref(p.Transparent, false) {
		if len(in.ExtraSourceImages) > 0 {
			return bad("InvalidTransparencyImg2Img", "Transparent images cannot use extra source images.")
		}
		if ctype != "" {
			return bad("InvalidTransparencyCN", "Transparent images cannot use ControlNet.")
		}
	}
	if proc == "remix" {
		for _, m := range models {
			if !strings.Contains(strings.ToLower(m), "cascade") {
				return bad("InvalidRemix", "Remix needs a Stable Cascade model.")
			}
		}
	}
	if len(in.ExtraSourceImages) > 0 && proc != "remix" {
		return bad("InvalidExtraSourceImages.", "Extra source images are only accepted with remix.")
	}
	qr := p.Workflow != nil && *p.Workflow == "qr_code"
	if len(p.ExtraTexts) > 0 && !qr {
		return bad("InvalidExtraTexts.", "Extra texts are only accepted by the qr_code workflow.")
	}
	if qr {
		found := false
		for _, t := range p.ExtraTexts {
			found = found || deref(t.Reference, "") == "qr_code"
		}
		if !found {
			return bad("MissingExtraTexts.", "The qr_code workflow needs an extra text with reference qr_code.")
		}
	}
	if src == "" {
		for _, m := range models {
			if m == "Stable Diffusion 2 Depth" || m == "pix2pix" {
				return bad("SourceImageRequiredForModel", "This model needs a source image.")
			}
		}
	}
	return nil
}

// noWorkerMessage says that no active worker can serve a request (simulator wording).
const noWorkerMessage = "Warning: no active worker can serve this request right now; it expires 20 minutes after its last activity unless one appears. A smaller size or another model may help."

var warningText = map[string]string{
	"NoAvailableWorker": noWorkerMessage,
	"ClipSkipMismatch":  "clip_skip differs from what a requested model requires.",
	"StepsTooFew":       "steps are below the minimum of a requested model.",
	"StepsTooMany":      "steps are above the maximum of a requested model.",
	"CfgScaleMismatch":  "cfg_scale differs from what a requested model requires.",
	"CfgScaleTooSmall":  "cfg_scale is below the minimum of a requested model.",
	"CfgScaleTooLarge":  "cfg_scale is above the maximum of a requested model.",
	"SamplerMismatch":   "sampler_name is not among the samplers a requested model supports.",
	"SchedulerMismatch": "the scheduler (karras or simple) is not among those a requested model supports.",
}

func warning(code string) gen.RequestSingleWarning {
	return gen.RequestSingleWarning{Code: ptr(gen.WarningCode(code)), Message: ptr(warningText[code])}
}

// imageWarnings compares the request's params with the requirements registered for its
// models (WithModelRequirements), with the defaults the server uses for the comparison.
func (s *Server) imageWarnings(models []string, p *gen.ModelGenerationInputStable) []gen.RequestSingleWarning {
	found := map[string]bool{}
	clip, steps, cfg := deref(p.ClipSkip, 1), deref(p.Steps, 30), deref(p.CFGScale, 7.5)
	sampler := string(deref(p.SamplerName, gen.SamplerName("k_euler_a")))
	scheduler := "karras"
	if !deref(p.Karras, true) {
		scheduler = "simple"
	}
	for _, m := range models {
		rq, ok := s.cfg.requirements[m]
		if !ok {
			continue
		}
		found["ClipSkipMismatch"] = found["ClipSkipMismatch"] || rq.ClipSkip != nil && *rq.ClipSkip != clip
		found["StepsTooFew"] = found["StepsTooFew"] || rq.MinSteps != nil && *rq.MinSteps > steps
		found["StepsTooMany"] = found["StepsTooMany"] || rq.MaxSteps != nil && *rq.MaxSteps < steps
		found["CfgScaleMismatch"] = found["CfgScaleMismatch"] || rq.CfgScale != nil && *rq.CfgScale != cfg
		found["CfgScaleTooSmall"] = found["CfgScaleTooSmall"] || rq.MinCfgScale != nil && *rq.MinCfgScale > cfg
		found["CfgScaleTooLarge"] = found["CfgScaleTooLarge"] || rq.MaxCfgScale != nil && *rq.MaxCfgScale < cfg
		found["SamplerMismatch"] = found["SamplerMismatch"] || rq.Samplers != nil && !contains(rq.Samplers, sampler)
		found["SchedulerMismatch"] = found["SchedulerMismatch"] || rq.Schedulers != nil && !contains(rq.Schedulers, scheduler)
	}
	var out []gen.RequestSingleWarning
	for _, code := range []string{"ClipSkipMismatch", "StepsTooFew", "StepsTooMany", "CfgScaleMismatch",
		"CfgScaleTooSmall", "CfgScaleTooLarge", "SamplerMismatch", "SchedulerMismatch"} {
		if found[code] {
			out = append(out, warning(code))
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// checkSubmitState validates the state a worker submits (image and text share the rule).
func checkSubmitState(state string) (int, any) {
	switch state {
	case "ok", "censored", "faulted", "csam":
		return 0, nil
	}
	return 0, validationErr("state", fmt.Sprintf("'%s' is not one of ['ok', 'censored', 'faulted', 'csam']", state))
}

// submittedJobLocked finds the job a worker submits, in the order of the server's shared submit
// template: an unknown id or one of another kind is 404 InvalidJobID; an unknown key is 500
// (a server quirk); another owner's worker is 403 WrongCredentials; a job already done is
// 400 DuplicateGen (200 with reward 0 for a worker in maintenance); an aborted one is 400
// AbortedGen. It counts the attempt. On refusal the job is nil and status, body the answer.
// The caller holds s.mu.
func (s *Server) submittedJobLocked(r *http.Request, id, kind string) (*job, int, any) {
	j := s.jobs[id]
	if j == nil || j.req.kind != kind {
		return nil, 0, herr(http.StatusNotFound, "InvalidJobID", "Processing Job with ID "+id+" does not exist.")
	}
	j.attempts++
	u := s.usersByKey[r.Header.Get("apikey")]
	if u == nil {
		return nil, http.StatusInternalServerError, map[string]any{"message": "Internal Server Error"}
	}
	if j.worker.owner != u {
		return nil, 0, herr(http.StatusForbidden, "WrongCredentials", "Wrong credentials to submit as this worker.")
	}
	switch j.state {
	case jobDone:
		if j.worker.maintenance {
			return nil, http.StatusOK, gen.GenerationSubmitted{Reward: ptr(0.0)}
		}
		return nil, 0, herr(http.StatusBadRequest, "DuplicateGen", "Processing Job with ID "+j.id+" already submitted.")
	case jobFaulted:
		return nil, 0, herr(http.StatusBadRequest, "AbortedGen", "Processing Job with ID "+j.id+" has already been aborted.")
	}
	return j, 0, nil
}

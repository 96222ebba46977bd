package hordetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

func (s *Server) handleHeartbeat(*http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	active := 0
	threads := 0
	for _, w := range s.workers {
		if w.online(now) {
			active++
			threads += w.threads
		}
	}
	return http.StatusOK, gen.Heartbeat{Message: ptr("OK"), Version: ptr(ServerVersion), Queue: ptr(len(s.queue)),
		Threads: ptr(threads), ActiveCount: ptr(active), DBConnection: ptr(true)}
}

func (s *Server) userDetailsLocked(u *user, now time.Time, private bool) gen.UserDetails {
	wids := append([]string{}, u.workers...)
	d := gen.UserDetails{Username: ptr(u.alias()), ID: ptr(u.id), Kudos: ptr(u.Kudos), Concurrency: ptr(u.Concurrency),
		WorkerInvited: ptr(0), Moderator: ptr(u.Moderator), Trusted: ptr(u.Trusted), Flagged: ptr(u.flagged),
		Vpn: ptr(false), Service: ptr(false), Education: ptr(false), Customizer: ptr(u.Customizer), Special: ptr(false),
		Deleted: ptr(u.deleted), Pseudonymous: ptr(false), AccountAge: ptr(int(now.Sub(u.created).Seconds())),
		WorkerCount: ptr(len(wids)), WorkerIds: wids, SharedkeyIds: []string{}, Styles: []gen.ResponseModelStylesUser{},
		KudosDetails: &gen.UserKudosDetails{Accumulated: ptr(u.earned), Gifted: ptr(u.gifted), Donated: ptr(0.0),
			Admin: ptr(0.0), Received: ptr(u.received), Recurring: ptr(0.0), Awarded: ptr(0.0), Styled: ptr(0.0)},
		Records: &gen.UserRecords{
			Usage:        &gen.UserThingRecords{Megapixelsteps: ptr(0.0), Tokens: ptr(0)},
			Contribution: &gen.UserThingRecords{Megapixelsteps: ptr(0.0), Tokens: ptr(0)},
			Fulfillment:  &gen.UserAmountRecords{Image: ptr(0), Text: ptr(0), Interrogation: ptr(0)},
			Request: &gen.UserAmountRecords{Image: ptr(u.requests[kindImage]), Text: ptr(u.requests[kindText]),
				Interrogation: ptr(u.requests[kindInterrogation])},
			Style: &gen.UserAmountRecords{Image: ptr(0), Text: ptr(0), Interrogation: ptr(0)},
		},
		Usage: &gen.UsageDetails{}, Contributions: &gen.ContributionsDetails{}}
	if private {
		d.EvaluatingKudos = ptr(0.0)
		d.Suspicious = ptr(0)
		d.MonthlyKudos = &gen.MonthlyKudos{Amount: ptr(0)}
	}
	return d
}

var userLists = []string{"worker_ids", "styles", "sharedkey_ids"}

func (s *Server) handleFindUser(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("apikey")
	u := s.usersByKey[key]
	if key == "" || u == nil {
		return 0, herr(http.StatusUnauthorized, "InvalidAPIKey", "No user matching sent API Key. Have you remembered to register at https://aihorde.net/register ?")
	}
	return http.StatusOK, withEmpty(s.userDetailsLocked(u, s.clock.Now(), false), userLists...)
}

func (s *Server) handleUsers(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page < 1 {
		page = 1
	}
	sortBy := r.URL.Query().Get("sort")
	us := make([]*user, 0, len(s.users))
	for _, u := range s.users {
		us = append(us, u)
	}
	sort.Slice(us, func(i, j int) bool {
		if sortBy == "age" {
			return us[i].id < us[j].id
		}
		if us[i].Kudos != us[j].Kudos {
			return us[i].Kudos > us[j].Kudos
		}
		return us[i].id < us[j].id
	})
	now := s.clock.Now()
	out := []map[string]any{}
	for i := (page - 1) * 25; i < len(us) && i < page*25; i++ {
		out = append(out, withEmpty(s.userDetailsLocked(us[i], now, false), userLists...))
	}
	return http.StatusOK, out
}

func (s *Server) handleUserSingle(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := strconv.Atoi(r.PathValue("user_id"))
	var u *user
	if err == nil {
		u = s.users[id]
	}
	if u == nil {
		return 0, herr(http.StatusNotFound, "UserNotFound", "User "+r.PathValue("user_id")+" not found.")
	}
	caller, ae := s.authLocked(r, false, "")
	if r.Header.Get("apikey") != "" && ae != nil {
		return 0, ae
	}
	private := caller != nil && r.Header.Get("apikey") != "" && (caller == u || caller.Moderator)
	return http.StatusOK, withEmpty(s.userDetailsLocked(u, s.clock.Now(), private), userLists...)
}

func (s *Server) workerDetailsLocked(w *worker, now time.Time, privilege int) gen.WorkerDetails {
	wt := gen.WorkerType(w.kind)
	d := gen.WorkerDetails{ID: ptr(w.id), Name: ptr(w.name), Type: &wt, BridgeAgent: w.bridgeAgent,
		Online: ptr(w.online(now)), RequestsFulfilled: ptr(w.fulfilled), KudosRewards: ptr(w.kudosEarned),
		KudosDetails: &gen.WorkerKudosDetails{Generated: ptr(w.kudosEarned), Uptime: ptr(0)},
		Threads:      ptr(w.threads), Uptime: ptr(int(now.Sub(w.created).Seconds())), MaintenanceMode: ptr(w.maintenance), Info: ptr(w.info),
		NSFW: ptr(w.nsfw), Trusted: ptr(w.owner.Trusted), Flagged: ptr(false),
		UncompletedJobs: ptr(w.aborted), Models: append([]string{}, w.models...), Team: &gen.TeamDetailsLite{}}
	if privilege >= 2 {
		d.Paused = ptr(w.paused)
		d.Suspicious = ptr(0)
	} else {
		d.Paused = nil
	}
	if privilege >= 1 && w.ip != "" {
		d.Ipaddr = ptr(w.ip)
	}
	if privilege >= 1 || w.owner.PublicWorkers {
		d.Owner = ptr(w.owner.alias())
		d.Messages = []gen.ResponseModelMessage{}
	}
	switch w.kind {
	case kindImage:
		d.Performance = ptr(strconv.FormatFloat(1.0, 'f', 1, 64) + " megapixelsteps per second")
		d.MaxPixels = ptr(w.maxPixels)
		d.MegapixelstepsGenerated = ptr(round2(w.things / 1e6))
		d.Img2Img, d.Painting, d.PostProcessing = ptr(w.allowImg2Img), ptr(w.allowPainting), ptr(w.allowPostProcessing)
		d.Lora, d.Controlnet, d.SDXLControlnet = ptr(w.allowLora), ptr(w.allowControlnet), ptr(w.allowSDXLControlnet)
	case kindText:
		d.Performance = ptr("1.0 tokens per second")
		d.MaxLength, d.MaxContextLength = ptr(w.maxLength), ptr(w.maxContext)
		d.TokensGenerated = ptr(w.things)
	default:
		d.Performance = ptr("1.0 seconds per form")
		d.Forms = append([]string{}, w.forms...)
	}
	return d
}

func (w *worker) maintenanceText() string {
	if w.maintenanceMsg != "" {
		return w.maintenanceMsg
	}
	return "This worker has been put into maintenance mode by its owner"
}

func (s *Server) handleWorkerPut(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workers[r.PathValue("worker_id")]
	if w == nil {
		return 0, herr(http.StatusNotFound, "WorkerNotFound", "Worker "+r.PathValue("worker_id")+" not found.")
	}
	var in gen.ModifyWorkerInput
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	admin, ae := s.authLocked(r, true, "The worker owner API key.")
	if ae != nil {
		return 0, ae
	}
	owner := admin.Moderator || admin == w.owner
	notOwner := herr(http.StatusForbidden, "NotOwner", admin.alias()+" is not the owner of worker "+w.name)
	notMod := herr(http.StatusForbidden, "NotModerator", admin.alias()+" is not a moderator: PUT WorkerSingle")
	anon := herr(http.StatusForbidden, "AnonForbiddenWorker", "Anonymous users cannot modify workers.")
	out := map[string]any{}
	if in.Maintenance != nil {
		if !owner {
			return 0, notOwner
		}
		w.maintenance = *in.Maintenance
		w.maintenanceMsg = deref(in.MaintenanceMsg, "")
		out["maintenance"] = w.maintenance
	}
	if in.Info != nil {
		if !owner {
			return 0, notOwner
		}
		if admin.id == 0 {
			return 0, anon
		}
		if len(*in.Info) > 1000 {
			return 0, herr(http.StatusBadRequest, "TooLongWorkerName", "worker info is too long (max 1000)")
		}
		w.info = *in.Info
		out["info"] = w.info
	}
	if in.Paused != nil {
		if !admin.Moderator {
			return 0, notMod
		}
		w.paused = *in.Paused
		out["paused"] = w.paused
	}
	if in.Name != nil {
		if !owner {
			return 0, notMod
		}
		if admin.id == 0 {
			return 0, anon
		}
		if len(*in.Name) > 100 {
			return 0, herr(http.StatusBadRequest, "TooLongWorkerName", "worker name is too long (max 100)")
		}
		if other := s.workerNames[*in.Name]; other != nil && other != w {
			return 0, herr(http.StatusBadRequest, "WorkerNameAlreadyExists", "A worker named "+*in.Name+" already exists")
		}
		delete(s.workerNames, w.name)
		w.name = *in.Name
		s.workerNames[w.name] = w
		out["name"] = w.name
	}
	if in.Team != nil {
		if !owner {
			return 0, notMod
		}
		if admin.id == 0 {
			return 0, anon
		}
		if *in.Team != "" {
			return 0, herr(http.StatusNotFound, "TeamNotFound", "Team "+*in.Team+" not found.")
		}
		out["team"] = "None"
	}
	if len(out) == 0 {
		return 0, herr(http.StatusBadRequest, "NoWorkerModSelected", "No worker modification selected!")
	}
	return http.StatusOK, out
}

// workerJSON keeps the real server's always-present lists (messages only with the owner).
func (s *Server) workerJSON(d gen.WorkerDetails) map[string]any {
	keys := []string{"models"}
	if d.Owner != nil {
		keys = append(keys, "messages")
	}
	return withEmpty(d, keys...)
}

// privilegeLocked is 2 for a moderator's key and 0 otherwise (a bad key is ignored).
func (s *Server) privilegeLocked(r *http.Request) int {
	if u := s.usersByKey[r.Header.Get("apikey")]; u != nil && u.Moderator {
		return 2
	}
	return 0
}

func (s *Server) handleWorkers(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	typ := r.URL.Query().Get("type")
	name := r.URL.Query().Get("name")
	ws := make([]*worker, 0, len(s.workers))
	for _, w := range s.workers {
		if !w.online(now) || (typ != "" && w.kind != typ) || (name != "" && w.name != name) {
			continue
		}
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].name < ws[j].name })
	out := make([]map[string]any, 0, len(ws))
	for _, w := range ws {
		out = append(out, s.workerJSON(s.workerDetailsLocked(w, now, s.privilegeLocked(r))))
	}
	return http.StatusOK, out
}

func (s *Server) handleWorkerSingle(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workers[r.PathValue("worker_id")]
	if w == nil {
		return 0, herr(http.StatusNotFound, "WorkerNotFound", "Worker "+r.PathValue("worker_id")+" not found.")
	}
	return http.StatusOK, s.workerJSON(s.workerDetailsLocked(w, s.clock.Now(), s.privilegeLocked(r)))
}

func (s *Server) handleWorkerByName(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workerNames[r.PathValue("worker_name")]
	if w == nil {
		return 0, herr(http.StatusNotFound, "WorkerNotFound", "Worker "+r.PathValue("worker_name")+" not found.")
	}
	return http.StatusOK, s.workerJSON(s.workerDetailsLocked(w, s.clock.Now(), s.privilegeLocked(r)))
}

func (s *Server) handleTransfer(r *http.Request) (int, any) {
	var in gen.PostTransferKudosJSONBody
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if in.Username == nil {
		return 0, validationErr("username", "The user or shared key ID which will receive the kudos. Missing required parameter in the JSON body")
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey("The sending user's API key.")
	}
	amount := deref(in.Amount, 100)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	from, ae := s.authLocked(r, true, "")
	if ae != nil {
		return 0, ae
	}
	bad := func(rc, msg string) (int, any) { return 0, herr(http.StatusBadRequest, rc, msg) }
	if from.id == 0 {
		return bad("KudosTransferFromAnon", "You cannot transfer Kudos from Anonymous, smart-ass.")
	}
	var to *user
	if i := strings.LastIndexByte(*in.Username, '#'); i >= 0 {
		if id, err := strconv.Atoi((*in.Username)[i+1:]); err == nil {
			to = s.users[id]
		}
	}
	if to == nil {
		return bad("InvalidTargetUsername", "Invalid target username.")
	}
	if to.id == 0 {
		return bad("KudosTransferToAnon", "Tried to burn kudos via sending to Anonymous. Assuming PEBKAC and aborting.")
	}
	if to == from {
		return bad("KudosTransferToSelf", "Cannot send kudos to yourself, ya monkey!")
	}
	if t, ok := s.lastSent[[2]int{to.id, from.id}]; ok && now.Sub(t) < 60*time.Second {
		return bad("TooFastKudosTransfers", "You cannot transfer Kudos to a user who just sent you kudos.")
	}
	if to.deleted || from.deleted {
		return bad("DeletedUser", "This user has been deleted.")
	}
	if amount < 0 {
		return bad("NegativeKudosTransfer", "Nice try...")
	}
	if amount == 0 {
		return bad("InvalidKudosTransferAmount", "You cannot transfer no Kudos.")
	}
	idem := r.Header.Get("Idempotency-Key")
	idemKey := strconv.Itoa(from.id) + "\x00" + idem
	if idem != "" {
		if rec, ok := s.transfers[idemKey]; ok {
			if rec.target != to.id || rec.amount != amount {
				return bad("IdempotencyKeyConflict", "This Idempotency-Key was already used for a different transfer.")
			}
			return http.StatusOK, gen.KudosTransferred{Transferred: ptr(float64(amount))}
		}
	}
	if from.Kudos-from.floor() < float64(amount) {
		return bad("KudosTransferNotEnough", "Not enough kudos.")
	}
	from.Kudos -= float64(amount)
	from.gifted += float64(amount)
	to.Kudos += float64(amount)
	to.received += float64(amount)
	s.lastSent[[2]int{from.id, to.id}] = now
	if idem != "" {
		s.transfers[idemKey] = transferRecord{target: to.id, amount: amount}
	}
	return http.StatusOK, gen.KudosTransferred{Transferred: ptr(float64(amount))}
}

func (s *Server) handleModels(r *http.Request) (int, any) {
	q := r.URL.Query()
	typ := q.Get("type")
	if typ == "" {
		typ = "image"
	}
	if typ != "image" && typ != "text" {
		return 0, validationErr("type", "The value '"+typ+"' is not a valid choice for 'type'.")
	}
	ms := q.Get("model_state")
	if ms != "" && ms != "all" && ms != "known" && ms != "custom" {
		return 0, herr(http.StatusBadRequest, "BadRequest", "'model_state' needs to be one of ['known', 'custom', 'all']")
	}
	minCount, hasMin, okMin := atoiOpt(q.Get("min_count"))
	maxCount, hasMax, okMax := atoiOpt(q.Get("max_count"))
	if !okMin {
		return 0, validationErr("min_count", "Filter the models that have at least this amount of threads serving. invalid literal for int() with base 10: '"+q.Get("min_count")+"'")
	}
	if !okMax {
		return 0, validationErr("max_count", "Filter the models that have at most this amount of threads serving. invalid literal for int() with base 10: '"+q.Get("max_count")+"'")
	}
	kind := kindImage
	if typ == "text" {
		kind = kindText
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []gen.ActiveModel{}
	for _, m := range s.activeModelsLocked(kind, s.clock.Now()) {
		if (hasMin && *m.Count < minCount) || (hasMax && *m.Count > maxCount) {
			continue
		}
		out = append(out, m)
	}
	return http.StatusOK, out
}

func (s *Server) handleModelSingle(r *http.Request) (int, any) {
	name := r.PathValue("model_name")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	out := []gen.ActiveModel{}
	for _, kind := range []string{kindImage, kindText} {
		for _, m := range s.activeModelsLocked(kind, now) {
			if *m.Name == name && len(out) == 0 {
				out = append(out, m)
			}
		}
	}
	return http.StatusOK, out
}

// activeModelsLocked computes the status/models entries of a kind (§5 of the reference;
// performance is the simulator's nominal 1 MPS/s or 10 tokens/s).
func (s *Server) activeModelsLocked(kind string, now time.Time) []gen.ActiveModel {
	typ := "image"
	if kind == kindText {
		typ = "text"
	}
	type agg struct {
		count  int
		queued float64
		jobs   float64
	}
	m := map[string]*agg{}
	get := func(name string) *agg {
		if m[name] == nil {
			m[name] = &agg{}
		}
		return m[name]
	}
	for _, w := range s.workers {
		if w.kind != kind || !w.online(now) || w.maintenance {
			continue
		}
		for _, name := range w.models {
			get(name).count += w.threads
		}
	}
	for _, r := range s.queue {
		if r.kind != kind {
			continue
		}
		processing := 0
		for _, j := range r.jobs {
			if j.state == jobProcessing {
				processing++
			}
		}
		for _, name := range r.models {
			if a, ok := m[name]; ok || s.knownImageModel(name) && kind == kindImage {
				if !ok {
					a = get(name)
				}
				a.queued += r.things()
				a.jobs += float64(r.n + processing)
			}
		}
	}
	out := []gen.ActiveModel{}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	mt := gen.ModelType(typ)
	for _, name := range names {
		a := m[name]
		perf := 1000000.0
		if kind == kindText {
			perf = 10
		}
		eta := 0
		if a.queued > 0 {
			if a.count == 0 {
				eta = 10000
			} else {
				eta = int(a.queued / (float64(a.count) * perf))
			}
		}
		out = append(out, gen.ActiveModel{Name: ptr(name), Count: ptr(a.count), Queued: ptr(a.queued),
			Jobs: ptr(a.jobs), Performance: ptr(perf), Eta: ptr(eta), Type: &mt})
	}
	return out
}

// atoiOpt parses an optional integer: value, present, valid.
func atoiOpt(s string) (int, bool, bool) {
	if s == "" {
		return 0, false, true
	}
	v, err := strconv.Atoi(s)
	return v, err == nil, err == nil
}

func (s *Server) handleModes(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := gen.HordeModes{MaintenanceMode: ptr(s.maintenance), InviteOnlyMode: ptr(false)}
	if r.Header.Get("apikey") != "" {
		u, ae := s.authLocked(r, true, "")
		if ae != nil {
			return 0, ae
		}
		if !u.Moderator {
			return 0, herr(http.StatusForbidden, "NotModerator", "Only moderators can see the raid mode.")
		}
		out.RaidMode = ptr(false)
	}
	return http.StatusOK, out
}

func (s *Server) handleNews(*http.Request) (int, any) {
	return http.StatusOK, []gen.Newspiece{{
		DatePublished: ptr("2026-08-06"), Importance: ptr("Information"), Tags: []string{"hordetest"},
		Title:     ptr("hordetest simulator"),
		Newspiece: ptr("You are talking to hordetest, an in-process AI Horde simulator."), MoreInfoUrls: []string{},
	}}
}

func (s *Server) handlePerformance(*http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var qImg, qTxt int
	var mps, tokens float64
	for _, r := range s.queue {
		inflight := 0
		for _, j := range r.jobs {
			if j.state == jobProcessing {
				inflight++
			}
		}
		if r.kind == kindImage {
			qImg += r.n + inflight
			mps += r.things() * float64(r.n) / 1e6
		} else {
			qTxt += r.n + inflight
			tokens += float64(r.maxLength * r.n)
		}
	}
	forms := 0
	for _, f := range s.forms {
		if f.state == formWaiting || f.state == formProcessing {
			forms++
		}
	}
	counts := map[string][2]int{}
	for _, w := range s.workers {
		if w.online(now) {
			c := counts[w.kind]
			c[0]++
			c[1] += w.threads
			counts[w.kind] = c
		}
	}
	var pastMPS, pastTokens float64
	for _, j := range s.jobs {
		if j.state == jobDone && now.Sub(j.finishedAt) <= time.Minute {
			if j.req.kind == kindImage {
				pastMPS += j.req.things() / 1e6
			} else {
				pastTokens += float64(j.req.maxLength)
			}
		}
	}
	return http.StatusOK, gen.HordePerformance{QueuedRequests: ptr(qImg), QueuedTextRequests: ptr(qTxt),
		QueuedMegapixelsteps: ptr(round2(mps)), QueuedTokens: ptr(tokens), QueuedForms: ptr(float64(forms)),
		WorkerCount: ptr(counts[kindImage][0]), ThreadCount: ptr(counts[kindImage][1]),
		TextWorkerCount: ptr(counts[kindText][0]), TextThreadCount: ptr(counts[kindText][1]),
		InterrogatorCount: ptr(counts[kindInterrogation][0]), InterrogatorThreadCount: ptr(counts[kindInterrogation][1]),
		PastMinuteMegapixelsteps: ptr(round2(pastMPS)), PastMinuteTokens: ptr(pastTokens)}
}

func validModelState(r *http.Request) *apiError {
	ms := r.URL.Query().Get("model_state")
	if ms != "" && ms != "all" && ms != "known" && ms != "custom" {
		return herr(http.StatusBadRequest, "BadRequest", "'model_state' needs to be one of ['known', 'custom', 'all']")
	}
	return nil
}

func (s *Server) handleImgTotals(*http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := func() *gen.SinglePeriodImgStat {
		return &gen.SinglePeriodImgStat{Images: ptr(s.stats.images), Ps: ptr(s.stats.ps)}
	}
	return http.StatusOK, gen.StatsImgTotals{Minute: st(), Hour: st(), Day: st(), Month: st(), Total: st()}
}

func (s *Server) handleTextTotals(*http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := func() *gen.SinglePeriodTxtStat {
		return &gen.SinglePeriodTxtStat{Requests: ptr(s.stats.textRequests), Tokens: ptr(s.stats.tokens)}
	}
	return http.StatusOK, gen.StatsTxtTotals{Minute: st(), Hour: st(), Day: st(), Month: st(), Total: st()}
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (s *Server) handleImgModels(r *http.Request) (int, any) {
	if e := validModelState(r); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return http.StatusOK, gen.ImgModelStats{Day: copyCounts(s.stats.imgModels), Month: copyCounts(s.stats.imgModels), Total: copyCounts(s.stats.imgModels)}
}

func (s *Server) handleTextModels(r *http.Request) (int, any) {
	if e := validModelState(r); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return http.StatusOK, gen.TxtModelStats{Day: copyCounts(s.stats.txtModels), Month: copyCounts(s.stats.txtModels), Total: copyCounts(s.stats.txtModels)}
}

// r2Check verifies a presigned URL; it answers like S3 when the signature or expiry is bad.
func (s *Server) r2Check(w http.ResponseWriter, r *http.Request, method string) (string, bool) {
	object := r.PathValue("object")
	exp, err := strconv.ParseInt(r.URL.Query().Get("X-Hordetest-Exp"), 10, 64)
	if err != nil || r.URL.Query().Get("X-Amz-Signature") != s.r2Sign(method, object, exp) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "<Error><Code>SignatureDoesNotMatch</Code></Error>")
		return "", false
	}
	if s.clock.Now().Unix() > exp {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
		return "", false
	}
	return object, true
}

func (s *Server) handleR2Upload(w http.ResponseWriter, r *http.Request) {
	object, ok := s.r2Check(w, r, http.MethodPut)
	if !ok {
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.r2[object] = data
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handleR2Download(w http.ResponseWriter, r *http.Request) {
	object, ok := s.r2Check(w, r, http.MethodGet)
	if !ok {
		return
	}
	s.mu.Lock()
	data, found := s.r2[object]
	s.mu.Unlock()
	if !found {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "<Error><Code>NoSuchKey</Code></Error>")
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// SyntheticImage returns the deterministic PNG the built-in worker delivers for a seed and size
// (an image of (width/8)×(height/8) pixels in one colour derived from the seed).
func SyntheticImage(seed, width, height int) []byte {
	w, h := max(width/8, 1), max(height/8, 1)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	sum := sha256.Sum256(binary.LittleEndian.AppendUint64(nil, uint64(seed)))
	c := color.NRGBA{sum[0], sum[1], sum[2], 255}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// SyntheticText returns the deterministic text the built-in worker delivers for a prompt and seed.
func SyntheticText(prompt string, seed int) string {
	sum := sha256.Sum256([]byte(prompt + "\x00" + strconv.Itoa(seed)))
	return "hordetest synthetic text " + strconv.FormatUint(binary.LittleEndian.Uint64(sum[:8]), 16)
}

// autoFulfilLocked lets the built-in worker finish every job it can serve that has waited
// for the configured delay.
func (s *Server) autoFulfilLocked(now time.Time) {
	changed := false
	for _, req := range s.queue {
		if req.n <= 0 || req.faulted || now.Sub(req.created) < s.cfg.fulfilDelay {
			continue
		}
		w := s.builtin[req.kind]
		if w == nil || s.skipReasonLocked(w, req, now) != "" {
			continue
		}
		changed = true
		for req.n > 0 {
			var ids []string
			if req.kind == kindImage {
				out := s.startImageJobsLocked(nil, w, req, w.models, 20, now)
				ids = out.Ids
			} else {
				out := s.startTextJobsLocked(w, req, w.models, 20, now)
				ids = out.Ids
			}
			for _, id := range ids {
				j := s.jobs[id]
				if req.kind == kindImage {
					if req.seed == nil {
						j.seed = derivedSeed(j.id)
					}
					j.img = SyntheticImage(j.seed, req.width, req.height)
					if s.cfg.censorPrompt != "" && strings.Contains(strings.ToLower(req.prompt), s.cfg.censorPrompt) {
						j.censored = true
						j.genMeta = []gen.GenerationMetadataStable{{Type: "censorship", Value: "nsfw"}}
					}
					s.finishImageJobLocked(j, now)
				} else {
					j.seed = derivedSeed(j.id)
					j.text = SyntheticText(req.prompt, j.seed)
					j.textState = "ok"
					s.finishTextJobLocked(j, now)
				}
			}
		}
	}
	if changed {
		s.compactQueueLocked()
	}
	if w := s.builtin[kindInterrogation]; w != nil {
		for _, f := range s.ifQueue {
			if f.state != formWaiting || now.Sub(f.in.created) < s.cfg.fulfilDelay {
				continue
			}
			f.state = formProcessing
			f.popped = now
			f.worker = w
			res := map[string]any{}
			sum := sha256.Sum256([]byte(f.in.id + f.name))
			switch f.name {
			case "caption":
				res["caption"] = "a hordetest synthetic caption " + strconv.Itoa(int(sum[0]))
			case "nsfw":
				res["nsfw"] = sum[0]%2 == 0
			case "interrogation":
				res["interrogation"] = map[string]any{"tags": []map[string]any{{"text": "hordetest", "confidence": 0.9}}}
			default:
				res[f.name] = "hordetest-" + f.name
			}
			s.finishFormLocked(f, res, now)
		}
		s.compactFormQueueLocked()
	}
}

func derivedSeed(id string) int {
	sum := sha256.Sum256([]byte(id))
	return int(binary.LittleEndian.Uint32(sum[:4]))
}

package hordetest

import (
	"net/http"
	"sort"
	"strconv"
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
	known := s.knownImageModel
	if kind == kindText {
		known = s.knownTextModel
	}
	out := []gen.ActiveModel{}
	for _, m := range s.activeModelsLocked(kind, s.clock.Now()) {
		if (hasMin && *m.Count < minCount) || (hasMax && *m.Count > maxCount) {
			continue
		}
		// model_state (default all): known models are the reference's (check_model_state).
		if (ms == "known" && !known(*m.Name)) || (ms == "custom" && known(*m.Name)) {
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
	out := gen.HordeModes{MaintenanceMode: ptr(s.maintenance), InviteOnlyMode: ptr(s.ext.inviteOnly)}
	if r.Header.Get("apikey") != "" {
		u, ae := s.authLocked(r, true, "")
		if ae != nil {
			return 0, ae
		}
		if !u.Moderator {
			return 0, herr(http.StatusForbidden, "NotModerator", "Only moderators can see the raid mode.")
		}
		out.RaidMode = ptr(s.ext.raid)
	}
	return http.StatusOK, out
}

func (s *Server) handleNews(*http.Request) (int, any) {
	return http.StatusOK, []gen.Newspiece{{
		DatePublished: ptr("2026-08-06"), Importance: ptr("Information"), Tags: []string{"hordetest"},
		Title:     ptr("hordetest simulator"),
		Newspiece: ptr("You are talking to hordetest, an in-process AI Horde simulator."), MoreInfoUrls: []string{"https://github.com/horde-go/horde"},
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

// modelStatsState reads model_state of the stats routes: known (the default there), custom or all.
func modelStatsState(r *http.Request) (string, *apiError) {
	if e := validModelState(r); e != nil {
		return "", e
	}
	if ms := r.URL.Query().Get("model_state"); ms != "" {
		return ms, nil
	}
	return "known", nil
}

// filterByState keeps the counts of the models the state names: known ones are in the model
// reference, custom ones are not (the server decides this per model when it compiles the stats).
// The result is never nil: the server always sends day, month and total, empty or not.
func filterByState(counts map[string]int, state string, known func(string) bool) map[string]int {
	out := make(map[string]int, len(counts))
	for name, n := range counts {
		if state == "all" || (state == "known") == known(name) {
			out[name] = n
		}
	}
	return out
}

func (s *Server) handleImgModels(r *http.Request) (int, any) {
	state, e := modelStatsState(r)
	if e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := func() map[string]int { return filterByState(s.stats.imgModels, state, s.knownImageModel) }
	return http.StatusOK, gen.ImgModelStats{Day: c(), Month: c(), Total: c()}
}

func (s *Server) handleTextModels(r *http.Request) (int, any) {
	state, e := modelStatsState(r)
	if e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := func() map[string]int { return filterByState(s.stats.txtModels, state, s.knownTextModel) }
	return http.StatusOK, gen.TxtModelStats{Day: c(), Month: c(), Total: c()}
}

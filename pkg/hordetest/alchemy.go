package hordetest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

var alchemyForms = map[string]bool{"caption": true, "interrogation": true, "nsfw": true, "vectorize": true,
	"palette": true, "describe": true, "aesthetic": true}

func validForm(name string) bool { return alchemyForms[name] || isPostProcessor(name) }

func formKudos(name string) float64 {
	switch {
	case name == "interrogation":
		return 3
	case isPostProcessor(name):
		return 3 // one 512-px tile: the simulator does not decode source images
	}
	return 1
}

func (s *Server) handleInterrogateAsync(r *http.Request) (int, any) {
	var in gen.ModelInterrogationInputStable
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if in.SourceImage == nil || *in.SourceImage == "" {
		return 0, validationErr("source_image", "'source_image' is a required property")
	}
	for i, f := range in.Forms {
		if !validForm(string(f.Name)) {
			return 0, validationErr(fmt.Sprintf("forms.%d.name", i), fmt.Sprintf("'%s' is not one of the known forms", f.Name))
		}
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpRegisteredKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	if s.maintenance {
		return 0, herr(http.StatusBadRequest, "MaintenanceMode", "AI Horde has entered maintenance mode. Please try again later.")
	}
	if in.Webhook != nil && !strings.HasPrefix(*in.Webhook, "https://") {
		return 0, herr(http.StatusBadRequest, "BadRequest", "webhook must be an https URL")
	}
	u, ae := s.authLocked(r, true, helpRegisteredKey)
	if ae != nil {
		return 0, ae
	}
	active := 0
	for _, f := range s.forms {
		if f.in.user == u && (f.state == formWaiting || f.state == formProcessing) {
			active++
		}
	}
	names := []string{}
	seen := map[string]bool{}
	for _, f := range in.Forms {
		if !seen[string(f.Name)] {
			seen[string(f.Name)] = true
			names = append(names, string(f.Name))
		}
	}
	if active+len(names) > 10*u.Concurrency {
		return 0, herr(http.StatusTooManyRequests, "TooManyPrompts", "Parallel requests exceeded user limit.")
	}
	src := *in.SourceImage
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		if _, err := base64.StdEncoding.DecodeString(src); err != nil {
			return 0, herr(http.StatusBadRequest, "ImageValidationFailed", "Image validation failed: the source image is not valid base64.")
		}
	}
	s.seq++
	it := &interrogation{id: s.newUUIDLocked(), user: u, created: now, expiry: now.Add(s.cfg.expiry), seq: s.seq,
		priority: u.Kudos, sourceImage: src, slowWorkers: deref(in.SlowWorkers, true)}
	if !strings.HasPrefix(src, "http") {
		b, _ := base64.StdEncoding.DecodeString(src)
		s.r2[it.id+"_src.webp"] = b
		it.sourceImage = ""
	}
	for _, name := range names {
		var payload map[string]string
		for _, f := range in.Forms {
			if string(f.Name) == name && f.Payload != nil {
				payload = *f.Payload
			}
		}
		s.seq++
		f := &form{id: s.newUUIDLocked(), in: it, name: name, payload: payload, state: formWaiting, kudos: formKudos(name), seq: s.seq}
		it.forms = append(it.forms, f)
		s.forms[f.id] = f
		s.ifQueue = append(s.ifQueue, f)
	}
	s.interrogs[it.id] = it
	u.requests[kindInterrogation]++
	return http.StatusAccepted, gen.RequestInterrogationResponse{ID: ptr(it.id)}
}

func (s *Server) compactFormQueueLocked() {
	q := s.ifQueue[:0]
	for _, f := range s.ifQueue {
		if f.state == formWaiting && s.interrogs[f.in.id] != nil {
			q = append(q, f)
		}
	}
	for i := len(q); i < len(s.ifQueue); i++ {
		s.ifQueue[i] = nil
	}
	s.ifQueue = q
	sort.SliceStable(s.ifQueue, func(i, j int) bool {
		a, b := s.ifQueue[i], s.ifQueue[j]
		if a.in.priority != b.in.priority {
			return a.in.priority > b.in.priority
		}
		return a.seq < b.seq
	})
}

// interrogationStatusLocked is the status of an alchemy request. An image result the worker
// put on R2 (stored as "R2") is answered as a download URL of the R2 stand-in, as the server
// answers a presigned URL.
func (s *Server) interrogationStatusLocked(hr *http.Request, it *interrogation, now time.Time) gen.InterrogationStatus {
	st := gen.InterrogationStatus{Forms: []gen.InterrogationFormStatus{}}
	counts := map[string]int{}
	base := baseURLOf(hr)
	for _, f := range it.forms {
		fs := gen.InterrogationFormStatus{Form: ptr(f.name), State: ptr(f.state)}
		if f.result != nil {
			res := make(gen.InterrogationFormResult, len(f.result))
			for k, v := range f.result {
				if v == "R2" {
					v = s.r2URL(base, http.MethodGet, f.id+".webp", now)
				}
				res[k] = v
			}
			fs.Result = &res
		}
		st.Forms = append(st.Forms, fs)
		counts[f.state]++
	}
	n := len(it.forms)
	var state string
	switch {
	case n == 0 || counts[formFaulted] == n:
		state = formFaulted
	case counts[formDone] == n:
		state = formDone
	case counts[formProcessing] > 0:
		state = formProcessing
	case counts[formWaiting] > 0:
		state = formWaiting
	default:
		state = "partial"
	}
	st.State = ptr(state)
	return st
}

func (s *Server) lookupInterrogationLocked(id string) (*interrogation, *apiError) {
	it := s.interrogs[id]
	if it == nil {
		return nil, herr(http.StatusNotFound, "RequestNotFound", "Interrogation with ID '"+id+"' not found.")
	}
	return it, nil
}

func (s *Server) handleInterrogateStatus(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	it, e := s.lookupInterrogationLocked(r.PathValue("id"))
	if e != nil {
		return 0, e
	}
	return http.StatusOK, s.interrogationStatusLocked(r, it, s.clock.Now())
}

func (s *Server) handleInterrogateCancel(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	it, e := s.lookupInterrogationLocked(r.PathValue("id"))
	if e != nil {
		return 0, e
	}
	for _, f := range it.forms {
		if f.state == formWaiting || f.state == formProcessing {
			f.state = formCancelled
		}
	}
	s.compactFormQueueLocked()
	return http.StatusOK, s.interrogationStatusLocked(r, it, s.clock.Now())
}

func (s *Server) handleInterrogatePop(r *http.Request) (int, any) {
	var in gen.InterrogationPopInput
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if e := optRange("amount", in.Amount, 1, 256); e != nil {
		return 0, e
	}
	if e := optRange("max_tiles", in.MaxTiles, 1, 256); e != nil {
		return 0, e
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpRegisteredKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	w, refresh, ae := s.workerForPopLocked(r, kindInterrogation, in.Name, in.PriorityUsernames, now)
	if ae != nil {
		return 0, ae
	}
	if refresh {
		w.forms = w.forms[:0]
		for _, f := range in.Forms {
			w.forms = append(w.forms, string(f))
		}
		w.bridgeAgent = deref(in.BridgeAgent, "unknown:0:unknown")
		w.threads = deref(in.Threads, 1)
		w.maxTiles = deref(in.MaxTiles, 80)
	}
	out := s.popFormsLocked(r, w, deref(in.Amount, 1), now)
	if len(out.Forms) == 0 && w.maintenance {
		return 0, herr(http.StatusForbidden, "WorkerMaintenance", w.maintenanceText())
	}
	return http.StatusOK, out
}

func (s *Server) popFormsLocked(r *http.Request, w *worker, amount int, now time.Time) gen.InterrogationPopPayload {
	out := gen.InterrogationPopPayload{Skipped: &gen.NoValidInterrogationsFound{}}
	offered := map[string]bool{}
	for _, f := range w.forms {
		offered[f] = true
	}
	base := ""
	if r != nil {
		base = baseURLOf(r)
	}
	for _, f := range s.ifQueue {
		if len(out.Forms) >= amount {
			break
		}
		if f.state != formWaiting || !(offered[f.name] || w.builtin) {
			continue
		}
		if (w.maintenance || w.paused) && f.in.user != w.owner {
			continue
		}
		f.state = formProcessing
		f.popped = now
		f.worker = w
		f.in.expiry = now.Add(s.cfg.expiry)
		src := f.in.sourceImage
		if src == "" && base != "" {
			src = s.r2URL(base, http.MethodGet, f.in.id+"_src.webp", now)
		}
		pf := gen.InterrogationPopFormPayload{ID: ptr(f.id), Form: ptr(gen.InterrogationFormName(f.name)), SourceImage: ptr(src)}
		if f.payload != nil {
			p := gen.ModelInterrogationFormPayloadStable(f.payload)
			pf.Payload = &p
		}
		if isPostProcessor(f.name) && base != "" {
			pf.R2Upload = ptr(s.r2URL(base, http.MethodPut, f.id+".webp", now))
		}
		out.Forms = append(out.Forms, pf)
	}
	s.compactFormQueueLocked()
	return out
}

type interrogateSubmit struct {
	ID     *string         `json:"id"`
	Result json.RawMessage `json:"result"`
	State  *string         `json:"state"`
}

func (s *Server) handleInterrogateSubmit(r *http.Request) (int, any) {
	var in interrogateSubmit
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if in.ID == nil {
		return 0, validationErr("id", "The UUID of this interrogation form. Missing required parameter in the JSON body")
	}
	if len(in.Result) == 0 || string(in.Result) == "null" {
		return 0, validationErr("result", "The completed interrogation form results Missing required parameter in the JSON body")
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey(helpRegisteredKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	f := s.forms[*in.ID]
	if f == nil {
		return 0, herr(http.StatusNotFound, "InvalidJobID", "Interrogation form with ID "+*in.ID+" does not exist.")
	}
	u := s.usersByKey[r.Header.Get("apikey")]
	if u == nil {
		return http.StatusInternalServerError, map[string]any{"message": "Internal Server Error"}
	}
	if f.worker == nil || f.worker.owner != u {
		return 0, herr(http.StatusForbidden, "WrongCredentials", "Wrong credentials to submit as this worker.")
	}
	if f.state != formProcessing {
		return 0, herr(http.StatusBadRequest, "DuplicateGen", "Interrogation form with ID "+f.id+" already submitted.")
	}
	if deref(in.State, "ok") == "faulted" {
		f.aborts++
		s.logAbortLocked(f.worker)
		if f.aborts >= 4 {
			f.state = formFaulted
		} else {
			f.state = formWaiting
			s.ifQueue = append(s.ifQueue, f)
			s.compactFormQueueLocked()
		}
		return http.StatusOK, gen.GenerationSubmitted{Reward: ptr(0.0)}
	}
	res := map[string]any{}
	if len(in.Result) > 0 {
		if json.Unmarshal(in.Result, &res) != nil {
			var str string
			if json.Unmarshal(in.Result, &str) == nil {
				if json.Unmarshal([]byte(str), &res) != nil {
					res = map[string]any{f.name: str}
				}
			}
		}
	}
	// An image result on R2 stays "R2" here: the status answers its download URL.
	return http.StatusOK, gen.GenerationSubmitted{Reward: ptr(s.finishFormLocked(f, res, now))}
}

func (s *Server) finishFormLocked(f *form, res map[string]any, now time.Time) float64 {
	f.result = res
	f.state = formDone
	f.submits++
	credit := f.kudos
	if !f.worker.owner.Trusted {
		credit /= 2
	}
	f.worker.owner.Kudos += credit
	f.worker.owner.earned += credit
	f.worker.kudosEarned += credit
	f.worker.fulfilled++
	s.creditTeamLocked(f.worker, credit)
	charge := f.kudos + 1
	if f.in.slowWorkers {
		charge++
	}
	s.debitLocked(f.in.user, charge)
	f.in.expiry = now.Add(s.cfg.expiry)
	return f.kudos
}

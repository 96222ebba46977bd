package hordetest

import (
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/horde-go/horde/gen"
)

func (s *Server) workerDetailsLocked(w *worker, now time.Time, privilege int) gen.WorkerDetails {
	wt := gen.WorkerType(w.kind)
	d := gen.WorkerDetails{ID: ptr(w.id), Name: ptr(w.name), Type: &wt, BridgeAgent: w.bridgeAgent,
		Online: ptr(w.online(now)), RequestsFulfilled: ptr(w.fulfilled), KudosRewards: ptr(w.kudosEarned),
		KudosDetails: &gen.WorkerKudosDetails{Generated: ptr(w.kudosEarned), Uptime: ptr(0)},
		Threads:      ptr(w.threads), Uptime: ptr(int(now.Sub(w.created).Seconds())), MaintenanceMode: ptr(w.maintenance), Info: nonEmpty(w.info),
		NSFW: ptr(w.nsfw), Trusted: ptr(w.owner.Trusted), Flagged: ptr(false),
		UncompletedJobs: ptr(w.aborted), Models: append([]string{}, w.models...), Team: &gen.TeamDetailsLite{}}
	if w.team != nil {
		d.Team = &gen.TeamDetailsLite{ID: ptr(w.team.id), Name: ptr(w.team.name)}
	}
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
		d.Messages = []gen.WorkerDetailsMessage{}
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
		if *in.Team == "" {
			w.team = nil
			out["team"] = "None"
		} else {
			t := s.teamByIDLocked(*in.Team)
			if t == nil {
				return 0, teamNotFound(*in.Team)
			}
			w.team = t
			out["team"] = t.name
		}
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
	m := withEmpty(d, keys...)
	if d.Owner != nil && d.ID != nil {
		if w := s.workers[*d.ID]; w != nil {
			if ms := s.workerDetailMessagesLocked(w, s.clock.Now()); len(ms) > 0 {
				m["messages"] = ms
			}
		}
	}
	return m
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

// nonEmpty is nil for "": the server leaves out a worker's info it was never given.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

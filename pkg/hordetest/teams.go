package hordetest

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

// team is a worker team: workers credit their fulfilments and kudos to it.
type team struct {
	id, name    string
	info        *string // nil when the team was created without one (NULL, not shown)
	owner       *user
	seq         int64
	created     time.Time
	kudos       float64
	fulfilments int
	uptime      int
}

func teamNotFound(id string) *apiError {
	return herr(http.StatusNotFound, "TeamNotFound", "Team with ID '"+id+"' not found.")
}

func (s *Server) teamByIDLocked(id string) *team {
	c, ok := canonUUID(id)
	if !ok {
		return nil
	}
	return s.ext.teams[c]
}

func (s *Server) teamByNameLocked(name string) *team {
	for _, t := range s.ext.teams {
		if strings.EqualFold(t.name, name) {
			return t
		}
	}
	return nil
}

// teamWorkersLocked lists the team's workers by name.
func (s *Server) teamWorkersLocked(t *team) []*worker {
	var ws []*worker
	for _, w := range s.workers {
		if w.team == t {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].name < ws[j].name })
	return ws
}

func (s *Server) teamDetailsLocked(t *team, now time.Time) map[string]any {
	ws := s.teamWorkersLocked(t)
	lite := make([]gen.WorkerDetailsLite, 0, len(ws))
	counts := map[string]int{}
	var names []string
	for _, w := range ws {
		wt := gen.WorkerType(w.kind)
		lite = append(lite, gen.WorkerDetailsLite{ID: ptr(w.id), Name: ptr(w.name), Type: &wt, Online: ptr(w.online(now))})
		for _, m := range w.models {
			if counts[m] == 0 {
				names = append(names, m)
			}
			counts[m]++
		}
	}
	models := make([]gen.ActiveModelLite, 0, len(names))
	for _, m := range names {
		models = append(models, gen.ActiveModelLite{Name: ptr(m), Count: ptr(counts[m])})
	}
	d := gen.TeamDetails{ID: ptr(t.id), Name: ptr(t.name), Creator: ptr(t.owner.alias()), Info: t.info,
		Kudos: ptr(t.kudos), RequestsFulfilled: ptr(t.fulfilments), Uptime: ptr(t.uptime),
		WorkerCount: ptr(len(ws)), Workers: lite, Models: models}
	return withEmpty(d, "workers", "models")
}

// creditTeamLocked records a worker's fulfilment and the kudos it earned on its team.
func (s *Server) creditTeamLocked(w *worker, kudos float64) {
	if w.team == nil {
		return
	}
	w.team.fulfilments++
	w.team.kudos = round2(w.team.kudos + kudos)
}

func (s *Server) handleTeams(*http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	ts := make([]*team, 0, len(s.ext.teams))
	for _, t := range s.ext.teams {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].seq < ts[j].seq })
	out := make([]map[string]any, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.teamDetailsLocked(t, now))
	}
	return http.StatusOK, out
}

func validateTeamInput(name, info *string) *apiError {
	if e := strLen("name", name, 3, 100); e != nil {
		return e
	}
	return strLen("info", info, 3, 1000)
}

func (s *Server) handleTeamCreate(r *http.Request) (int, any) {
	var in gen.CreateTeamInput
	raw, e := decodeBody(r, &in)
	if e != nil {
		return 0, e
	}
	if !hasKey(raw, "name") {
		return 0, validationErr("name", "'name' is a required property")
	}
	if e := validateTeamInput(&in.Name, in.Info); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, "A User API key.")
	if ae != nil {
		return 0, ae
	}
	if u.id == 0 {
		return 0, anonForbidden("AnonForbidden")
	}
	if !u.Trusted {
		return 0, herr(http.StatusForbidden, "UntrustedTeamCreation", "Only Trusted users are allowed to perform this operation")
	}
	name := sanitize(in.Name)
	if s.teamByNameLocked(name) != nil {
		return 0, herr(http.StatusBadRequest, "TeamNameAlreadyExists", "The specified team name '"+in.Name+"' is already taken!")
	}
	t := &team{id: s.newUUIDLocked(), name: name, owner: u, seq: s.ext.next(), created: s.clock.Now()}
	out := gen.ModifyTeam{ID: ptr(t.id), Name: ptr(name)}
	if in.Info != nil {
		t.info = ptr(sanitize(*in.Info))
		out.Info = t.info
	}
	s.ext.teams[t.id] = t
	return http.StatusOK, out
}

func (s *Server) handleTeamSingle(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teamByIDLocked(r.PathValue("team_id"))
	if t == nil {
		return 0, teamNotFound(r.PathValue("team_id"))
	}
	if r.Header.Get("apikey") != "" {
		u, ae := s.authLocked(r, true, "")
		if ae != nil {
			return 0, ae
		}
		if !u.Moderator {
			return 0, notModerator()
		}
	}
	return http.StatusOK, s.teamDetailsLocked(t, s.clock.Now())
}

func (s *Server) handleTeamPatch(r *http.Request) (int, any) {
	var in gen.ModifyTeamInput
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if e := validateTeamInput(in.Name, in.Info); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teamByIDLocked(r.PathValue("team_id"))
	if t == nil {
		return 0, teamNotFound(r.PathValue("team_id"))
	}
	u, ae := s.keyedUserLocked(r)
	if ae != nil {
		return 0, ae
	}
	owner := u.Moderator || u == t.owner
	out := gen.ModifyTeam{}
	changed := false
	if in.Info != nil {
		if !owner {
			return 0, herr(http.StatusForbidden, "NotOwner", "You're not an admin. Sod off!")
		}
		if t.info == nil || *in.Info != *t.info {
			t.info = ptr(sanitize(*in.Info))
		}
		out.Info = t.info
		changed = true
	}
	if in.Name != nil {
		if !owner {
			return 0, notModerator()
		}
		if *in.Name != t.name {
			name := sanitize(*in.Name)
			if other := s.teamByNameLocked(name); other != nil && other != t {
				return 0, internalError() // the server reports it through an unset attribute
			}
			t.name = name
		}
		out.Name = ptr(t.name)
		changed = true
	}
	if !changed {
		return 0, herr(http.StatusBadRequest, "NoTeamModSelected", "No team modification selected!")
	}
	return http.StatusOK, out
}

func (s *Server) handleTeamDelete(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teamByIDLocked(r.PathValue("team_id"))
	if t == nil {
		return 0, teamNotFound(r.PathValue("team_id"))
	}
	u, ae := s.keyedUserLocked(r)
	if ae != nil {
		return 0, ae
	}
	if !u.Moderator && u != t.owner {
		return 0, notModerator()
	}
	for _, w := range s.teamWorkersLocked(t) {
		w.team = nil
	}
	delete(s.ext.teams, t.id)
	return http.StatusOK, gen.DeletedTeam{DeletedID: ptr(t.id), DeletedName: ptr(t.name)}
}

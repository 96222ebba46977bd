package hordetest

import (
	"net/http"
	"strconv"

	"github.com/horde-go/horde/gen"
)

func workerInviteOnly(current int) *apiError {
	msg := "This horde has been switched to worker invite-only mode. " +
		"Please contact us on Discord to allow you to join your worker: https://discord.gg/aG68kk3Qpz "
	if current > 0 {
		msg = "This horde has been switched to worker invite-only mode and you already have " + strconv.Itoa(current) +
			" workers. Please contact us on Discord to allow you to join more workers: https://discord.gg/aG68kk3Qpz "
	}
	return herr(http.StatusForbidden, "WorkerInviteOnly", msg)
}

func notAdmin() *apiError {
	return herr(http.StatusForbidden, "NotAdmin", "You're not an admin. Sod off!")
}

func (s *Server) handleModesPut(r *http.Request) (int, any) {
	var in gen.PutHordeModesJSONBody
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, "The Admin API key.")
	if ae != nil {
		return 0, ae
	}
	out := gen.HordeModes{}
	changed := false
	if in.MaintenanceMode != nil {
		if !u.Admin {
			return 0, notAdmin()
		}
		s.setMaintenanceLocked(*in.MaintenanceMode)
		out.MaintenanceMode = ptr(s.maintenance)
		changed = true
	}
	if in.InviteOnlyMode != nil {
		if !u.Moderator {
			return 0, notModerator()
		}
		s.ext.inviteOnly = *in.InviteOnlyMode
		out.InviteOnlyMode = ptr(s.ext.inviteOnly)
		changed = true
	}
	if in.RaidMode != nil {
		if !u.Moderator {
			return 0, notModerator()
		}
		s.ext.raid = *in.RaidMode
		out.RaidMode = ptr(s.ext.raid)
		changed = true
	}
	if !changed {
		return 0, herr(http.StatusBadRequest, "NoHordeModSelected", "No mod change selected!")
	}
	return http.StatusOK, out
}

func (s *Server) handleAward(r *http.Request) (int, any) {
	var in gen.PostAwardKudosJSONBody
	if _, e := decodeParsed(r, &in); e != nil { // reqparse: amount goes through int()
		return 0, e
	}
	if r.Header.Get("apikey") == "" {
		return 0, missingAPIKey("The sending user's API key.")
	}
	if in.Username == nil {
		return 0, validationErr("username", "The user ID which will receive the kudos. Missing required parameter in the JSON body")
	}
	amount := deref(in.Amount, 100)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, "")
	if ae != nil {
		return 0, ae
	}
	if u.deleted {
		return 0, herr(http.StatusForbidden, "DeletedUser", "This account has been scheduled for deletion and is disabled.")
	}
	if u.id != 1 {
		return 0, herr(http.StatusForbidden, "NotAllowedAwards", "Only special people can award kudos. Now you're very special as well, just not the right kind.")
	}
	to := s.userByAliasLocked(*in.Username)
	if to == nil {
		return 0, herr(http.StatusBadRequest, "InvalidAwardUsername", "Invalid target username.")
	}
	if to.id == 0 {
		return 0, herr(http.StatusBadRequest, "KudosAwardToAnon", "Cannot award anon. No go.")
	}
	if to.flagged {
		// The server returns a two-item list through a single-object marshaller.
		return http.StatusOK, []map[string]any{{"awarded": nil}, {"awarded": nil}}
	}
	to.Kudos += float64(amount)
	to.ext.awarded += float64(amount)
	return http.StatusOK, gen.KudosAwarded{Awarded: ptr(float64(amount))}
}

// userByAliasLocked is the server's find_user_by_username: the id after the last '#' (or
// the whole text) names the user.
func (s *Server) userByAliasLocked(name string) *user {
	id := name
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '#' {
			id = name[i+1:]
			break
		}
	}
	n, err := strconv.Atoi(id)
	if err != nil || n < 0 {
		return nil
	}
	u := s.users[n]
	if u == nil || u.ext.wiped {
		return nil
	}
	return u
}

func (s *Server) handleAesthetics(r *http.Request) (int, any) {
	var in gen.AestheticsPayload
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if e := strLen("best", in.Best, 36, 36); e != nil {
		return 0, e
	}
	for i, rt := range in.Ratings {
		f := "ratings." + strconv.Itoa(i)
		if e := strLen(f+".id", &rt.ID, 36, 36); e != nil {
			return 0, e
		}
		if e := intRange(f+".rating", rt.Rating, 1, 10); e != nil {
			return 0, e
		}
		if e := optRange(f+".artifacts", rt.Artifacts, 0, 5); e != nil {
			return 0, e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	id := r.PathValue("id")
	req := s.requests[id]
	if req == nil || req.kind != kindImage {
		return 0, herr(http.StatusNotFound, "RequestNotFound", "Image Waiting Prompt (Aesthetics) with ID '"+id+"' not found.")
	}
	if !req.completed() {
		return 0, herr(http.StatusBadRequest, "AestheticsNotCompleted", "You can only aesthetically rate completed requests!")
	}
	// Only requests for the SDXL beta comparison are shared, and the simulator has none.
	return 0, herr(http.StatusBadRequest, "AestheticsNotPublic", "You can only aesthetically rate requests you have opted to share publicly")
}

// completed is the server's is_completed: faulted, or nothing left to generate and every
// job finished.
func (r *request) completed() bool {
	if r.faulted {
		return true
	}
	if r.n > 0 {
		return false
	}
	done, processing := 0, 0
	for _, j := range r.jobs {
		switch j.state {
		case jobDone:
			done++
		case jobProcessing:
			processing++
		}
	}
	return done-processing >= r.total
}

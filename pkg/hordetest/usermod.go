package hordetest

import (
	"encoding/base64"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/horde-go/horde/gen"
)

func userNotFound(id string) *apiError {
	return herr(http.StatusNotFound, "UserNotFound", "User with ID '"+id+"' not found.")
}

func anonForbidden(rc string) *apiError {
	return herr(http.StatusForbidden, rc, "Anonymous user is forbidden from performing this operation")
}

// userByPathLocked is the server's find_user_by_id on the path's user_id.
func (s *Server) userByPathLocked(r *http.Request) (*user, *apiError) {
	id := r.PathValue("user_id")
	n, err := strconv.Atoi(id)
	if err != nil || n < 0 {
		return nil, userNotFound(id)
	}
	u := s.users[n]
	if u == nil || u.ext.wiped {
		return nil, userNotFound(id)
	}
	return u, nil
}

func validateUserMod(in *gen.ModifyUserInput) *apiError {
	for _, c := range []struct {
		f        string
		v        *string
		min, max int
	}{{"admin_comment", in.AdminComment, 5, 500}, {"contact", in.Contact, 5, 500}, {"username", in.Username, 3, 100}} {
		if e := strLen(c.f, c.v, c.min, c.max); e != nil {
			return e
		}
	}
	if e := optRange("concurrency", in.Concurrency, 0, 500); e != nil {
		return e
	}
	if m := in.UsageMultiplier; m != nil && (*m < 0.1 || *m > 10) {
		bound := "less than the minimum of 0.1"
		if *m > 10 {
			bound = "greater than the maximum of 10"
		}
		return validationErr("usage_multiplier", strconv.FormatFloat(*m, 'f', -1, 64)+" is "+bound)
	}
	return nil
}

// setTrusted is the server's set_trusted: trust also unpauses the user's workers.
func (s *Server) setTrustedLocked(u *user, on bool) {
	if u.id == 0 {
		return
	}
	u.Trusted = on
	if on {
		for _, id := range u.workers {
			if w := s.workers[id]; w != nil {
				w.paused = false
			}
		}
	}
}

// handleUserPut applies the changes in the server's order; each one needs its role, and
// the changes made before a refused one stay made.
func (s *Server) handleUserPut(r *http.Request) (int, any) {
	var in gen.ModifyUserInput
	if _, e := decodeBody(r, &in); e != nil {
		return 0, e
	}
	if e := validateUserMod(&in); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.userByPathLocked(r)
	if ae != nil {
		return 0, ae
	}
	caller, ae := s.authLocked(r, true, "The Admin API .")
	if ae != nil {
		return 0, ae
	}
	out := gen.ModifyUser{}
	changed := false
	admin := func() *apiError {
		changed = true
		if !caller.Admin {
			return notAdmin()
		}
		return nil
	}
	mod := func() *apiError {
		changed = true
		if !caller.Moderator {
			return notModerator()
		}
		return nil
	}
	self := func() *apiError {
		changed = true
		if !caller.Moderator && caller != u {
			return notModerator()
		}
		if caller.id == 0 {
			return anonForbidden("AnonForbiddenUserMod")
		}
		return nil
	}
	anon := u.id == 0
	steps := []struct {
		set   bool
		check func() *apiError
		apply func() *apiError
	}{
		{in.Kudos != nil, admin, func() *apiError {
			u.Kudos += math.Trunc(*in.Kudos)
			out.NewKudos = ptr(u.Kudos)
			return nil
		}},
		{in.MonthlyKudos != nil, admin, func() *apiError {
			if *in.MonthlyKudos > 0 {
				u.Kudos += float64(*in.MonthlyKudos)
			}
			u.ext.monthlyKudos = max(u.ext.monthlyKudos+*in.MonthlyKudos, 0)
			out.MonthlyKudos = ptr(u.ext.monthlyKudos)
			return nil
		}},
		{in.UsageMultiplier != nil, admin, func() *apiError {
			u.ext.usageMultiplier = *in.UsageMultiplier
			out.UsageMultiplier = in.UsageMultiplier
			return nil
		}},
		{in.Moderator != nil, admin, func() *apiError {
			if !anon {
				u.Moderator = *in.Moderator
				if u.Moderator {
					s.setTrustedLocked(u, true)
				}
			}
			out.Moderator = ptr(u.Moderator)
			return nil
		}},
		{in.Concurrency != nil, mod, func() *apiError {
			u.Concurrency = *in.Concurrency
			out.Concurrency = ptr(u.Concurrency)
			return nil
		}},
		{in.WorkerInvited != nil, mod, func() *apiError {
			u.ext.workerInvited = *in.WorkerInvited
			out.WorkerInvited = ptr(u.ext.workerInvited)
			return nil
		}},
		{in.Trusted != nil, mod, func() *apiError {
			s.setTrustedLocked(u, *in.Trusted)
			out.Trusted = ptr(u.Trusted)
			return nil
		}},
		{in.Flagged != nil, mod, func() *apiError {
			if !anon {
				u.flagged = *in.Flagged
			}
			out.Flagged = ptr(u.flagged)
			return nil
		}},
		{in.Customizer != nil, mod, func() *apiError {
			if !anon {
				u.Customizer = *in.Customizer
			}
			out.Customizer = ptr(u.Customizer)
			return nil
		}},
		{in.Vpn != nil, mod, func() *apiError {
			if !anon {
				u.ext.vpn = *in.Vpn
			}
			out.Vpn = ptr(u.ext.vpn)
			return nil
		}},
		{in.Service != nil, mod, func() *apiError {
			if !anon {
				u.ext.service = *in.Service
			}
			out.Service = ptr(u.ext.service)
			return nil
		}},
		{in.Education != nil, mod, func() *apiError {
			if in.Concurrency == nil && *in.Education && u.Concurrency < 200 {
				u.Concurrency = 200
				out.Concurrency = ptr(u.Concurrency)
			}
			if in.Concurrency == nil && !*in.Education && u.Concurrency == 200 {
				u.Concurrency = 30
				out.Concurrency = ptr(u.Concurrency)
			}
			if !anon {
				u.ext.education = *in.Education
			}
			out.Education = ptr(u.ext.education)
			return nil
		}},
		{in.Special != nil, mod, func() *apiError {
			if !anon {
				u.ext.special = *in.Special
			}
			out.Special = ptr(u.ext.special)
			return nil
		}},
		{in.ResetSuspicion != nil, mod, func() *apiError {
			u.ext.suspicion = 0
			out.NewSuspicion = ptr(0)
			return nil
		}},
		{in.AdminComment != nil, mod, func() *apiError {
			if caller.id == 0 {
				return anonForbidden("AnonForbiddenUserMod")
			}
			u.ext.adminComment = sanitize(*in.AdminComment)
			out.AdminComment = ptr(u.ext.adminComment)
			return nil
		}},
		{in.PublicWorkers != nil, self, func() *apiError {
			if !anon {
				u.PublicWorkers = *in.PublicWorkers
			}
			out.PublicWorkers = ptr(u.PublicWorkers)
			return nil
		}},
		{in.Username != nil, self, func() *apiError {
			if len([]rune(*in.Username)) > 30 {
				return herr(http.StatusBadRequest, "TooLongUserName", "The specified username is too long. Please stay below 30")
			}
			u.Name = sanitize(*in.Username)
			out.Username = ptr(u.Name)
			return nil
		}},
		{in.Contact != nil, self, func() *apiError {
			u.ext.contact = sanitize(*in.Contact)
			out.Contact = ptr(u.ext.contact)
			return nil
		}},
		{in.GenerateProxyPasskey != nil, func() *apiError {
			changed = true
			if !caller.Moderator && caller != u {
				return notModerator()
			}
			return nil
		}, func() *apiError {
			if !caller.ext.service {
				return herr(http.StatusForbidden, "NonServiceForbidden", "Only Service Accounts can set a proxy passkey")
			}
			var b [16]byte
			for i := range b {
				b[i] = byte(s.rng.Uint32())
			}
			u.ext.proxyPasskey = base64.RawURLEncoding.EncodeToString(b[:])
			out.ProxyPasskey = ptr(u.ext.proxyPasskey)
			return nil
		}},
		{in.Undelete != nil, func() *apiError {
			changed = true
			if !caller.Moderator && caller != u {
				return notModerator()
			}
			return nil
		}, func() *apiError {
			if !u.deleted {
				return herr(http.StatusBadRequest, "UserNotDeleted", "User is not deleted, cannot undelete!")
			}
			u.deleted = false
			out.Undeleted = ptr(true)
			return nil
		}},
	}
	for _, st := range steps {
		if !st.set {
			continue
		}
		if e := st.check(); e != nil {
			return 0, e
		}
		if e := st.apply(); e != nil {
			return 0, e
		}
	}
	if !changed {
		return 0, herr(http.StatusBadRequest, "NoUserModSelected", "No usermod operations selected!")
	}
	return http.StatusOK, out
}

// handleUserDelete marks a user deleted; a second call wipes the account unless it was
// active in the last 30 days.
func (s *Server) handleUserDelete(r *http.Request) (int, any) {
	id := r.PathValue("user_id")
	if !isDigits(id) {
		return 0, userNotFound("Please use only the numerical part of the userID. E.g. the '1' in 'db0#1'")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var caller *user
	if r.Header.Get("apikey") != "" {
		c, ae := s.authLocked(r, true, "")
		if ae != nil {
			return 0, ae
		}
		caller = c
	}
	u, ae := s.userByPathLocked(r)
	if ae != nil {
		return 0, ae
	}
	if caller == nil {
		return 0, internalError() // the server reads the caller it never looked up
	}
	if caller.id == 0 {
		return 0, anonForbidden("AnonForbiddenUser")
	}
	if u.Moderator {
		return 0, herr(http.StatusForbidden, "CannotDeleteMod", "You cannot delete a user that is a moderator. Please contact an admin.")
	}
	if !caller.Moderator && caller != u {
		return 0, herr(http.StatusForbidden, "NotUserOrMod", "Only the user themselves or a moderator can delete a user")
	}
	now := s.clock.Now()
	if u.deleted {
		last := u.created
		if u.ext.lastActive.After(last) {
			last = u.ext.lastActive
		}
		if last.After(now.Add(-30 * 24 * time.Hour)) {
			return 0, herr(http.StatusForbidden, "CannotWipeActiveUser", "You cannot permanently wipe a user that was active in the last 30 days. Try again after "+
				pyDatetime(last.Add(30*24*time.Hour)))
		}
		for _, id := range u.workers {
			if w := s.workers[id]; w != nil && s.workerReferencedLocked(w) {
				return 0, internalError() // the wipe's worker delete fails, uncaught
			}
		}
		s.wipeUserLocked(u)
		return http.StatusOK, gen.SimpleResponse{Message: "OK"}
	}
	if u.id != 0 {
		u.deleted = true
	}
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

// wipeUserLocked removes an account for good: its workers and shared keys go with it.
func (s *Server) wipeUserLocked(u *user) {
	u.ext.wiped = true
	u.Name = "<wiped>"
	u.ext.contact = "<wiped>"
	for _, id := range append([]string(nil), u.workers...) {
		if w := s.workers[id]; w != nil {
			s.deleteWorkerLocked(w)
		}
	}
	for _, k := range s.userSharedKeysLocked(u) {
		s.deleteSharedKeyLocked(k)
	}
	delete(s.usersByKey, u.APIKey)
}

// deleteWorkerLocked forgets a worker, its team membership and its messages.
func (s *Server) deleteWorkerLocked(w *worker) {
	delete(s.workers, w.id)
	if s.workerNames[w.name] == w {
		delete(s.workerNames, w.name)
	}
	if s.builtin[w.kind] == w {
		delete(s.builtin, w.kind)
	}
	ids := w.owner.workers[:0]
	for _, id := range w.owner.workers {
		if id != w.id {
			ids = append(ids, id)
		}
	}
	w.owner.workers = ids
	for id, m := range s.ext.messages {
		if m.worker == w {
			delete(s.ext.messages, id)
		}
	}
}

func (s *Server) handleWorkerDelete(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workers[r.PathValue("worker_id")]
	if w == nil {
		return 0, workerNotFound(r.PathValue("worker_id"))
	}
	u, ae := s.keyedUserLocked(r)
	if ae != nil {
		return 0, ae
	}
	if !u.Moderator && u != w.owner {
		return 0, notModerator()
	}
	if u.id == 0 {
		return 0, anonForbidden("AnonForbiddenWorker")
	}
	if s.workerReferencedLocked(w) {
		return 0, herr(http.StatusLocked, "Locked", "Could not delete the worker at this point as it's referenced by a job it completed. Please try again after 20 mins.")
	}
	s.deleteWorkerLocked(w)
	return http.StatusOK, gen.DeletedWorker{DeletedID: ptr(w.id), DeletedName: ptr(w.name)}
}

// userExtDetailsLocked adds to a user's details what PUT /v2/users/{id} changes.
func (s *Server) userExtDetailsLocked(u *user, d *gen.UserDetails, private bool) {
	d.WorkerInvited = ptr(u.ext.workerInvited)
	d.Service, d.Education = ptr(u.ext.service), ptr(u.ext.education)
	d.KudosDetails.Awarded = ptr(u.ext.awarded)
	if private {
		s.ownDetailsLocked(u, d)
		d.Suspicious = ptr(u.ext.suspicion)
		d.MonthlyKudos = &gen.MonthlyKudos{Amount: ptr(u.ext.monthlyKudos)}
	}
}

// ownDetailsLocked adds what the server shows a user about themselves (privilege 1): their
// shared keys, contact, vpn and special roles.
func (s *Server) ownDetailsLocked(u *user, d *gen.UserDetails) {
	ids := []string{}
	for _, k := range s.userSharedKeysLocked(u) {
		ids = append(ids, k.id)
	}
	d.SharedkeyIds = ids
	d.Vpn, d.Special = ptr(u.ext.vpn), ptr(u.ext.special)
	if u.ext.contact != "" {
		d.Contact = ptr(u.ext.contact)
	}
}

// sharedKeyUserLocked is find_user's answer for a shared key: the owner's public details,
// named after the key.
func (s *Server) sharedKeyUserLocked(k *sharedKey) map[string]any {
	d := s.userDetailsLocked(k.owner, s.clock.Now(), false)
	name := ""
	if k.name != nil {
		name = ": " + *k.name
	}
	d.Username = ptr(k.owner.alias() + " (Shared Key" + name + ")")
	return withEmpty(d, userLists...)
}

// suspicious is the server's is_suspicious: an untrusted user with 5 suspicions or more.
func (u *user) suspicious() bool { return !u.Trusted && u.ext.suspicion >= 5 }

// transferRoleCheck refuses kudos transfers the roles PUT /v2/users/{id} sets forbid, in the
// server's order.
func transferRoleCheck(from, to *user) *apiError {
	bad := func(rc, msg string) *apiError { return herr(http.StatusBadRequest, rc, msg) }
	switch {
	case from.suspicious():
		return bad("FaultWhenKudosSending", "Something went wrong when sending kudos. Please contact the mods.")
	case from.flagged:
		return bad("SourceAccountFlagged", "The target account has been flagged for suspicious activity and tranferring kudos to them is blocked.")
	case from.ext.education:
		return bad("EducationCannotSendKudos", "Education accounts cannot transfer kudos away")
	case to.suspicious():
		return bad("FaultWhenKudosReceiving", "Something went wrong when receiving kudos. Please contact the mods.")
	case to.flagged:
		return bad("TargetAccountFlagged", "Your account has been flagged for suspicious activity. Please contact the mods.")
	}
	return nil
}

// pyDatetime formats t as str() of a naive UTC Python datetime.
func pyDatetime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05.000000")
}

// workerReferencedLocked reports whether a kept job or form still refers to the worker (the
// database then refuses to delete it).
func (s *Server) workerReferencedLocked(w *worker) bool {
	for _, j := range s.jobs {
		if j.worker == w {
			return true
		}
	}
	for _, f := range s.forms {
		if f.worker == w {
			return true
		}
	}
	return false
}

package hordetest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

func (s *Server) userDetailsLocked(u *user, now time.Time, private bool) gen.UserDetails {
	wids := append([]string{}, u.workers...)
	d := gen.UserDetails{Username: ptr(u.alias()), ID: ptr(u.id), Kudos: ptr(u.Kudos), Concurrency: ptr(u.Concurrency),
		WorkerInvited: ptr(0), Moderator: ptr(u.Moderator), Trusted: ptr(u.Trusted), Flagged: ptr(u.flagged),
		Vpn: ptr(false), Service: ptr(false), Education: ptr(false), Customizer: ptr(u.Customizer), Special: ptr(false),
		Deleted: ptr(u.deleted), Pseudonymous: ptr(false), AccountAge: ptr(int(now.Sub(u.created).Seconds())),
		WorkerCount: ptr(len(wids)), WorkerIds: wids, SharedkeyIds: []string{}, Styles: s.userStylesLocked(u, private),
		KudosDetails: &gen.UserKudosDetails{Accumulated: ptr(u.earned), Gifted: ptr(u.gifted), Donated: ptr(0.0),
			Admin: ptr(0.0), Received: ptr(u.received), Recurring: ptr(0.0), Awarded: ptr(0.0), Styled: ptr(u.styled)},
		Records: &gen.UserRecords{
			Usage:        &gen.UserThingRecords{Megapixelsteps: ptr(0.0), Tokens: ptr(0)},
			Contribution: &gen.UserThingRecords{Megapixelsteps: ptr(0.0), Tokens: ptr(0)},
			Fulfillment:  &gen.UserAmountRecords{Image: ptr(0), Text: ptr(0), Interrogation: ptr(0)},
			Request: &gen.UserAmountRecords{Image: ptr(u.requests[kindImage]), Text: ptr(u.requests[kindText]),
				Interrogation: ptr(u.requests[kindInterrogation])},
			Style: &gen.UserAmountRecords{Image: ptr(u.styleUse[kindImage]), Text: ptr(u.styleUse[kindText]), Interrogation: ptr(0)},
		},
		Usage: &gen.UsageDetails{}, Contributions: &gen.ContributionsDetails{}}
	if private {
		d.EvaluatingKudos = ptr(0.0)
		d.Suspicious = ptr(0)
		d.MonthlyKudos = &gen.MonthlyKudos{Amount: ptr(0)}
	}
	s.userExtDetailsLocked(u, &d, private)
	return d
}

// userStylesLocked lists the user's styles in creation order: public ones, or all of them
// for the user themselves or a moderator.
func (s *Server) userStylesLocked(u *user, all bool) []gen.ResponseModelStylesUser {
	var list []*style
	for _, st := range s.styles {
		if st.owner == u && (st.public || all) {
			list = append(list, st)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	out := []gen.ResponseModelStylesUser{}
	for _, st := range list {
		out = append(out, gen.ResponseModelStylesUser{ID: ptr(st.id), Name: ptr(st.uniqueName()), Type: ptr(gen.ModelType(st.kind))})
	}
	return out
}

var userLists = []string{"worker_ids", "styles", "sharedkey_ids"}

func (s *Server) handleFindUser(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("apikey")
	if k := s.sharedKeyLocked(key); k != nil && key != "" {
		return http.StatusOK, s.sharedKeyUserLocked(k)
	}
	u := s.usersByKey[key]
	if key == "" || u == nil {
		return 0, herr(http.StatusUnauthorized, "InvalidAPIKey", "No user matching sent API Key. Have you remembered to register at https://aihorde.net/register ?")
	}
	d := s.userDetailsLocked(u, s.clock.Now(), false)
	d.Styles = s.userStylesLocked(u, true) // the server shows the key's owner its private styles
	s.ownDetailsLocked(u, &d)
	return http.StatusOK, withEmpty(d, userLists...)
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
		if !u.ext.wiped {
			us = append(us, u)
		}
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
	if u == nil || u.ext.wiped {
		return 0, herr(http.StatusNotFound, "UserNotFound", "User "+r.PathValue("user_id")+" not found.")
	}
	caller, ae := s.authLocked(r, false, "")
	if r.Header.Get("apikey") != "" && ae != nil {
		return 0, ae
	}
	private := caller != nil && r.Header.Get("apikey") != "" && (caller == u || caller.Moderator)
	return http.StatusOK, withEmpty(s.userDetailsLocked(u, s.clock.Now(), private), userLists...)
}

func (s *Server) handleTransfer(r *http.Request) (int, any) {
	var in gen.PostTransferKudosJSONBody
	if _, e := decodeParsed(r, &in); e != nil { // reqparse: amount goes through int()
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
	if to != nil && to.ext.wiped {
		to = nil
	}
	var key *sharedKey
	if to == nil {
		if key = s.sharedKeyLocked(*in.Username); key != nil {
			if key.expired(now) {
				return bad("SharedKeyExpired", "This shared key has expired")
			}
			to = key.owner
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
	if ae := transferRoleCheck(from, to); ae != nil {
		return 0, ae
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
	if key != nil && key.kudos != -1 {
		key.kudos += float64(amount)
	}
	if idem != "" {
		s.transfers[idemKey] = transferRecord{target: to.id, amount: amount}
	}
	return http.StatusOK, gen.KudosTransferred{Transferred: ptr(float64(amount))}
}

package hordetest

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

// sharedKey lets others generate on its owner's kudos, within a kudos limit (-1: none) and
// per-job size limits (-1: none).
type sharedKey struct {
	id                             string
	owner                          *user
	seq                            int64
	kudos                          float64
	expiry                         *time.Time
	name                           *string
	utilized                       float64
	maxPixels, maxSteps, maxTokens int
}

func (k *sharedKey) expired(now time.Time) bool { return k.expiry != nil && k.expiry.Before(now) }

// consume takes a charge off the key's limit (never below 0) and counts it as utilized.
func (k *sharedKey) consume(amount float64) {
	if k.kudos == 0 {
		return
	}
	if k.kudos != -1 {
		k.kudos = math.Max(round2(k.kudos-amount), 0)
	}
	k.utilized = round2(k.utilized + amount)
}

// sharedKeyDetails is a key's details, its expiry as the server writes it.
type sharedKeyDetails struct {
	gen.SharedKeyDetails
	Expiry *serverDate `json:"expiry,omitempty"`
}

func (k *sharedKey) details() sharedKeyDetails {
	d := gen.SharedKeyDetails{ID: ptr(k.id), Username: ptr(k.owner.alias()), Name: k.name,
		Kudos: ptr(int(math.Round(k.kudos))), Utilized: ptr(int(math.Round(k.utilized))),
		MaxImagePixels: ptr(k.maxPixels), MaxImageSteps: ptr(k.maxSteps), MaxTextTokens: ptr(k.maxTokens)}
	out := sharedKeyDetails{SharedKeyDetails: d}
	if k.expiry != nil {
		out.Expiry = ptr(serverDate(*k.expiry))
	}
	return out
}

// jobWithin is the server's is_job_within_limits: the message of the first limit exceeded.
func (k *sharedKey) jobWithin(pixels, steps, tokens int) string {
	switch {
	case pixels >= 0 && k.maxPixels > -1 && pixels > k.maxPixels:
		return fmt.Sprintf("This shared key is limited to %d pixels per job. You requested %d pixels.", k.maxPixels, pixels)
	case steps >= 0 && k.maxSteps > -1 && steps > k.maxSteps:
		return fmt.Sprintf("This shared key is limited to %d steps per job. You requested %d steps.", k.maxSteps, steps)
	case tokens >= 0 && k.maxTokens > -1 && tokens > k.maxTokens:
		return fmt.Sprintf("This shared key is limited to %d tokens per job. You requested %d tokens.", k.maxTokens, tokens)
	}
	return ""
}

func (s *Server) sharedKeyLocked(id string) *sharedKey {
	c, ok := canonUUID(id)
	if !ok {
		return nil
	}
	return s.ext.sharedKeys[c]
}

// userSharedKeysLocked lists a user's shared keys in creation order.
func (s *Server) userSharedKeysLocked(u *user) []*sharedKey {
	var ks []*sharedKey
	for _, k := range s.ext.sharedKeys {
		if k.owner == u {
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].seq < ks[j].seq })
	return ks
}

func maxSharedKeys(u *user) int {
	switch {
	case u.Trusted:
		return 10
	case u.ext.education:
		return 1000
	}
	return 3
}

func sharedKeyUnknown() *apiError {
	return herr(http.StatusUnauthorized, "InvalidAPIKey", "No user matching sent Shared Key.")
}

func (s *Server) handleSharedKeyPut(r *http.Request) (int, any) {
	var in gen.SharedKeyInput
	if _, e := decodeParsed(r, &in); e != nil { // reqparse: kudos, expiry and the limits go through int()
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, "User API key.")
	if ae != nil {
		return 0, ae
	}
	if u.id == 0 {
		return 0, anonForbidden("AnonForbidden")
	}
	if n := maxSharedKeys(u); len(s.userSharedKeysLocked(u)) >= n {
		return 0, herr(http.StatusForbidden, "Forbidden", fmt.Sprintf("You cannot have more than %d shared keys.", n))
	}
	if in.Name != nil && len([]rune(*in.Name)) > 255 {
		return 0, internalError() // the column holds 255 characters and nothing checks before
	}
	now := s.clock.Now()
	k := &sharedKey{id: s.newUUIDLocked(), owner: u, seq: s.ext.next(), kudos: float64(deref(in.Kudos, 5000)),
		name: in.Name, maxPixels: deref(in.MaxImagePixels, -1), maxSteps: deref(in.MaxImageSteps, -1),
		maxTokens: deref(in.MaxTextTokens, -1)}
	if d := deref(in.Expiry, -1); d != 0 && d != -1 {
		k.expiry = ptr(now.Add(time.Duration(d) * 24 * time.Hour))
	}
	s.ext.sharedKeys[k.id] = k
	return http.StatusOK, k.details()
}

func (s *Server) handleSharedKeyGet(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.sharedKeyLocked(r.PathValue("sharedkey_id"))
	if k == nil {
		return 0, sharedKeyUnknown()
	}
	return http.StatusOK, k.details()
}

// ownedSharedKeyLocked finds the path's key and checks the caller owns it.
func (s *Server) ownedSharedKeyLocked(r *http.Request) (*sharedKey, *apiError) {
	if r.Header.Get("apikey") == "" {
		return nil, missingAPIKey("User API key.")
	}
	k := s.sharedKeyLocked(r.PathValue("sharedkey_id"))
	if k == nil {
		return nil, sharedKeyUnknown()
	}
	u, ae := s.authLocked(r, true, "")
	if ae != nil {
		return nil, ae
	}
	if k.owner != u {
		return nil, herr(http.StatusForbidden, "Forbidden", "Shared Key "+k.id+" belongs to "+k.owner.alias()+" and not to "+u.alias()+".")
	}
	return k, nil
}

func (s *Server) handleSharedKeyPatch(r *http.Request) (int, any) {
	var in gen.SharedKeyInput
	if _, e := decodeParsed(r, &in); e != nil { // reqparse: kudos, expiry and the limits go through int()
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ae := s.ownedSharedKeyLocked(r)
	if ae != nil {
		return 0, ae
	}
	if in.Expiry == nil && in.Kudos == nil && in.Name == nil && in.MaxImagePixels == nil &&
		in.MaxImageSteps == nil && in.MaxTextTokens == nil {
		return 0, herr(http.StatusBadRequest, "NoSharedKeyModSelected", "No shared key modification selected!")
	}
	if in.Name != nil && len([]rune(*in.Name)) > 255 {
		return 0, internalError() // the commit fails: nothing changes
	}
	if in.Expiry != nil {
		if *in.Expiry == -1 {
			k.expiry = nil
		} else {
			k.expiry = ptr(s.clock.Now().Add(time.Duration(*in.Expiry) * 24 * time.Hour))
		}
	}
	if in.Kudos != nil {
		k.kudos = float64(*in.Kudos)
	}
	if in.Name != nil {
		k.name = in.Name
	}
	if in.MaxImagePixels != nil {
		k.maxPixels = *in.MaxImagePixels
	}
	if in.MaxImageSteps != nil {
		k.maxSteps = *in.MaxImageSteps
	}
	if in.MaxTextTokens != nil {
		k.maxTokens = *in.MaxTextTokens
	}
	return http.StatusOK, k.details()
}

func (s *Server) handleSharedKeyDelete(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ae := s.ownedSharedKeyLocked(r)
	if ae != nil {
		return 0, ae
	}
	s.deleteSharedKeyLocked(k)
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

// deleteSharedKeyLocked removes a key; the requests made with it go too (the database
// cascades the delete to them).
func (s *Server) deleteSharedKeyLocked(k *sharedKey) {
	delete(s.ext.sharedKeys, k.id)
	for id, req := range s.requests {
		if req.sharedKey != k {
			continue
		}
		for _, j := range req.jobs {
			delete(s.jobs, j.id)
		}
		req.n = 0
		req.expired = true
		delete(s.requests, id)
	}
	s.compactQueueLocked()
}

// genAuthLocked authenticates a generation request whose apikey may be a shared key: the
// key's owner is the requester. An empty key with allow_downgrade makes the request the
// anonymous user's at downgraded priority.
func (s *Server) genAuthLocked(r *http.Request, allowDowngrade bool, now time.Time) (*user, *sharedKey, bool, *apiError) {
	k := s.sharedKeyLocked(r.Header.Get("apikey"))
	if k == nil {
		u, ae := s.authLocked(r, true, helpRegisteredKey)
		return u, nil, false, ae
	}
	switch {
	case k.kudos == 0 && allowDowngrade:
		return s.users[0], k, true, nil
	case k.kudos == 0:
		return nil, nil, false, herr(http.StatusForbidden, "SharedKeyEmpty", "This shared key has run out of kudos.")
	case k.expired(now):
		return nil, nil, false, herr(http.StatusForbidden, "SharedKeyExpired", "This shared key has expired")
	}
	return k.owner, k, false, nil
}

// sharedKeyShortLocked applies the key's kudos limit to a request needing need kudos: it
// answers whether to downgrade the request's priority, or the 403 the server gives.
func sharedKeyShort(k *sharedKey, need float64, allowDowngrade bool, req string) (bool, *apiError) {
	if k == nil || k.kudos == -1 || need <= k.kudos {
		return false, nil
	}
	if allowDowngrade {
		return true, nil
	}
	return false, herr(http.StatusForbidden, "SharedKeyInsufficientKudos", "This shared key does not have enough remaining kudos ("+
		strconv.FormatInt(int64(k.kudos), 10)+") to fulfill this "+req+" ("+pyFloat(need)+").")
}

// pyFloat formats a float as Python's str does for ordinary magnitudes ("10.0", "6.5").
func pyFloat(v float64) string {
	t := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(t, ".") {
		t += ".0"
	}
	return t
}

// chargeLocked debits a request's user and, for a shared-key request, the key's limit.
func (s *Server) chargeLocked(req *request, amount float64) {
	s.debitLocked(req.user, amount)
	if req.sharedKey != nil {
		req.sharedKey.consume(amount)
	}
}

package hordetest

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// extState is what the simulator keeps for teams, shared keys, worker messages, prompt
// filters, IP timeouts and the horde modes other than maintenance. It lives under Server.mu.
type extState struct {
	teams      map[string]*team
	sharedKeys map[string]*sharedKey
	messages   map[string]*workerMessage
	filters    map[int]*promptFilter
	nextFilter int
	// ipTimeouts maps a single address to the end of its timeout; blockTimeouts a CIDR.
	ipTimeouts    map[string]time.Time
	blockTimeouts map[string]time.Time
	ipSuspicion   map[string]int
	inviteOnly    bool
	raid          bool
	seq           int64
}

func newExtState() extState {
	return extState{teams: map[string]*team{}, sharedKeys: map[string]*sharedKey{},
		messages: map[string]*workerMessage{}, filters: map[int]*promptFilter{}, nextFilter: 1,
		ipTimeouts: map[string]time.Time{}, blockTimeouts: map[string]time.Time{}, ipSuspicion: map[string]int{}}
}

func (x *extState) next() int64 {
	x.seq++
	return x.seq
}

// userExt holds the user settings only moderators, admins or the user change.
type userExt struct {
	vpn, service, education, special bool
	contact, adminComment            string
	workerInvited                    int
	usageMultiplier                  float64 // 0 means 1
	monthlyKudos                     int
	proxyPasskey                     string
	suspicion                        int
	awarded                          float64
	lastActive                       time.Time
	wiped                            bool
}

// sanitize is the server's sanitize_string as far as the simulator needs it: markup
// characters escaped (an existing entity is kept), surrounding whitespace removed.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&' && !entityRe.MatchString(s[i:]):
			b.WriteString("&amp;")
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

var entityRe = regexp.MustCompile(`^&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);`)

// pyRepr quotes a string as Python's repr does in the schema validator's messages.
func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// strLen checks an optional string against a schema's minLength and maxLength (in characters;
// a max of 0 is no maximum).
func strLen(field string, v *string, min, max int) *apiError {
	if v == nil {
		return nil
	}
	n := len([]rune(*v))
	if n < min {
		return validationErr(field, pyRepr(*v)+" is too short")
	}
	if max > 0 && n > max {
		return validationErr(field, pyRepr(*v)+" is too long")
	}
	return nil
}

// internalError is the server's answer to an unhandled exception (the quirks that crash it).
func internalError() *apiError {
	return herr(http.StatusInternalServerError, "", "Internal Server Error")
}

// keyedUserLocked resolves an optional apikey header the way the server does where the
// parser does not require it: a missing key crashes the lookup (500), an unknown one is 401.
func (s *Server) keyedUserLocked(r *http.Request) (*user, *apiError) {
	if r.Header.Get("apikey") == "" {
		return nil, internalError()
	}
	return s.authLocked(r, true, "")
}

// modLocked is the server's check_for_mod: a required key, 401 when unknown, 403 NotModerator.
func (s *Server) modLocked(r *http.Request) (*user, *apiError) {
	u, ae := s.authLocked(r, true, "A mod API key.")
	if ae != nil {
		return nil, ae
	}
	if !u.Moderator {
		return nil, notModerator()
	}
	return u, nil
}

func notModerator() *apiError {
	return herr(http.StatusForbidden, "NotModerator", "You're not a mod. BTFO!")
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// canonUUID parses s as Python's uuid.UUID does (hyphens, braces and a urn:uuid: prefix
// optional, any case) and returns the canonical lower-case form.
func canonUUID(s string) (string, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "urn:uuid:")
	t = strings.TrimSuffix(strings.TrimPrefix(t, "{"), "}")
	t = strings.ReplaceAll(t, "-", "")
	if !uuidRe.MatchString(t) {
		return "", false
	}
	return t[0:8] + "-" + t[8:12] + "-" + t[12:16] + "-" + t[16:20] + "-" + t[20:], true
}

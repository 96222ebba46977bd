package hordetest

import (
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/horde-go/horde/gen"
)

// workerMessage is a message to one worker (or, sent by a moderator without a worker, to
// every worker), delivered in pops until it expires.
type workerMessage struct {
	id       string
	worker   *worker // nil: every worker
	userID   int
	message  string
	origin   string
	created  time.Time
	expiry   time.Time
	seq      int64
	workerID string
}

// full is the message as GET/POST /v2/workers/messages show it.
func (m *workerMessage) full() map[string]any {
	out := map[string]any{"id": m.id, "message": m.message, "origin": m.origin,
		"expiry": serverDate(m.expiry), "created": serverDate(m.created), "user_id": strconv.Itoa(m.userID)}
	if m.worker != nil {
		out["worker_id"] = m.workerID
	}
	return out
}

// messagePop is a message in a pop or a worker's details, its expiry as the server writes it.
type messagePop struct {
	gen.ResponseModelMessagePop
	Expiry serverDate `json:"expiry"`
}

// startedLocked is when the server started: the anonymous user is created then.
func (s *Server) startedLocked() time.Time { return s.users[0].created }

// messagesLocked lists messages in creation order.
func (s *Server) messagesLocked(keep func(*workerMessage) bool) []*workerMessage {
	var ms []*workerMessage
	for _, m := range s.ext.messages {
		if keep(m) {
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].seq < ms[j].seq })
	return ms
}

// popMessagesLocked is the messages a worker's pop carries: its own and those to every
// worker, while they have not expired.
func (s *Server) popMessagesLocked(w *worker, now time.Time) []any {
	out := []any{}
	for _, m := range s.messagesLocked(func(m *workerMessage) bool {
		return (m.worker == nil || m.worker == w) && m.expiry.After(now)
	}) {
		out = append(out, messagePop{ResponseModelMessagePop: gen.ResponseModelMessagePop{ID: m.id, Message: m.message,
			Origin: ptr(m.origin)}, Expiry: serverDate(m.expiry)})
	}
	return out
}

// workerDetailMessagesLocked is the messages shown in a worker's details: its own active
// ones, without their ids (the server builds these entries without one).
func (s *Server) workerDetailMessagesLocked(w *worker, now time.Time) []map[string]any {
	out := []map[string]any{}
	for _, m := range s.messagesLocked(func(m *workerMessage) bool { return m.worker == w && m.expiry.After(now) }) {
		e := m.full()
		delete(e, "id")
		out = append(out, e)
	}
	return out
}

func messageNotFound(id string) *apiError {
	return herr(http.StatusNotFound, "WorkermessageNotFound", "Workermessage with ID '"+id+"' not found.")
}

// messageLocked finds a message by id; an id that is not a UUID fails the database query.
func (s *Server) messageLocked(id string) (*workerMessage, *apiError) {
	c, ok := canonUUID(id)
	if !ok {
		return nil, internalError()
	}
	m := s.ext.messages[c]
	if m == nil {
		return nil, messageNotFound(id)
	}
	return m, nil
}

func (s *Server) handleMessages(r *http.Request) (int, any) {
	q := r.URL.Query()
	page := 1
	if v := q.Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			return 0, validationErr("page", "Which page of results to return. Each page has 50 messages. invalid literal for int() with base 10: "+pyRepr(v))
		}
		page = p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, "User API key.")
	if ae != nil {
		return 0, ae
	}
	userID, hasUser := q.Get("user_id"), q.Has("user_id")
	if !u.Moderator && hasUser {
		// The server compares its integer id with the query's text: never equal.
		return 0, herr(http.StatusForbidden, "Forbidden", "You can only view your own messages.")
	}
	validity := q.Get("validity")
	if validity != "" && validity != "active" && validity != "expired" && validity != "all" {
		return 0, herr(http.StatusBadRequest, "BadRequest", "validity can only be one of 'active, 'expired', or 'all'")
	}
	if validity == "" {
		validity = "active"
	}
	uid := u.id
	if u.Moderator {
		uid = -1
		if hasUser {
			v, err := strconv.Atoi(userID)
			if err != nil {
				return 0, internalError()
			}
			uid = v
		}
	}
	var wid string
	if q.Has("worker_id") {
		c, ok := canonUUID(q.Get("worker_id"))
		if !ok {
			return 0, internalError()
		}
		wid = c
	}
	if page < 1 {
		return 0, internalError() // a negative OFFSET
	}
	now := s.clock.Now()
	ms := s.messagesLocked(func(m *workerMessage) bool {
		if uid >= 0 && m.userID != uid && m.worker != nil {
			return false
		}
		if wid != "" && (m.worker == nil || m.workerID != wid) {
			return false
		}
		switch validity {
		case "active":
			return m.expiry.After(now)
		case "expired":
			return !m.expiry.After(now)
		}
		return true
	})
	// The server offsets by page-1 rows, not pages.
	out := []map[string]any{}
	for i := page - 1; i < len(ms) && len(out) < 50; i++ {
		out = append(out, ms[i].full())
	}
	return http.StatusOK, out
}

func (s *Server) handleMessagePost(r *http.Request) (int, any) {
	var in gen.InputModelMessage
	raw, e := decodeBody(r, &in)
	if e != nil {
		return 0, e
	}
	if !hasKey(raw, "message") {
		return 0, validationErr("message", "'message' is a required property")
	}
	for _, c := range []struct {
		f        string
		v        *string
		min, max int
	}{{"message", &in.Message, 1, 10240}, {"origin", in.Origin, 1, 255}, {"worker_id", in.WorkerID, 36, 36}} {
		if e := strLen(c.f, c.v, c.min, c.max); e != nil {
			return 0, e
		}
	}
	if e := optRange("expiry", in.Expiry, 1, 720); e != nil {
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
	origin := deref(in.Origin, "AI Horde Moderators")
	var w *worker
	if in.WorkerID != nil {
		w = s.workers[*in.WorkerID]
		if w == nil {
			return 0, workerNotFound(*in.WorkerID)
		}
	}
	if !u.Moderator {
		origin = strconv.Itoa(u.id)
		if w == nil {
			return 0, internalError() // the server reads an unset variable
		}
		if w.owner != u {
			return 0, herr(http.StatusForbidden, "MessagesOnlyOwnWorkers", "You can only send messages to your own workers.")
		}
	}
	if in.Expiry == nil {
		return 0, internalError() // no default: the server adds None hours
	}
	m := &workerMessage{id: s.newUUIDLocked(), worker: w, userID: u.id, message: in.Message, origin: origin,
		created: s.startedLocked(), expiry: s.clock.Now().Add(time.Duration(*in.Expiry) * time.Hour), seq: s.ext.next()}
	if w != nil {
		m.workerID = w.id
	}
	s.ext.messages[m.id] = m
	return http.StatusOK, m.full()
}

func (s *Server) handleMessageGet(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ae := s.messageLocked(r.PathValue("message_id"))
	if ae != nil {
		return 0, ae
	}
	return http.StatusOK, m.full()
}

func (s *Server) handleMessageDelete(r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ae := s.authLocked(r, true, "User API key.")
	if ae != nil {
		return 0, ae
	}
	m, ae := s.messageLocked(r.PathValue("message_id"))
	if ae != nil {
		return 0, ae
	}
	if m.userID != u.id && !u.Moderator {
		return 0, herr(http.StatusForbidden, "Forbidden", "You can only delete your own messages.")
	}
	delete(s.ext.messages, m.id)
	return http.StatusOK, gen.SimpleResponse{Message: "OK"}
}

func workerNotFound(id string) *apiError {
	return herr(http.StatusNotFound, "WorkerNotFound", "Worker with ID '"+id+"' not found.")
}

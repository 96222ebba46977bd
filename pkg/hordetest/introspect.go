package hordetest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"time"
)

// Call is one HTTP request the server answered.
type Call struct {
	// Time is the server clock's time when the answer was sent.
	Time time.Time
	// Method and Path are the request's method and URL path.
	Method, Path string
	// Operation is the operationId, or RouteR2Upload / RouteR2Download.
	Operation string
	// Status is the HTTP status answered.
	Status int
	// APIKey is the apikey header sent (empty if none).
	APIKey string
	// Body is the request body (at most the first 64 KiB; nil when empty).
	Body []byte
}

type bodyKey struct{}

// keepBody makes the request body available to record (the handlers read it themselves).
func keepBody(r *http.Request) *http.Request {
	if r.Body == nil || r.Body == http.NoBody || (r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch) {
		return r
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return r
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	return r.WithContext(context.WithValue(r.Context(), bodyKey{}, &data))
}

// maxCalls bounds the call log; older calls are dropped.
const maxCalls = 10000

func (s *Server) record(r *http.Request, op string, status int) {
	c := Call{Time: s.clock.Now(), Method: r.Method, Path: r.URL.Path, Operation: op, Status: status, APIKey: r.Header.Get("apikey")}
	if b, ok := r.Context().Value(bodyKey{}).(*[]byte); ok && len(*b) > 0 {
		c.Body = *b
		if len(c.Body) > 64<<10 {
			c.Body = c.Body[:64<<10]
		}
	}
	s.logMu.Lock()
	s.log = append(s.log, c)
	if len(s.log) > 2*maxCalls {
		s.log = append(s.log[:0:0], s.log[len(s.log)-maxCalls:]...)
	}
	s.logMu.Unlock()
}

// Calls returns the requests answered so far (at most the last 10,000), oldest first.
func (s *Server) Calls() []Call {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Call(nil), s.log...)
}

// JobInfo describes a job handed to a worker.
type JobInfo struct {
	ID         string
	RequestID  string
	Kind       string // "image" or "text"
	WorkerID   string
	WorkerName string
	Model      string
	// State is "processing", "done" or "faulted".
	State    string
	Censored bool
	// Submits counts accepted submits (at most 1); SubmitAttempts counts every submit call.
	Submits        int
	SubmitAttempts int
	Popped         time.Time
}

// RequestInfo describes a generation request the server holds.
type RequestInfo struct {
	ID   string
	Kind string // "image" or "text"
	// User is the requester's alias (name#id).
	User string
	// Waiting is the number of jobs not yet handed to a worker (the server's n).
	Waiting int
	// Total is the number of jobs the request wants (the server's jobs).
	Total     int
	Cancelled bool
	Faulted   bool
	// Kudos is the total charged so far.
	Kudos   float64
	Created time.Time
	Expiry  time.Time
	Jobs    []JobInfo
}

// FormInfo describes one alchemy form.
type FormInfo struct {
	ID              string
	InterrogationID string
	Name            string
	State           string
	WorkerName      string
	Submits         int
}

func jobInfo(j *job) JobInfo {
	st := [...]string{"processing", "done", "faulted"}[j.state]
	return JobInfo{ID: j.id, RequestID: j.req.id, Kind: j.req.kind, WorkerID: j.worker.id, WorkerName: j.worker.name,
		Model: j.model, State: st, Censored: j.censored, Submits: j.submits, SubmitAttempts: j.attempts, Popped: j.popped}
}

func requestInfo(r *request) RequestInfo {
	ri := RequestInfo{ID: r.id, Kind: r.kind, User: r.user.alias(), Waiting: r.n, Total: r.total,
		Cancelled: r.cancelled, Faulted: r.faulted, Kudos: r.charged, Created: r.created, Expiry: r.expiry}
	for _, j := range r.jobs {
		ri.Jobs = append(ri.Jobs, jobInfo(j))
	}
	return ri
}

// Requests returns every request the server still holds (expired ones are gone), oldest first.
// It applies the passage of time first (expiry, stale jobs, automatic fulfilment).
func (s *Server) Requests() []RequestInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	out := make([]RequestInfo, 0, len(s.requests))
	for _, r := range s.requests {
		out = append(out, requestInfo(r))
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || out[i].Created.Equal(out[j].Created) && out[i].ID < out[j].ID
	})
	return out
}

// Request returns one request by id.
func (s *Server) Request(id string) (RequestInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	r := s.requests[id]
	if r == nil {
		return RequestInfo{}, false
	}
	return requestInfo(r), true
}

// Queued returns the ids of the requests of kind ("image" or "text") waiting for a worker,
// in the order the next pop considers them.
func (s *Server) Queued(kind string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tickLocked()
	var ids []string
	for _, r := range s.orderedQueueLocked(kind, now) {
		ids = append(ids, r.id)
	}
	return ids
}

// Expired returns the ids of the requests deleted by expiry, oldest first.
func (s *Server) Expired() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	return append([]string(nil), s.expiredIDs...)
}

// Jobs returns every job handed to a worker (including the built-in one) of requests the
// server still holds.
func (s *Server) Jobs() []JobInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JobInfo, 0, len(s.jobs))
	for _, j := range s.jobs {
		out = append(out, jobInfo(j))
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Popped.Before(out[j].Popped) || out[i].Popped.Equal(out[j].Popped) && out[i].ID < out[j].ID
	})
	return out
}

// Forms returns every alchemy form the server holds.
func (s *Server) Forms() []FormInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]FormInfo, 0, len(s.forms))
	for _, f := range s.forms {
		fi := FormInfo{ID: f.id, InterrogationID: f.in.id, Name: f.name, State: f.state, Submits: f.submits}
		if f.worker != nil {
			fi.WorkerName = f.worker.name
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Kudos returns the balance of the user with apiKey.
func (s *Server) Kudos(apiKey string) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usersByKey[apiKey]
	if u == nil {
		return 0, false
	}
	return u.Kudos, true
}

// SetKudos sets the balance of the user with apiKey.
func (s *Server) SetKudos(apiKey string, kudos float64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usersByKey[apiKey]
	if u == nil {
		return false
	}
	u.Kudos = kudos
	return true
}

// Advance applies the passage of time now (expiry, stale jobs, automatic fulfilment);
// every API call does this too.
func (s *Server) Advance() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSweep = time.Time{}
	s.tickLocked()
}

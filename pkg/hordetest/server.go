package hordetest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/horde-go/horde/pkg/params"
)

// ServerVersion is the AI Horde server version the simulator reproduces.
const ServerVersion = "5.1.5"

// AnonymousAPIKey is the API key of the anonymous user (id 0).
const AnonymousAPIKey = "0000000000"

// Clock gives the simulator its notion of time. Use a *FakeClock to control expiry,
// job time-outs, rate-limit windows and automatic fulfilment from a test.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

// Now returns the wall-clock time.
func (realClock) Now() time.Time { return time.Now() }

// FakeClock is a Clock that only moves when told to. It is safe for concurrent use.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a FakeClock set to t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// User describes an account known to the simulator.
type User struct {
	// Name is the username; the alias the API shows is Name#ID.
	Name string
	// APIKey authenticates the user (apikey header). Required and unique.
	APIKey string
	// ID is the user id; 0 means "assign the next free id" (ids start at 1).
	ID int
	// Kudos is the starting balance.
	Kudos float64
	// Trusted, Moderator and Customizer are the roles the server knows.
	Trusted, Moderator, Customizer bool
	// Concurrency is the maximum of waiting jobs (default 30).
	Concurrency int
	// PublicWorkers shows the user as owner of their workers in worker details.
	PublicWorkers bool
	// Admin puts the user in the server's ADMINS list: only admins may change a user's kudos,
	// monthly kudos, usage multiplier or moderator role (PUT /v2/users/{id}) and switch
	// maintenance mode (PUT /v2/status/modes).
	Admin bool
}

// Option configures a Server.
type Option func(*config)

type config struct {
	users        []User
	clock        Clock
	seed         uint64
	imageModels  []string
	textModels   []string
	autoFulfil   bool
	fulfilDelay  time.Duration
	rateLimits   bool
	maintenance  bool
	expiry       time.Duration
	censorPrompt string
	middleware   []func(http.Handler) http.Handler
	requirements map[string]ModelRequirements
	imageRef     *params.ImageModelReference
	textRef      *params.TextModelReference
}

// ModelRequirements are the requirements of a model in the image model reference; requests
// for the model whose params do not meet them get the server's warnings (StepsTooFew, ...).
// A nil field is no requirement.
type ModelRequirements struct {
	ClipSkip                           *int
	MinSteps, MaxSteps                 *int
	CfgScale, MinCfgScale, MaxCfgScale *float64
	Samplers                           []string
	// Schedulers lists "karras" and/or "simple".
	Schedulers []string
}

// WithModelRequirements registers the reference requirements of an image model.
func WithModelRequirements(model string, req ModelRequirements) Option {
	return func(c *config) {
		if c.requirements == nil {
			c.requirements = map[string]ModelRequirements{}
		}
		c.requirements[model] = req
	}
}

// WithMiddleware wraps the server's handler (outermost last), for example to log or to
// validate traffic against the OpenAPI document in tests.
func WithMiddleware(mw func(http.Handler) http.Handler) Option {
	return func(c *config) { c.middleware = append(c.middleware, mw) }
}

// WithUser registers a user. It may be given several times. A user without an API key, or
// whose key or id is already taken, is ignored (AddUser reports these errors).
func WithUser(u User) Option { return func(c *config) { c.users = append(c.users, u) } }

// WithClock sets the clock (default: the real clock).
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithSeed seeds every random choice the simulator makes (ids, seeds, faults). Default 1.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithImageModels sets the image models the built-in worker serves (default "stable_diffusion").
func WithImageModels(models ...string) Option {
	return func(c *config) { c.imageModels = append([]string(nil), models...) }
}

// WithTextModels sets the text models the built-in worker serves (default "hordetest/text").
func WithTextModels(models ...string) Option {
	return func(c *config) { c.textModels = append([]string(nil), models...) }
}

// WithAutoFulfil enables the built-in worker: every job it can serve is finished with a
// deterministic synthetic result once delay has passed on the server's clock since the
// request was queued. The built-in worker also counts as an active worker (is_possible,
// status/models).
func WithAutoFulfil(delay time.Duration) Option {
	return func(c *config) { c.autoFulfil, c.fulfilDelay = true, delay }
}

// WithRateLimits switches the real server's rate limits on (default off).
func WithRateLimits(on bool) Option { return func(c *config) { c.rateLimits = on } }

// WithMaintenance starts the horde in maintenance mode.
func WithMaintenance(on bool) Option { return func(c *config) { c.maintenance = on } }

// WithRequestExpiry changes how long a request lives after its last activity (default 20 min).
func WithRequestExpiry(d time.Duration) Option { return func(c *config) { c.expiry = d } }

// WithCensorWord makes the built-in worker submit image jobs whose prompt contains word
// (case-insensitive) as censored.
func WithCensorWord(word string) Option {
	return func(c *config) { c.censorPrompt = strings.ToLower(word) }
}

// Server is a running AI Horde simulator.
type Server struct {
	// URL is the API base URL, ending in "/api/", ready for gen.NewClientWithResponses.
	URL string
	// BaseURL is the root URL of the server ("http://127.0.0.1:port").
	BaseURL string

	ts      *httptest.Server
	handler http.Handler
	faults  *Faults
	cfg     config

	mu    sync.Mutex
	clock Clock
	rng   *rand.Rand
	r2key []byte

	users       map[int]*user
	usersByKey  map[string]*user
	nextUserID  int
	workers     map[string]*worker
	workerNames map[string]*worker
	builtin     map[string]*worker // by kind
	requests    map[string]*request
	queue       []*request // requests with n>0 (image and text), creation order
	jobs        map[string]*job
	forms       map[string]*form
	interrogs   map[string]*interrogation
	ifQueue     []*form
	r2          map[string][]byte
	seq         int64
	maintenance bool
	lastSweep   time.Time
	limiter     *limiter
	transfers   map[string]transferRecord
	lastSent    map[[2]int]time.Time
	expiredIDs  []string
	styles      map[string]*style
	collections map[string]*collection
	examples    map[string]*styleExample
	styleSeq    int64
	logMu       sync.Mutex
	log         []Call
	stats       stats
	ext         extState // teams, shared keys, worker messages, filters, IP timeouts
}

type stats struct {
	images, ps, textRequests, tokens int
	imgModels, txtModels             map[string]int
}

// NewServer starts a simulator on a loopback port. Call Close when done.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.ts = httptest.NewServer(s.handler)
	s.BaseURL = s.ts.URL
	s.URL = s.ts.URL + "/api/"
	return s
}

// NewUnstartedServer builds a simulator without listening; serve Handler() yourself.
func NewUnstartedServer(opts ...Option) *Server {
	cfg := config{seed: 1, expiry: 20 * time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.clock == nil {
		cfg.clock = realClock{}
	}
	cfg.loadReferences()
	if len(cfg.imageModels) == 0 {
		cfg.imageModels = []string{"stable_diffusion"}
	}
	if len(cfg.textModels) == 0 {
		cfg.textModels = []string{"hordetest/text"}
	}
	s := &Server{
		cfg:         cfg,
		clock:       cfg.clock,
		rng:         rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
		users:       map[int]*user{},
		usersByKey:  map[string]*user{},
		nextUserID:  1,
		workers:     map[string]*worker{},
		workerNames: map[string]*worker{},
		builtin:     map[string]*worker{},
		requests:    map[string]*request{},
		jobs:        map[string]*job{},
		forms:       map[string]*form{},
		interrogs:   map[string]*interrogation{},
		r2:          map[string][]byte{},
		maintenance: cfg.maintenance,
		transfers:   map[string]transferRecord{},
		lastSent:    map[[2]int]time.Time{},
		styles:      map[string]*style{},
		collections: map[string]*collection{},
		examples:    map[string]*styleExample{},
		stats:       stats{imgModels: map[string]int{}, txtModels: map[string]int{}},
	}
	s.r2key = []byte(fmt.Sprintf("hordetest-r2-%d", cfg.seed))
	s.ext = newExtState()
	s.faults = newFaults(cfg.seed)
	s.limiter = newLimiter()
	// The anonymous account sits at its kudos floor (-50), as on the real horde, where every
	// anonymous request drains it: requests needing upfront kudos are refused.
	anon := &user{User: User{Name: "Anonymous", APIKey: AnonymousAPIKey, Concurrency: 30, Kudos: -50}, id: 0,
		created: s.clock.Now(), requests: map[string]int{}, styleUse: map[string]int{}}
	s.users[0] = anon
	s.usersByKey[AnonymousAPIKey] = anon
	for _, u := range cfg.users {
		_, _ = s.addUserLocked(u)
	}
	if cfg.autoFulfil {
		owner, _ := s.addUserLocked(User{Name: "hordetest", APIKey: "hordetest-builtin-" + strconv.FormatUint(cfg.seed, 10), Trusted: true})
		now := s.clock.Now()
		for _, k := range []string{kindImage, kindText, kindInterrogation} {
			w := &worker{id: s.newUUIDLocked(), name: "hordetest-builtin-" + k, kind: k, owner: owner,
				bridgeAgent: "AI Horde Worker reGen:13.0.0:https://github.com/horde-go/horde", threads: 1,
				nsfw: true, maxPixels: 3072 * 3072, allowImg2Img: true, allowPainting: true,
				allowPostProcessing: true, allowControlnet: true, allowLora: true, allowUnsafeIP: true,
				maxLength: 4096, maxContext: 1 << 20, created: now, lastCheckIn: now, builtin: true}
			switch k {
			case kindImage:
				w.models = cfg.imageModels
			case kindText:
				w.models = cfg.textModels
			}
			s.workers[w.id] = w
			s.workerNames[w.name] = w
			s.builtin[k] = w
			owner.workers = append(owner.workers, w.id)
		}
	}
	s.handler = s.buildHandler()
	for _, mw := range cfg.middleware {
		s.handler = mw(s.handler)
	}
	return s
}

// Handler returns the simulator's http.Handler, serving /api/v2/... and the R2 stand-in.
func (s *Server) Handler() http.Handler { return s.handler }

// Close shuts the server down and waits for in-flight requests.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.CloseClientConnections()
		s.ts.Close()
	}
}

// Client returns an *http.Client for the server (the httptest client when started).
func (s *Server) Client() *http.Client {
	if s.ts != nil {
		return s.ts.Client()
	}
	return http.DefaultClient
}

// Faults returns the fault injector, which can be changed while the server runs.
func (s *Server) Faults() *Faults { return s.faults }

// AddUser registers a user while the server runs and returns its id.
func (s *Server) AddUser(u User) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	uu, err := s.addUserLocked(u)
	if err != nil {
		return 0, err
	}
	return uu.id, nil
}

// SetMaintenance switches maintenance mode. Switching it on cancels every queued job (n=0),
// as the real server does.
func (s *Server) SetMaintenance(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setMaintenanceLocked(on)
}

func (s *Server) setMaintenanceLocked(on bool) {
	s.maintenance = on
	if on {
		for _, r := range s.queue {
			r.n = 0
		}
		s.compactQueueLocked()
	}
}

// SetWorkerMaintenance switches a worker's maintenance mode by name (as its owner would with
// PUT /v2/workers/{id}); it reports whether the worker exists. A worker in maintenance only
// receives its owner's requests and its pops answer 403 WorkerMaintenance when none is found.
func (s *Server) SetWorkerMaintenance(name string, on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workerNames[name]
	if w == nil {
		return false
	}
	w.maintenance = on
	return true
}

type user struct {
	User
	id       int
	created  time.Time
	workers  []string
	deleted  bool
	flagged  bool
	received float64
	gifted   float64
	spent    float64 // total charged for generations
	earned   float64
	requests map[string]int
	styled   float64        // kudos received for the use of the user's styles
	styleUse map[string]int // uses of the user's styles, by kind
	ext      userExt        // roles and settings changed through PUT /v2/users/{id}
}

func (u *user) alias() string { return u.Name + "#" + strconv.Itoa(u.id) }

func (u *user) floor() float64 {
	if u.id == 0 {
		return -50
	}
	return 25
}

func (s *Server) addUserLocked(u User) (*user, error) {
	if u.APIKey == "" {
		return nil, fmt.Errorf("hordetest: user %q has no API key", u.Name)
	}
	if _, dup := s.usersByKey[u.APIKey]; dup {
		return nil, fmt.Errorf("hordetest: duplicate API key for user %q", u.Name)
	}
	if u.ID == 0 {
		u.ID = s.nextUserID
	}
	if _, dup := s.users[u.ID]; dup {
		return nil, fmt.Errorf("hordetest: duplicate user id %d", u.ID)
	}
	if u.ID >= s.nextUserID {
		s.nextUserID = u.ID + 1
	}
	if u.Concurrency == 0 {
		u.Concurrency = 30
	}
	if u.Name == "" {
		u.Name = "user"
	}
	uu := &user{User: u, id: u.ID, created: s.clock.Now(), requests: map[string]int{}, styleUse: map[string]int{}}
	s.users[u.ID] = uu
	s.usersByKey[u.APIKey] = uu
	return uu, nil
}

// debit takes amount from u, never below the floor.
func (s *Server) debitLocked(u *user, amount float64) {
	u.spent += amount
	nk := u.Kudos - amount
	if nk < u.floor() {
		nk = u.floor()
	}
	if u.Kudos < u.floor() { // never raise a balance that already sits below the floor
		nk = u.Kudos
	}
	u.Kudos = nk
}

func (s *Server) newUUIDLocked() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := s.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// r2Sign signs an R2 object URL path with an expiry, presigned-URL style.
func (s *Server) r2Sign(method, object string, exp int64) string {
	m := hmac.New(sha256.New, s.r2key)
	fmt.Fprintf(m, "%s\n%s\n%d", method, object, exp)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) r2URL(base, method, object string, now time.Time) string {
	exp := now.Add(30 * time.Minute).Unix()
	kind := "download"
	if method == http.MethodPut {
		kind = "upload"
	}
	return base + "/r2/" + kind + "/" + object + "?X-Amz-Expires=1800&X-Hordetest-Exp=" +
		strconv.FormatInt(exp, 10) + "&X-Amz-Signature=" + s.r2Sign(method, object, exp)
}

func baseURLOf(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func clientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		parts := strings.Split(xff, ",")
		return strings.TrimSpace(parts[len(parts)-1])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sweepLocked applies the passage of time: stale jobs, expiry and the built-in worker.
// tickLocked is the start of every handler that reads or changes the simulator's state, under
// s.mu (which the caller locks, visibly): it reads the clock and applies what time has done
// since the last request (sweepLocked), and returns the time. The key check stays in each
// handler, at the point of the server's validation order where the server makes it.
func (s *Server) tickLocked() time.Time {
	now := s.clock.Now()
	s.sweepLocked(now)
	return now
}

func (s *Server) sweepLocked(now time.Time) {
	if s.cfg.autoFulfil {
		s.autoFulfilLocked(now)
	}
	if !s.lastSweep.IsZero() && now.Sub(s.lastSweep) < time.Second && !now.Before(s.lastSweep) {
		return
	}
	s.lastSweep = now
	for _, j := range s.jobs {
		if j.state == jobProcessing && !j.worker.builtin && now.After(j.popped.Add(time.Duration(j.ttl)*time.Second)) {
			s.faultJobLocked(j)
		}
	}
	var gone []*request
	for id, r := range s.requests {
		if now.After(r.expiry) {
			for _, j := range r.jobs {
				delete(s.jobs, j.id)
			}
			delete(s.requests, id)
			r.expired = true
			gone = append(gone, r)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].seq < gone[j].seq })
	for _, r := range gone {
		s.expiredIDs = append(s.expiredIDs, r.id)
	}
	s.compactQueueLocked()
	for id, in := range s.interrogs {
		if now.After(in.expiry) {
			for _, f := range in.forms {
				delete(s.forms, f.id)
			}
			delete(s.interrogs, id)
		}
	}
	for _, f := range s.forms {
		if f.state == formProcessing && now.After(f.popped.Add(3*time.Minute)) {
			f.aborts++
			if f.aborts >= 4 {
				f.state = formFaulted
			} else {
				f.state = formWaiting
				s.ifQueue = append(s.ifQueue, f)
			}
		}
	}
	s.compactFormQueueLocked()
}

func (s *Server) compactQueueLocked() {
	q := s.queue[:0]
	for _, r := range s.queue {
		if r.n > 0 && !r.expired && !r.faulted {
			q = append(q, r)
		}
	}
	for i := len(q); i < len(s.queue); i++ {
		s.queue[i] = nil
	}
	s.queue = q
}

// orderedQueueLocked returns the queued requests of kind in the server's priority order:
// requester kudos at activation plus 50 for every 10 s queued, then age.
func (s *Server) orderedQueueLocked(kind string, now time.Time) []*request {
	out := make([]*request, 0, len(s.queue))
	for _, r := range s.queue {
		if r.kind == kind && r.n > 0 && !r.faulted {
			out = append(out, r)
		}
	}
	prio := func(r *request) float64 {
		return r.priority + 50*float64(int64(now.Sub(r.created)/(10*time.Second)))
	}
	sort.SliceStable(out, func(i, j int) bool {
		pi, pj := prio(out[i]), prio(out[j])
		if pi != pj {
			return pi > pj
		}
		return out[i].seq < out[j].seq
	})
	return out
}

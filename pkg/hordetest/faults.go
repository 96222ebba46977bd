package hordetest

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Fault describes what to inject on a route. Probabilities are in [0, 1] and drawn from the
// server's seeded generator, so a sequential test sees the same faults on every run.
type Fault struct {
	// Error500, Error502 and Error503 are the probabilities of answering that status instead
	// of running the operation (500 carries the Horde's {"message"} body, 502/503 an HTML
	// page as a proxy would).
	Error500, Error502, Error503 float64
	// Latency is added before the request is handled (before anything is written).
	Latency time.Duration
	// Reset is the probability of closing the connection mid-response (after the headers
	// and half of the body).
	Reset float64
	// Truncate is the probability of sending only the first half of the JSON body (with a
	// matching Content-Length, so the HTTP exchange itself is valid).
	Truncate float64
	// InvalidJSON is the probability of replacing the body with bytes that are not JSON.
	InvalidJSON float64
}

// Route names for faults on the R2 stand-in; every API operation is named by its
// operationId (for example "get_image_async_check"); "*" applies to every route.
const (
	RouteR2Upload   = "r2_upload"
	RouteR2Download = "r2_download"
	RouteAll        = "*"
)

// Faults injects failures into a running server. Its methods are safe for concurrent use
// and take effect on the next request.
type Faults struct {
	mu       sync.Mutex
	rng      *rand.Rand
	routes   map[string]Fault
	bursts   map[string]int
	injected map[string]int
}

func newFaults(seed uint64) *Faults {
	return &Faults{rng: rand.New(rand.NewPCG(seed^0xfa017, seed+7)), routes: map[string]Fault{},
		bursts: map[string]int{}, injected: map[string]int{}}
}

// Set installs fault f on route (an operationId, RouteR2Upload, RouteR2Download or RouteAll).
func (f *Faults) Set(route string, fault Fault) {
	f.mu.Lock()
	f.routes[route] = fault
	f.mu.Unlock()
}

// Clear removes the fault of route.
func (f *Faults) Clear(route string) {
	f.mu.Lock()
	delete(f.routes, route)
	delete(f.bursts, route)
	f.mu.Unlock()
}

// ClearAll removes every fault and pending burst.
func (f *Faults) ClearAll() {
	f.mu.Lock()
	f.routes = map[string]Fault{}
	f.bursts = map[string]int{}
	f.mu.Unlock()
}

// Burst429 makes the next n requests on route answer a limiter 429 (no rc, with
// Retry-After and X-RateLimit-* headers).
func (f *Faults) Burst429(route string, n int) {
	f.mu.Lock()
	f.bursts[route] += n
	f.mu.Unlock()
}

// SlowR2 adds latency d to every R2 upload and download.
func (f *Faults) SlowR2(d time.Duration) {
	f.Set(RouteR2Upload, Fault{Latency: d})
	f.Set(RouteR2Download, Fault{Latency: d})
}

// Injected returns how many faults of each kind were injected so far
// (keys "500", "502", "503", "reset", "truncate", "invalid_json", "429", "latency").
func (f *Faults) Injected() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.injected))
	for k, v := range f.injected {
		out[k] = v
	}
	return out
}

type decision struct {
	f                                        *Faults
	status                                   int
	latency                                  time.Duration
	reset, truncate, invalidJSON, limitBurst bool
}

func (f *Faults) pick(route string) (decision, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.routes) == 0 && len(f.bursts) == 0 {
		return decision{}, false
	}
	d := decision{f: f}
	for _, key := range []string{route, RouteAll} {
		if f.bursts[key] > 0 {
			f.bursts[key]--
			if f.bursts[key] == 0 {
				delete(f.bursts, key)
			}
			d.limitBurst = true
			f.injected["429"]++
			return d, true
		}
	}
	fault, ok := f.routes[route]
	if !ok {
		fault, ok = f.routes[RouteAll]
	}
	if !ok {
		return d, false
	}
	d.latency = fault.Latency
	if d.latency > 0 {
		f.injected["latency"]++
	}
	draw := func(p float64) bool { return p > 0 && f.rng.Float64() < p }
	switch {
	case draw(fault.Error500):
		d.status = 500
	case draw(fault.Error502):
		d.status = 502
	case draw(fault.Error503):
		d.status = 503
	case draw(fault.Reset):
		d.reset = true
		f.injected["reset"]++
	case draw(fault.Truncate):
		d.truncate = true
		f.injected["truncate"]++
	case draw(fault.InvalidJSON):
		d.invalidJSON = true
		f.injected["invalid_json"]++
	}
	if d.status != 0 {
		f.injected[strconv.Itoa(d.status)]++
	}
	return d, true
}

// apply waits the latency and answers an injected status; it reports whether the request
// was answered.
func (d decision) apply(w http.ResponseWriter, r *http.Request) bool {
	if d.latency > 0 {
		t := time.NewTimer(d.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	switch d.status {
	case 0:
		return false
	case 500:
		writeJSON(w, 500, map[string]any{"message": "Internal Server Error"})
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(d.status)
		_, _ = io.WriteString(w, "<html><head><title>"+strconv.Itoa(d.status)+" "+http.StatusText(d.status)+
			"</title></head><body><center><h1>"+strconv.Itoa(d.status)+" "+http.StatusText(d.status)+"</h1></center></body></html>\n")
	}
	return true
}

func (d decision) writeCorrupted(w http.ResponseWriter, status int, body any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(body)
	data := buf.Bytes()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case d.invalidJSON:
		bad := []byte("<html>not json</html>{\"")
		w.Header().Set("Content-Length", strconv.Itoa(len(bad)))
		w.WriteHeader(status)
		_, _ = w.Write(bad)
	case d.truncate:
		half := data[:len(data)/2]
		w.Header().Set("Content-Length", strconv.Itoa(len(half)))
		w.WriteHeader(status)
		_, _ = w.Write(half)
	case d.reset:
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(status)
		_, _ = w.Write(data[:len(data)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// net/http closes the connection without logging for this sentinel.
		panic(http.ErrAbortHandler)
	}
}

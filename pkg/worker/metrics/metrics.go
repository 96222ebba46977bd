// Package metrics exposes a running worker to Prometheus, and its health to whatever watches
// it (a container orchestrator, a process supervisor, an uptime check).
//
//	m, err := metrics.New(metrics.Options{Threads: 2})
//	settings.Observer = m                                  // the worker reports to it
//	go http.ListenAndServe("127.0.0.1:9099", m.Handler())  // /metrics and /healthz
//
// # Metrics
//
//   - horde_worker_jobs_total{kind,model,state}: jobs popped, done, faulted and abandoned
//     (dropped by the Horde: expired or cancelled)
//   - horde_worker_jobs_in_flight{kind}: popped and not yet settled
//   - horde_worker_job_duration_seconds{kind}: from pop to settlement (histogram)
//   - horde_worker_backend_busy_seconds_total{kind} and horde_worker_backend_busy_ratio: time
//     the backends spent running jobs, and its share of the time since start times Threads
//   - horde_worker_pops_total{kind,result}: pops that found a job or none
//   - horde_worker_pop_errors_total{kind,cause}: failed pops by cause (rate_limited,
//     maintenance, refused, server, network)
//   - horde_worker_last_pop_timestamp_seconds{kind}: the last pop the Horde answered
//   - horde_worker_submit_retries_total{kind}, horde_worker_kudos_earned_total{kind}
//
// # Health
//
// /healthz answers 200 while popping works, and 503 with the reason after UnhealthyAfter
// consecutive failed pops of a kind or while the Horde keeps the worker in maintenance.
package metrics

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/horde-go/horde/pkg/worker"
)

// Options configure Metrics.
type Options struct {
	// Registry receives the metrics; nil creates one (Handler serves it either way).
	Registry *prometheus.Registry
	// Threads is the worker's Settings.Threads, the denominator of the busy ratio (default 1).
	Threads int
	// UnhealthyAfter is how many consecutive failed pops of a kind make /healthz answer 503
	// (default 5).
	UnhealthyAfter int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Metrics is a worker.Observer that keeps Prometheus metrics and the worker's health.
type Metrics struct {
	reg  *prometheus.Registry
	opts Options

	jobs        *prometheus.CounterVec
	inFlight    *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	busySeconds *prometheus.CounterVec
	pops        *prometheus.CounterVec
	popErrors   *prometheus.CounterVec
	lastPop     *prometheus.GaugeVec
	retries     *prometheus.CounterVec
	kudos       *prometheus.CounterVec

	mu          sync.Mutex
	start       time.Time
	running     int           // jobs on a backend now
	busy        time.Duration // running × time, integrated up to last
	last        time.Time
	failures    map[string]int // consecutive failed pops by kind
	maintenance map[string]bool
}

var _ worker.Observer = (*Metrics)(nil)

// New creates the metrics and registers them.
func New(o Options) (*Metrics, error) {
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.UnhealthyAfter <= 0 {
		o.UnhealthyAfter = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{reg: o.Registry, opts: o, start: o.Now(), failures: map[string]int{}, maintenance: map[string]bool{}}
	m.last = m.start
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "horde", Subsystem: "worker", Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "horde", Subsystem: "worker", Name: name, Help: help}, labels)
	}
	m.jobs = counter("jobs_total", "Jobs by state: popped, done, faulted, abandoned.", "kind", "model", "state")
	m.inFlight = gauge("jobs_in_flight", "Jobs popped and not yet settled.", "kind")
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "horde", Subsystem: "worker",
		Name: "job_duration_seconds", Help: "Time from a job's pop to its settlement.",
		Buckets: []float64{0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640}}, []string{"kind"})
	m.busySeconds = counter("backend_busy_seconds_total", "Time the backends spent running jobs.", "kind")
	m.pops = counter("pops_total", "Pops the Horde answered, by result: job or empty.", "kind", "result")
	m.popErrors = counter("pop_errors_total", "Failed pops by cause: rate_limited, maintenance, refused, server, network.", "kind", "cause")
	m.lastPop = gauge("last_pop_timestamp_seconds", "When the Horde last answered a pop (Unix time).", "kind")
	m.retries = counter("submit_retries_total", "Submits that failed and were tried again.", "kind")
	m.kudos = counter("kudos_earned_total", "Kudos the Horde granted for accepted results.", "kind")
	ratio := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "horde", Subsystem: "worker", Name: "backend_busy_ratio",
		Help: "Share of the time since start that the backends were running jobs, over Threads."}, m.BusyRatio)
	for _, c := range []prometheus.Collector{m.jobs, m.inFlight, m.duration, m.busySeconds, m.pops, m.popErrors,
		m.lastPop, m.retries, m.kudos, ratio} {
		if err := o.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: registering: %w", err)
		}
	}
	return m, nil
}

// Observe implements worker.Observer.
func (m *Metrics) Observe(e worker.Event) {
	kind := string(e.Kind)
	switch e.Type {
	case worker.EventPopped:
		m.jobs.WithLabelValues(kind, e.Model, "popped").Inc()
		m.inFlight.WithLabelValues(kind).Inc()
		m.pops.WithLabelValues(kind, "job").Inc()
		m.popAnswered(kind, e.Time)
	case worker.EventEmptyPop:
		m.pops.WithLabelValues(kind, "empty").Inc()
		m.popAnswered(kind, e.Time)
	case worker.EventPopFailed:
		m.popErrors.WithLabelValues(kind, e.Cause).Inc()
		m.mu.Lock()
		m.failures[kind]++
		m.maintenance[kind] = e.Cause == "maintenance"
		m.mu.Unlock()
	case worker.EventBackendStarted:
		m.mu.Lock()
		m.integrate(e.Time)
		m.running++
		m.mu.Unlock()
	case worker.EventBackendFinished:
		m.busySeconds.WithLabelValues(kind).Add(e.Duration.Seconds())
		m.mu.Lock()
		m.integrate(e.Time)
		m.running--
		m.mu.Unlock()
	case worker.EventSubmitRetry:
		m.retries.WithLabelValues(kind).Inc()
	case worker.EventSubmitted:
		m.kudos.WithLabelValues(kind).Add(e.Kudos)
	case worker.EventJobDone, worker.EventJobFaulted, worker.EventJobAbandoned:
		m.jobs.WithLabelValues(kind, e.Model, string(e.Type)).Inc()
		m.inFlight.WithLabelValues(kind).Dec()
		m.duration.WithLabelValues(kind).Observe(e.Duration.Seconds())
	}
}

func (m *Metrics) popAnswered(kind string, t time.Time) {
	if t.IsZero() {
		t = m.opts.Now()
	}
	m.lastPop.WithLabelValues(kind).Set(float64(t.UnixNano()) / 1e9)
	m.mu.Lock()
	m.failures[kind] = 0
	m.maintenance[kind] = false
	m.mu.Unlock()
}

// integrate adds the busy time since the last change; the caller holds mu.
func (m *Metrics) integrate(now time.Time) {
	if now.IsZero() {
		now = m.opts.Now()
	}
	if now.After(m.last) {
		m.busy += time.Duration(m.running) * now.Sub(m.last)
		m.last = now
	}
}

// BusyRatio is the share of the time since New that the backends spent running jobs, over
// Threads: 1 means every thread was busy all the time.
func (m *Metrics) BusyRatio() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.integrate(m.opts.Now())
	elapsed := m.last.Sub(m.start)
	if elapsed <= 0 {
		return 0
	}
	return m.busy.Seconds() / (elapsed.Seconds() * float64(m.opts.Threads))
}

// Healthy reports whether popping works, and why not.
func (m *Metrics) Healthy() (bool, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for kind, in := range m.maintenance {
		if in {
			return false, "the Horde keeps the " + kind + " worker in maintenance"
		}
	}
	for kind, n := range m.failures {
		if n >= m.opts.UnhealthyAfter {
			return false, fmt.Sprintf("%d consecutive %s pops failed", n, kind)
		}
	}
	return true, "ok"
}

// Handler serves /metrics (the Prometheus text format) and /healthz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := m.Healthy()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = fmt.Fprintln(w, why)
	})
	return mux
}

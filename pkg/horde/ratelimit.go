package horde

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSafety stretches every period a little, so that clock skew between client and server
// and the server's window alignment cannot turn the last allowed request into a 429.
const limiterSafety = 1.05

// bucketFor sizes a token bucket that never exceeds a limit of n per period in any window of
// that length: such a window sees at most burst + floor(rate·period) requests, and
// rate·period = (n−burst+1)/1.05 < n−burst+1. The burst is a quarter of the limit, so short
// bursts go out at once and the sustained rate stays close to the server's.
func bucketFor(l limit) (rate.Limit, int) {
	burst := max(1, l.n/4)
	perSecond := float64(l.n-burst+1) / (l.period.Seconds() * limiterSafety)
	return rate.Limit(perSecond), burst
}

// limiters holds the token buckets of one client: one per route (and per path for limits the
// server counts per request id). Buckets idle for longer than their period hold no state worth
// keeping and are dropped, so polling many request ids does not grow memory without bound.
type limiters struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	sweeps  int
}

type bucket struct {
	lim      *rate.Limiter
	period   time.Duration
	lastUsed time.Time
}

// sweepEvery is how many bucket look-ups pass between sweeps of idle buckets.
const sweepEvery = 1024

func newLimiters() *limiters { return &limiters{buckets: map[string]*bucket{}} }

// wait blocks until every limit of r allows one more request to path, or ctx ends.
func (ls *limiters) wait(ctx context.Context, r *route, path string) error {
	for i, l := range r.limits {
		key := r.method + " " + r.template + "#" + strconv.Itoa(i)
		if l.perPath {
			key += " " + path
		}
		if err := ls.get(key, l).Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (ls *limiters) get(key string, l limit) *rate.Limiter {
	now := time.Now()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.sweeps++
	if ls.sweeps >= sweepEvery {
		ls.sweeps = 0
		for k, b := range ls.buckets {
			if now.Sub(b.lastUsed) > 2*b.period {
				delete(ls.buckets, k)
			}
		}
	}
	b, ok := ls.buckets[key]
	if !ok {
		r, burst := bucketFor(l)
		b = &bucket{lim: rate.NewLimiter(r, burst), period: l.period}
		ls.buckets[key] = b
	}
	b.lastUsed = now
	return b.lim
}

// size reports how many buckets are held (for tests).
func (ls *limiters) size() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.buckets)
}

// RateState is the server's rate-limit state as one answer reported it in X-RateLimit-* headers
// (see WithRateState).
type RateState struct {
	// Route is the operation the headers came with, as "METHOD /v2/path/{param}".
	Route string
	// Limit is the number of requests allowed in the current window.
	Limit int
	// Remaining is how many of them are left.
	Remaining int
	// Reset is when the window resets.
	Reset time.Time
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Seen is when the headers were received.
	Seen time.Time
}

// parseRateState reads X-RateLimit-* and Retry-After; ok is false without X-RateLimit-Limit.
func parseRateState(h http.Header, now time.Time) (RateState, bool) {
	lim, err := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	if err != nil {
		return RateState{}, false
	}
	st := RateState{Limit: lim, Seen: now}
	st.Remaining, _ = strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if reset, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset"), 64); err == nil && reset > 0 && reset < math.MaxInt32 {
		sec, frac := math.Modf(reset)
		st.Reset = time.Unix(int64(sec), int64(frac*1e9))
	}
	st.RetryAfter, _ = parseRetryAfter(h.Get("Retry-After"), now)
	return st, true
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || secs > 24*3600 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

package hordetest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// limitRule is one flask-limiter limit: amount per period, keyed by IP, IP+path or key+path.
type limitRule struct {
	amount     int
	period     time.Duration
	unit       string
	key        string // "ip", "ippath", "keypath"
	anonAmount int    // keypath only: the amount for the anonymous key (0: same)
}

// String renders the limit as flask-limiter does ("2 per 1 second").
func (l limitRule) String() string { return strconv.Itoa(l.amount) + " per 1 " + l.unit }

func perSecond(n int, key string) limitRule {
	return limitRule{amount: n, period: time.Second, unit: "second", key: key}
}
func perMinute(n int, key string) limitRule {
	return limitRule{amount: n, period: time.Minute, unit: "minute", key: key}
}
func perHour(n int, key string) limitRule {
	return limitRule{amount: n, period: time.Hour, unit: "hour", key: key}
}

// limitsFor gives the real server's limits for a route (§6 of the behaviour reference).
func limitsFor(method, path string) []limitRule {
	switch {
	case path == "/v2/status/heartbeat":
		return nil
	case method == "POST" && (path == "/v2/generate/async" || path == "/v2/generate/text/async"):
		k := perSecond(2, "keypath")
		k.anonAmount = 60
		return []limitRule{perMinute(90, "ippath"), perSecond(2, "ippath"), k}
	case path == "/v2/generate/status/{id}":
		return []limitRule{perMinute(10, "ippath")}
	case path == "/v2/generate/check/{id}":
		return []limitRule{perSecond(10, "ippath")}
	case path == "/v2/generate/text/status/{id}":
		return []limitRule{perMinute(60, "ippath")}
	case path == "/v2/interrogate/status/{id}":
		return []limitRule{perSecond(10, "ippath")}
	case strings.HasSuffix(path, "/pop") || strings.HasSuffix(path, "/submit"):
		return []limitRule{perSecond(60, "ip")}
	case path == "/v2/kudos/transfer":
		return []limitRule{perSecond(1, "keypath"), perHour(90, "keypath")}
	case path == "/v2/workers/{worker_id}":
		return []limitRule{perMinute(30, "ippath")}
	case path == "/v2/users":
		return []limitRule{perMinute(90, "ip")}
	case path == "/v2/users/{user_id}":
		return []limitRule{perMinute(60, "ippath")}
	case path == "/v2/status/modes":
		return []limitRule{perMinute(30, "ip")}
	case path == "/v2/styles/text" || path == "/v2/styles/image/{style_id}": // swapped upstream
		return []limitRule{perHour(20, "ippath"), perSecond(2, "ippath")}
	case path == "/v2/styles/image" || path == "/v2/styles/text/{style_id}" || path == "/v2/styles/image/{style_id}/example" ||
		path == "/v2/collections" || path == "/v2/collections/{collection_id}":
		return []limitRule{perMinute(90, "ippath"), perSecond(2, "ippath")}
	case path == "/v2/teams" || path == "/v2/teams/{team_id}":
		return []limitRule{perMinute(30, "ippath")}
	case method == "PUT" && path == "/v2/sharedkeys":
		return []limitRule{perMinute(5, "ippath")}
	case path == "/v2/generate/rate/{id}":
		return []limitRule{perMinute(5, "ippath")}
	}
	return []limitRule{perMinute(90, "ip")}
}

type window struct {
	start time.Time
	count int
}

type limiter struct {
	mu      sync.Mutex
	windows map[string]*window
}

func newLimiter() *limiter { return &limiter{windows: map[string]*window{}} }

func (l *limiter) bucket(rule limitRule, r *http.Request, idx int) (string, int) {
	amount := rule.amount
	var k string
	switch rule.key {
	case "ip":
		k = clientIP(r) + "@" + r.Pattern
	case "ippath":
		ip := clientIP(r)
		if pf := r.Header.Get("Proxied-For"); pf != "" {
			ip = pf
		}
		k = ip + "@" + r.Method + "@" + r.URL.Path
	default:
		key := r.Header.Get("apikey")
		if key == "" {
			key = AnonymousAPIKey
		}
		if key == AnonymousAPIKey && rule.anonAmount > 0 {
			amount = rule.anonAmount
		}
		sum := sha256.Sum256([]byte(key))
		k = hex.EncodeToString(sum[:]) + "@" + r.Method + "@" + r.URL.Path
	}
	return k + "#" + strconv.Itoa(idx), amount
}

// check counts the request against rules; it answers 429 (and sets headers) when exceeded.
func (l *limiter) check(w http.ResponseWriter, r *http.Request, rules []limitRule, now time.Time) (int, any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.windows) > 50000 {
		for k, win := range l.windows {
			if now.Sub(win.start) > time.Hour {
				delete(l.windows, k)
			}
		}
	}
	type state struct {
		win    *window
		amount int
		rule   limitRule
	}
	states := make([]state, len(rules))
	for i, rule := range rules {
		k, amount := l.bucket(rule, r, i)
		win := l.windows[k]
		if win == nil || !now.Before(win.start.Add(rule.period)) {
			win = &window{start: now}
			l.windows[k] = win
		}
		states[i] = state{win, amount, rule}
	}
	for _, st := range states {
		if st.win.count >= st.amount {
			setLimitHeaders(w, st.amount, 0, st.win.start.Add(st.rule.period), now)
			return http.StatusTooManyRequests, map[string]any{"message": limitRule{amount: st.amount, unit: st.rule.unit}.String()}
		}
	}
	best := -1
	for i := range states {
		states[i].win.count++
		if best < 0 || states[i].amount-states[i].win.count < states[best].amount-states[best].win.count {
			best = i
		}
	}
	b := states[best]
	setLimitHeaders(w, b.amount, b.amount-b.win.count, b.win.start.Add(b.rule.period), now)
	return 0, nil
}

func setLimitHeaders(w http.ResponseWriter, limit, remaining int, reset, now time.Time) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	retry := int(reset.Sub(now).Seconds() + 0.999)
	h.Set("Retry-After", strconv.Itoa(max(retry, 1)))
}

// forced429 sets the headers of an injected limiter 429 (a 2-per-second window).
func (l *limiter) forced429(w http.ResponseWriter, now time.Time) {
	setLimitHeaders(w, 2, 0, now.Add(time.Second), now)
}

package horde

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/horde-go/horde/internal/routes"
)

// keyPolicy says whether an operation takes the API key.
type keyPolicy uint8

const (
	keyNone     keyPolicy = iota // the operation takes no key: never send it
	keyOptional                  // send it only when the caller configured one
	keyRequired                  // always send it (the anonymous key by default)
)

// route is one operation of the API, matched against request paths.
type route struct {
	method   string
	template string   // "/v2/generate/status/{id}"
	segments []string // template split on "/"; "{…}" matches one segment
	key      keyPolicy
	limits   []limit
}

// limit is one of the server's rate limits on a route: at most n requests per period, counted
// per route and, when perPath is set, per concrete path (per request id), as the server counts.
type limit struct {
	n       int
	period  time.Duration
	perPath bool
}

func perSecond(n int) limit { return limit{n, time.Second, false} }
func perMinute(n int) limit { return limit{n, time.Minute, false} }
func perHour(n int) limit   { return limit{n, time.Hour, false} }

// perID counts a limit per concrete path, as the server does for routes keyed by IP and path.
func perID(l limit) limit { l.perPath = true; return l }

// serverLimits are the AI Horde server's limits by route (flask-limiter; see
// docs/server-behaviour.md, from the server's limiter.py and apis/v2 decorators). A route missing
// here gets defaultLimits; an empty list means the route is exempt.
var serverLimits = map[string][]limit{
	"POST /v2/generate/async":      {perSecond(2), perMinute(90)},
	"POST /v2/generate/text/async": {perSecond(2), perMinute(90)},
	"POST /v2/interrogate/async":   {perMinute(90)},
	// The server allows 10/s on check but caches its answer for 1 s: polling faster is waste.
	"GET /v2/generate/check/{id}":          {perID(perSecond(1))},
	"GET /v2/generate/status/{id}":         {perID(perMinute(10))},
	"DELETE /v2/generate/status/{id}":      {perID(perMinute(10))},
	"GET /v2/generate/text/status/{id}":    {perID(perMinute(60))},
	"DELETE /v2/generate/text/status/{id}": {perID(perMinute(60))},
	"GET /v2/interrogate/status/{id}":      {perID(perSecond(10))},
	"DELETE /v2/interrogate/status/{id}":   {perID(perSecond(10))},
	"POST /v2/generate/pop":                {perSecond(60)},
	"POST /v2/generate/submit":             {perSecond(60)},
	"POST /v2/generate/text/pop":           {perSecond(60)},
	"POST /v2/generate/text/submit":        {perSecond(60)},
	"POST /v2/interrogate/pop":             {perSecond(60)},
	"POST /v2/interrogate/submit":          {perSecond(60)},
	"POST /v2/generate/rate/{id}":          {perID(perMinute(5))},
	"POST /v2/kudos/transfer":              {perSecond(1), perHour(90)},
	"GET /v2/workers/{worker_id}":          {perID(perMinute(30))},
	"PUT /v2/workers/{worker_id}":          {perID(perMinute(30))},
	"DELETE /v2/workers/{worker_id}":       {perID(perMinute(30))},
	"GET /v2/users/{user_id}":              {perID(perMinute(60))},
	"PUT /v2/users/{user_id}":              {perID(perMinute(60))},
	"DELETE /v2/users/{user_id}":           {perID(perMinute(60))},
	"GET /v2/status/modes":                 {perMinute(30)},
	"PUT /v2/status/modes":                 {perMinute(30)},
	"GET /v2/teams":                        {perMinute(30)},
	"POST /v2/teams":                       {perMinute(30)},
	"GET /v2/teams/{team_id}":              {perID(perMinute(30))},
	"PATCH /v2/teams/{team_id}":            {perID(perMinute(30))},
	"DELETE /v2/teams/{team_id}":           {perID(perMinute(30))},
	"PUT /v2/sharedkeys":                   {perMinute(5)},
	"GET /v2/status/heartbeat":             {}, // exempt
	// Styles and collections: 90/min + 2/s per path, except /v2/styles/text and
	// /v2/styles/image/{id}, which upstream limits to 20/hour + 2/s.
	"GET /v2/styles/image":                     {perSecond(2), perMinute(90)},
	"POST /v2/styles/image":                    {perSecond(2), perMinute(90)},
	"GET /v2/styles/text":                      {perSecond(2), perHour(20)},
	"POST /v2/styles/text":                     {perSecond(2), perHour(20)},
	"GET /v2/styles/image/{style_id}":          {perID(perSecond(2)), perID(perHour(20))},
	"PATCH /v2/styles/image/{style_id}":        {perID(perSecond(2)), perID(perHour(20))},
	"DELETE /v2/styles/image/{style_id}":       {perID(perSecond(2)), perID(perHour(20))},
	"GET /v2/styles/text/{style_id}":           {perID(perSecond(2)), perID(perMinute(90))},
	"PATCH /v2/styles/text/{style_id}":         {perID(perSecond(2)), perID(perMinute(90))},
	"DELETE /v2/styles/text/{style_id}":        {perID(perSecond(2)), perID(perMinute(90))},
	"POST /v2/styles/image/{style_id}/example": {perID(perSecond(2)), perID(perMinute(90))},
	"GET /v2/collections":                      {perSecond(2), perMinute(90)},
	"POST /v2/collections":                     {perSecond(2), perMinute(90)},
	"GET /v2/collections/{collection_id}":      {perID(perSecond(2)), perID(perMinute(90))},
	"PATCH /v2/collections/{collection_id}":    {perID(perSecond(2)), perID(perMinute(90))},
	"DELETE /v2/collections/{collection_id}":   {perID(perSecond(2)), perID(perMinute(90))},
}

// defaultLimits apply to routes without their own: 90 per minute.
var defaultLimits = []limit{perMinute(90)}

// routeTable is every operation of the API, from the generated table of internal/routes,
// indexed by method and number of path segments so that a match looks at a handful of routes.
type routeTable struct {
	routes []route
	index  map[routeShape][]*route
}

// routeShape is what a path's routes share before their segments are compared.
type routeShape struct {
	method   string
	segments int
}

// keyPolicies maps the generated table's key requirements to the client's.
var keyPolicies = map[routes.KeyPolicy]keyPolicy{
	routes.KeyNone: keyNone, routes.KeyOptional: keyOptional, routes.KeyRequired: keyRequired,
}

// loadRoutes builds the route table once; it cannot fail.
var loadRoutes = sync.OnceValue(func() *routeTable {
	t := &routeTable{routes: make([]route, 0, len(routes.Operations))}
	for _, op := range routes.Operations {
		r := route{method: op.Method, template: op.Path, segments: strings.Split(op.Path, "/"), key: keyPolicies[op.Key]}
		var ok bool
		if r.limits, ok = serverLimits[op.Method+" "+op.Path]; !ok {
			r.limits = defaultLimits
		}
		t.routes = append(t.routes, r)
	}
	t.index = make(map[routeShape][]*route)
	for i := range t.routes {
		r := &t.routes[i]
		k := routeShape{r.method, len(r.segments)}
		t.index[k] = append(t.index[k], r)
	}
	return t
})

// match finds the route of a request path relative to the base URL ("/v2/…", escaped). It
// allocates nothing: it runs on every request.
func (t *routeTable) match(method, path string) (*route, bool) {
	var best *route
	bestLiterals := -1
	for _, r := range t.index[routeShape{method, strings.Count(path, "/") + 1}] {
		literal, ok := matchSegments(r.segments, path)
		// Prefer the route with more literal segments: /v2/workers/messages over /v2/workers/{id}.
		if ok && literal > bestLiterals {
			best, bestLiterals = r, literal
		}
	}
	return best, best != nil
}

// matchSegments matches path, segment by segment, against a template split on "/".
func matchSegments(template []string, path string) (literal int, ok bool) {
	rest := path
	for _, s := range template {
		seg, after, _ := strings.Cut(rest, "/")
		rest = after
		if strings.HasPrefix(s, "{") {
			if seg == "" {
				return 0, false
			}
			continue
		}
		if s != seg {
			return 0, false
		}
		literal++
	}
	return literal, true
}

// idempotent reports whether a request may be sent twice with the effect of once.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodPut, http.MethodOptions:
		return true
	case http.MethodPost:
		return req.Header.Get("Idempotency-Key") != ""
	}
	return false
}

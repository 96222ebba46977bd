package hordetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/horde-go/horde/api"
	"github.com/horde-go/horde/internal/routes"
)

// apiError is an error answer of the Horde.
type apiError struct {
	status int
	rc     string
	msg    string
	errs   map[string]string
}

func herr(status int, rc, msg string) *apiError { return &apiError{status: status, rc: rc, msg: msg} }

func validationErr(field, text string) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: "Input payload validation failed", errs: map[string]string{field: text}}
}

func missingAPIKey(help string) *apiError {
	return validationErr("apikey", help+" Missing required parameter in the HTTP headers")
}

func (e *apiError) body() any {
	m := map[string]any{"message": e.msg}
	if e.rc != "" {
		m["rc"] = e.rc
	}
	if e.errs != nil {
		m["errors"] = e.errs
	}
	return m
}

// handlerFunc answers a JSON operation: a status and a body (an *apiError for errors).
type handlerFunc func(r *http.Request) (int, any)

type routeInfo struct {
	op      string
	limits  []limitRule
	limited bool
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	implemented := map[string]bool{}
	add := func(method, path, op string, h handlerFunc) {
		implemented[method+" "+path] = true
		ri := routeInfo{op: op, limits: limitsFor(method, path)}
		ri.limited = len(ri.limits) > 0
		mux.Handle(method+" /api"+path, s.wrap(ri, h))
	}
	s.routes(add)
	for _, op := range routes.Operations {
		if implemented[op.Method+" "+op.Path] {
			continue
		}
		op := op
		ri := routeInfo{op: op.ID}
		mux.Handle(op.Method+" /api"+op.Path, s.wrap(ri, func(*http.Request) (int, any) {
			return http.StatusNotImplemented, map[string]any{
				"message": "hordetest: operation " + op.ID + " (" + op.Method + " " + op.Path + ") is not implemented by the simulator",
			}
		}))
	}
	// Other methods on known paths: 405 as flask answers it (200 for CORS preflights).
	used := map[string]bool{}
	paths := map[string]bool{}
	for k := range implemented {
		used[k] = true
		paths[k[strings.IndexByte(k, ' ')+1:]] = true
	}
	for _, op := range routes.Operations {
		used[op.Method+" "+op.Path] = true
		paths[op.Path] = true
	}
	notAllowed := func(w http.ResponseWriter, r *http.Request) {
		setCommonHeaders(w)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "The method is not allowed for the requested URL."})
	}
	for p := range paths {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if used[m+" "+p] || (m == "HEAD" && used["GET "+p]) {
				continue
			}
			mux.HandleFunc(m+" /api"+p, notAllowed)
		}
	}
	// The real server serves its Swagger document; SDKs fetch it to check or generate code.
	mux.HandleFunc("GET /api/swagger.json", func(w http.ResponseWriter, _ *http.Request) {
		setCommonHeaders(w)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(api.Swagger)
	})
	mux.Handle("PUT /r2/upload/{object}", s.wrapRaw("r2_upload", s.handleR2Upload))
	mux.Handle("GET /r2/download/{object}", s.wrapRaw("r2_download", s.handleR2Download))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		setCommonHeaders(w)
		writeJSON(w, http.StatusNotFound, map[string]any{
			"message": "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
		})
	})
	return mux
}

func setCommonHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE, PATCH")
	h.Set("Access-Control-Allow-Headers", "Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, apikey, Client-Agent, X-Fields, Idempotency-Key")
	h.Set("Horde-Node", "hordetest:0:"+ServerVersion)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	_ = json.NewEncoder(buf).Encode(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) wrap(ri routeInfo, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setCommonHeaders(w)
		r = keepBody(r)
		f, ok := s.faults.pick(ri.op)
		if ok && f.apply(w, r) {
			s.record(r, ri.op, f.status)
			return
		}
		if s.cfg.rateLimits && ri.limited {
			if st, body := s.limiter.check(w, r, ri.limits, s.clock.Now()); st != 0 {
				writeJSON(w, st, body)
				s.record(r, ri.op, st)
				return
			}
		}
		if ok && f.limitBurst {
			s.limiter.forced429(w, s.clock.Now())
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "2 per 1 second"})
			s.record(r, ri.op, http.StatusTooManyRequests)
			return
		}
		status, body := h(r)
		if e, isErr := body.(*apiError); isErr {
			status, body = e.status, e.body()
		}
		status, body = masked(r.Header.Get("X-Fields"), status, body)
		s.record(r, ri.op, status)
		if ok && (f.truncate || f.invalidJSON || f.reset) {
			f.writeCorrupted(w, status, body)
			return
		}
		writeJSON(w, status, body)
	})
}

func (s *Server) wrapRaw(op string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setCommonHeaders(w)
		f, ok := s.faults.pick(op)
		if ok && f.apply(w, r) {
			s.record(r, op, f.status)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h(rec, r)
		s.record(r, op, rec.status)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status.
func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func jsonTypeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "integer"
	case strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "bool":
		return "boolean"
	case kind == "slice":
		return "array"
	case kind == "map", kind == "struct", kind == "ptr":
		return "object"
	}
	return kind
}

// decodeBody decodes a JSON body into v and returns the raw bytes.
func decodeBody(r *http.Request, v any) ([]byte, *apiError) {
	data, e := readBody(r)
	if e != nil {
		return nil, e
	}
	return data, unmarshalBody(data, v)
}

func readBody(r *http.Request) ([]byte, *apiError) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return nil, herr(http.StatusBadRequest, "", "The browser (or proxy) sent a request that this server could not understand.")
	}
	if bytes.IndexByte(data, 0) >= 0 || bytes.Contains(data, []byte(`\u0000`)) {
		return nil, herr(http.StatusBadRequest, "NulByteInPayload", "Null bytes are not allowed in the payload")
	}
	return data, nil
}

func unmarshalBody(data []byte, v any) *apiError {
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "payload"
			}
			return validationErr(field, "value is not of type '"+jsonTypeName(te.Type.Kind().String())+"'")
		}
		return herr(http.StatusBadRequest, "", "Failed to decode JSON object: "+err.Error())
	}
	return nil
}

// decodeParsed is decodeBody for the operations the server reads with its argument parser only
// (reqparse, no payload validation: kudos transfer and award, shared keys, the filter check of
// POST /v2/filters): there an integer
// field runs through Python's int(), so an integral float such as 10.0 passes as 10. The
// operations whose server handler validates the payload against its model (generation
// requests, pops, submits, styles, teams, ...) use decodeBody and refuse 10.0 as the server's
// JSON-schema check (draft 4) does. A non-integral float in an integer field is refused here;
// the server would truncate it.
func decodeParsed(r *http.Request, v any) ([]byte, *apiError) {
	data, e := readBody(r)
	if e != nil {
		return nil, e
	}
	e = unmarshalBody(data, v)
	if e == nil || !isIntegerTypeError(e) {
		return data, e
	}
	fixed, ok := integralFloatsAsInts(data)
	if !ok || unmarshalBody(fixed, v) != nil {
		return nil, e
	}
	return fixed, nil
}

func isIntegerTypeError(e *apiError) bool {
	for _, msg := range e.errs {
		if strings.HasSuffix(msg, "'integer'") {
			return true
		}
	}
	return false
}

// integralFloatsAsInts rewrites every number of a JSON document whose value is integral
// (10.0, 1e2) as an integer literal; ok is false when there was none.
func integralFloatsAsInts(data []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if dec.Decode(&doc) != nil {
		return nil, false
	}
	changed := false
	var walk func(x any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				x[k] = walk(v)
			}
		case []any:
			for i, v := range x {
				x[i] = walk(v)
			}
		case json.Number:
			if _, err := x.Int64(); err == nil {
				return x
			}
			f, err := x.Float64()
			if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				changed = true
				return json.Number(strconv.FormatInt(int64(f), 10))
			}
		}
		return x
	}
	doc = walk(doc)
	if !changed {
		return nil, false
	}
	out, err := json.Marshal(doc)
	return out, err == nil
}

// hasKey reports whether the top-level JSON object in raw has key with a non-null value.
func hasKey(raw []byte, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	v, ok := m[key]
	return ok && string(v) != "null"
}

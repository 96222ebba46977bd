package horde

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

// Sentinel errors for the families of failures a caller branches on. An *APIError matches
// them with errors.Is; so do the errors of the generation helpers.
var (
	// ErrNotFound: the thing does not exist (404: RequestNotFound, UserNotFound, …).
	ErrNotFound = errors.New("horde: not found")
	// ErrUnauthorized: the API key is unknown (401 InvalidAPIKey).
	ErrUnauthorized = errors.New("horde: invalid API key")
	// ErrForbidden: the key is valid but may not do this (403).
	ErrForbidden = errors.New("horde: forbidden")
	// ErrKudosTooLow: the request needs kudos the user or shared key does not have
	// (KudosUpfront, KudosTransferNotEnough, SharedKeyInsufficientKudos, SharedKeyEmpty).
	ErrKudosTooLow = errors.New("horde: not enough kudos")
	// ErrTooManyPrompts: the user has too many requests queued (429 TooManyPrompts). Retrying at
	// once does not help: wait for a request to finish.
	ErrTooManyPrompts = errors.New("horde: too many queued requests")
	// ErrRateLimited: the server's rate limiter refused the request (429 without TooManyPrompts).
	ErrRateLimited = errors.New("horde: rate limited")
	// ErrMaintenance: the Horde or the worker is in maintenance mode (MaintenanceMode,
	// WorkerMaintenance, WorkerFlaggedMaintenance, or 503).
	ErrMaintenance = errors.New("horde: maintenance mode")
	// ErrValidation: the request was refused as invalid (400 other than maintenance): either the
	// schema check, with Errors naming the fields, or a Horde rule, with the RC naming it.
	ErrValidation = errors.New("horde: invalid request")
	// ErrServer: the server failed (5xx other than 503).
	ErrServer = errors.New("horde: server error")
)

// maxExcerpt bounds the part of a non-JSON error body kept in an APIError.
const maxExcerpt = 256

// APIError is a non-2xx answer of the AI Horde, whether or not the API document declares that
// status for the operation.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// RC is the Horde's return code; empty on schema failures, limiter 429s and bare 5xx.
	RC gen.ReturnCode
	// Message is the Horde's message.
	Message string
	// Errors maps each field that failed schema validation to what was wrong with it.
	Errors map[string]string
	// Method and Path identify the request (the path as sent, without the query).
	Method, Path string
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
	// Excerpt is the start of the body when it was not the Horde's error shape (an HTML page
	// from a proxy, say).
	Excerpt string
}

// Error says what failed, with the status, return code, message and field errors. It never
// contains the API key: requests carry it in a header only.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("horde: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.RC != "" {
		fmt.Fprintf(&b, " (%s)", e.RC)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if len(e.Errors) > 0 {
		fields := make([]string, 0, len(e.Errors))
		for f := range e.Errors {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for i, f := range fields {
			sep := "; "
			if i == 0 {
				sep = " ["
			}
			fmt.Fprintf(&b, "%s%s: %s", sep, f, e.Errors[f])
		}
		b.WriteString("]")
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, ": %q", e.Excerpt)
	}
	return b.String()
}

var kudosCodes = map[gen.ReturnCode]bool{
	gen.ReturnCodeKudosUpfront:               true,
	gen.ReturnCodeKudosTransferNotEnough:     true,
	gen.ReturnCodeSharedKeyInsufficientKudos: true,
	gen.ReturnCodeSharedKeyEmpty:             true,
}

var maintenanceCodes = map[gen.ReturnCode]bool{
	gen.ReturnCodeMaintenanceMode:          true,
	gen.ReturnCodeWorkerMaintenance:        true,
	gen.ReturnCodeWorkerFlaggedMaintenance: true,
}

// Is matches the sentinel of e's family.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.RC == gen.ReturnCodeInvalidAPIKey
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrKudosTooLow:
		return kudosCodes[e.RC]
	case ErrTooManyPrompts:
		return e.RC == gen.ReturnCodeTooManyPrompts
	case ErrRateLimited:
		return e.rateLimited()
	case ErrMaintenance:
		return maintenanceCodes[e.RC] || e.StatusCode == http.StatusServiceUnavailable
	case ErrValidation:
		return e.StatusCode == http.StatusBadRequest && !maintenanceCodes[e.RC]
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode != http.StatusServiceUnavailable
	}
	return false
}

// rateLimited reports a limiter 429, as opposed to TooManyPrompts.
func (e *APIError) rateLimited() bool {
	return e.StatusCode == http.StatusTooManyRequests && e.RC != gen.ReturnCodeTooManyPrompts
}

// Temporary reports whether the same request may succeed later without change: limiter 429s,
// maintenance, 502, 503 and 504.
func (e *APIError) Temporary() bool {
	switch e.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return e.rateLimited() || maintenanceCodes[e.RC]
}

// errorBody is the Horde's error shape.
type errorBody struct {
	Message string            `json:"message"`
	RC      string            `json:"rc"`
	Errors  map[string]string `json:"errors"`
}

// newAPIError builds the error for a non-2xx response from its status, headers and body.
func newAPIError(method, path string, status int, h http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path}
	e.RetryAfter, _ = parseRetryAfter(h.Get("Retry-After"), time.Now())
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil && (eb.Message != "" || eb.RC != "" || len(eb.Errors) > 0) {
		e.Message, e.RC, e.Errors = eb.Message, gen.ReturnCode(eb.RC), eb.Errors
		return e
	}
	e.Excerpt = excerpt(body)
	return e
}

// excerpt returns the start of body as valid UTF-8, at most maxExcerpt bytes, spaces folded.
func excerpt(body []byte) string {
	if len(body) > maxExcerpt {
		body = body[:maxExcerpt]
	}
	// A rune cut in two at the end becomes invalid bytes, which ToValidUTF8 drops.
	return strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " ")
}

// APIErrorFromResponse returns the *APIError of a generated response (any gen.…Response) or a
// raw *http.Response with its body, or nil for a 2xx. Use it with the operations that Client
// exposes only through the embedded generated client.
func APIErrorFromResponse(resp *http.Response, body []byte) error {
	if resp == nil || resp.StatusCode/100 == 2 {
		return nil
	}
	method, path := "", ""
	if resp.Request != nil {
		method, path = resp.Request.Method, resp.Request.URL.EscapedPath()
	}
	return newAPIError(method, path, resp.StatusCode, resp.Header, body)
}

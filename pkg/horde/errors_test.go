package horde

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIErrorFamilies(t *testing.T) {
	all := []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrKudosTooLow, ErrTooManyPrompts,
		ErrRateLimited, ErrMaintenance, ErrValidation, ErrServer}
	tests := []struct {
		status int
		body   string
		want   []error
	}{
		{404, `{"message":"x","rc":"RequestNotFound"}`, []error{ErrNotFound}},
		{404, `{"message":"x","rc":"UserNotFound"}`, []error{ErrNotFound}},
		{401, `{"message":"x","rc":"InvalidAPIKey"}`, []error{ErrUnauthorized}},
		{403, `{"message":"x","rc":"NotModerator"}`, []error{ErrForbidden}},
		{403, `{"message":"x","rc":"KudosUpfront"}`, []error{ErrForbidden, ErrKudosTooLow}},
		{400, `{"message":"x","rc":"KudosTransferNotEnough"}`, []error{ErrKudosTooLow, ErrValidation}},
		{403, `{"message":"x","rc":"SharedKeyInsufficientKudos"}`, []error{ErrForbidden, ErrKudosTooLow}},
		{429, `{"message":"x","rc":"TooManyPrompts"}`, []error{ErrTooManyPrompts}},
		{429, `{"message":"2 per 1 second"}`, []error{ErrRateLimited}},
		{400, `{"message":"x","rc":"MaintenanceMode"}`, []error{ErrMaintenance}},
		{403, `{"message":"x","rc":"WorkerMaintenance"}`, []error{ErrForbidden, ErrMaintenance}},
		{503, `{"message":"x"}`, []error{ErrMaintenance}},
		{400, `{"message":"Input payload validation failed","errors":{"params.steps":"600 is greater than the maximum of 500"}}`, []error{ErrValidation}},
		{400, `{"message":"x","rc":"InvalidSize"}`, []error{ErrValidation}},
		{500, `{"message":"Internal Server Error"}`, []error{ErrServer}},
		{502, `<html><body><h1>502 Bad Gateway</h1></body></html>`, []error{ErrServer}},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			e := newAPIError("GET", "/api/v2/x", tt.status, http.Header{}, []byte(tt.body))
			for _, target := range all {
				want := false
				for _, w := range tt.want {
					want = want || w == target
				}
				assert.Equal(t, want, errors.Is(e, target), "errors.Is(%v)", target)
			}
		})
	}
}

func TestAPIErrorFromHTMLPage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeHorde(t)
		page := "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>" + strings.Repeat("x", 1000) + "</body></html>"
		f.handle("GET /v2/users", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = w.Write([]byte(page))
		})
		c := newTestClient(t, f, nil, WithoutRetries())
		_, err := c.Users(context.Background(), nil)
		var e *APIError
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 502, e.StatusCode)
		assert.Equal(t, "GET", e.Method)
		assert.Equal(t, "/api/v2/users", e.Path)
		assert.LessOrEqual(t, len(e.Excerpt), maxExcerpt)
		assert.True(t, strings.HasPrefix(e.Excerpt, "<html> <head><title>502 Bad Gateway"), e.Excerpt)
		assert.Contains(t, e.Error(), "502 Bad Gateway")
	})
}

func TestAPIErrorMessage(t *testing.T) {
	h := http.Header{"Retry-After": {"3"}}
	e := newAPIError("POST", "/api/v2/generate/async", 400, h,
		[]byte(`{"message":"Input payload validation failed","errors":{"width":"must be a multiple of 64","height":"too big"}}`))
	assert.Equal(t, `horde: POST /api/v2/generate/async: 400 Bad Request: Input payload validation failed [height: too big; width: must be a multiple of 64]`, e.Error())
	assert.Equal(t, 3*time.Second, e.RetryAfter)
	assert.False(t, e.Temporary())
	e = newAPIError("GET", "/api/v2/x", 404, nil, []byte(`{"message":"Request Not Found","rc":"RequestNotFound"}`))
	assert.Equal(t, `horde: GET /api/v2/x: 404 Not Found (RequestNotFound): Request Not Found`, e.Error())
	assert.True(t, newAPIError("GET", "/", 429, nil, []byte(`{"message":"1 per 1 second"}`)).Temporary())
	assert.Nil(t, APIErrorFromResponse(&http.Response{StatusCode: 204}, nil))
	assert.Nil(t, APIErrorFromResponse(nil, nil))
}

func FuzzAPIErrorBody(f *testing.F) {
	for _, seed := range []string{
		`{"message":"x","rc":"RequestNotFound"}`, `{"errors":{"a":"b"}}`, `<html>`, ``, `null`, `[]`,
		`{"message":1}`, `{"rc":{}}`, "\xff\xfe", `{"errors":{"a":1}}`,
	} {
		f.Add(429, seed, "7")
	}
	f.Fuzz(func(t *testing.T, status int, body string, retryAfter string) {
		e := newAPIError("GET", "/api/v2/x", status, http.Header{"Retry-After": {retryAfter}}, []byte(body))
		msg := e.Error()
		require.NotEmpty(t, msg)
		require.LessOrEqual(t, len(e.Excerpt), maxExcerpt)
		require.GreaterOrEqual(t, e.RetryAfter, time.Duration(0))
		for _, target := range []error{ErrNotFound, ErrRateLimited, ErrValidation} {
			_ = errors.Is(e, target)
		}
		_ = e.Temporary()
	})
}

func TestDecodeFailureNamesTheOperation(t *testing.T) {
	f := newFakeHorde(t)
	f.handle("GET /v2/status/heartbeat", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"message":"OK","vers`))
	})
	f.handle("GET /v2/users", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"not":"a list"}`))
	})
	c := newTestClient(t, f, nil)
	_, err := c.Heartbeat(context.Background())
	require.ErrorContains(t, err, "decoding the answer of GetHeartbeat")
	_, err = c.Users(context.Background(), nil)
	require.ErrorContains(t, err, "decoding the answer of GetUsers")
}

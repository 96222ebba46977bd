package hordetest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/horde-go/horde/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAutoFulfilSeveralDueInOneSweep: requests that fall due in the same sweep of the built-in
// worker are all served, and the request that triggered the sweep is answered. Before the fix,
// the sweep ranged over the queue while starting jobs compacted it: a nil-pointer panic dropped
// the connection and lost requests.
func TestAutoFulfilSeveralDueInOneSweep(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clk := NewFakeClock(t0)
	srv := NewServer(WithClock(clk), WithAutoFulfil(time.Second), WithRateLimits(false),
		WithUser(User{Name: "alice", APIKey: "alice-key", Kudos: 1e6, Concurrency: 100}))
	defer srv.Close()
	post := func() string {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/v2/generate/async",
			strings.NewReader(`{"prompt":"a lighthouse","r2":false,"params":{"width":64,"height":64}}`))
		require.NoError(t, err)
		req.Header.Set("apikey", "alice-key")
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err, "the server answers")
		defer resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		var body struct{ ID string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return body.ID
	}
	var ids []string
	for range 3 {
		ids = append(ids, post())
	}
	clk.Advance(1500 * time.Millisecond)
	ids = append(ids, post()) // its handler's sweep finds the first three due at once
	clk.Advance(1500 * time.Millisecond)
	srv.Advance()
	for i, id := range ids {
		ri, ok := srv.Request(id)
		require.True(t, ok, "request %d (%s) is known", i, id)
		assert.Zero(t, ri.Waiting, "request %d handed out", i)
		require.Len(t, ri.Jobs, 1)
		assert.Equal(t, "done", ri.Jobs[0].State, "request %d done", i)
	}
}

// TestServesSwaggerDocument: GET /api/swagger.json answers the upstream document, as the real
// server does.
func TestServesSwaggerDocument(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/swagger.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, api.Swagger, body)
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
}

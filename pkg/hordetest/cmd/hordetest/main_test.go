package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-user", "alice:alice-key:100:trusted", "-auto", "0s"}, &out, ready)
	}()
	url := <-ready
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	req, _ := http.NewRequest("GET", url+"v2/find_user", nil)
	req.Header.Set("apikey", "alice-key")
	res, err := c.Do(req)
	require.NoError(t, err)
	var u map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&u))
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	assert.Equal(t, "alice#1", u["username"])
	assert.Equal(t, true, u["trusted"])
	tr.CloseIdleConnections()
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), url)
}

func TestUserFlag(t *testing.T) {
	var u userFlags
	assert.Error(t, u.Set("nokey"))
	assert.Error(t, u.Set("a:k:x"))
	assert.Error(t, u.Set("a:k:1:king"))
	require.NoError(t, u.Set("a:k:5:moderator,customizer"))
	assert.True(t, u[0].Moderator && u[0].Customizer)
	assert.Equal(t, 5.0, u[0].Kudos)
	require.NoError(t, u.Set("b:k2::admin"))
	assert.True(t, u[1].Admin)
}

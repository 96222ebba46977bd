package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/hordetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	aliceKey = "alice-key-0123456789"
	bobKey   = "bob-key-0123456789"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of progress and status lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// onWrite, if set, sees every write (under the lock).
	onWrite func(p []byte)
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onWrite != nil {
		s.onWrite(p)
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newSim starts a simulator with alice (trusted, 1000 kudos) and bob (100 kudos).
func newSim(t *testing.T, opts ...hordetest.Option) *hordetest.Server {
	t.Helper()
	all := append([]hordetest.Option{
		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: aliceKey, Kudos: 1000, Trusted: true}),
		hordetest.WithUser(hordetest.User{Name: "bob", APIKey: bobKey, Kudos: 100}),
		hordetest.WithSeed(3), hordetest.WithRateLimits(false),
	}, opts...)
	srv := hordetest.NewServer(all...)
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs one command line in-process, with AI_HORDE_URL set to the simulator's URL and
// AI_HORDE_API_KEY to key (when not empty).
func runCLI(t *testing.T, ctx context.Context, srv *hordetest.Server, key string, argv ...string) result {
	t.Helper()
	var stdout, stderr syncBuffer
	return runWith(ctx, srv, key, &stdout, &stderr, argv...)
}

func runWith(ctx context.Context, srv *hordetest.Server, key string, stdout, stderr *syncBuffer, argv ...string) result {
	env := map[string]string{"AI_HORDE_API_KEY": key}
	if srv != nil {
		env["AI_HORDE_URL"] = srv.URL
	}
	code := Run(ctx, argv, Env{Stdout: stdout, Stderr: stderr, Getenv: func(k string) string { return env[k] }})
	return result{code, stdout.String(), stderr.String()}
}

var (
	reURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	reAge = regexp.MustCompile(`"(account_age|uptime)": \d+`)
)

// normalise replaces what changes between runs: the simulator's port and the ages.
func normalise(s string) string {
	s = reAge.ReplaceAllString(s, `"$1": N`)
	return reURL.ReplaceAllString(s, "http://SIM")
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	got = normalise(got)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create the golden files")
	assert.Equal(t, string(want), got, "golden file %s (go test -update rewrites it)", path)
}

func requireOK(t *testing.T, r result) {
	t.Helper()
	require.Equal(t, ExitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
}

func TestInfoCommandsGolden(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0), hordetest.WithImageModels("stable_diffusion", "Deliberate"),
		hordetest.WithTextModels("koboldcpp/tiny"))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"models_image", []string{"models"}},
		{"models_image_json", []string{"models", "--json"}},
		{"models_text", []string{"models", "--type", "text"}},
		{"workers", []string{"workers"}},
		{"workers_text_json", []string{"workers", "--type", "text", "--json"}},
		{"user_self", []string{"user"}},
		{"user_by_id", []string{"user", "2"}},
		{"user_by_name", []string{"user", "bob"}},
		{"user_alias_json", []string{"user", "bob#2", "--json"}},
		{"status", []string{"status"}},
		{"status_json", []string{"status", "--json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, ctx, srv, aliceKey, tc.argv...)
			requireOK(t, r)
			golden(t, tc.name, r.stdout)
		})
	}
}

func TestKudosTransfer(t *testing.T) {
	srv := newSim(t)
	ctx := context.Background()
	r := runCLI(t, ctx, srv, aliceKey, "kudos", "transfer", "--to", "bob#2", "--amount", "25")
	requireOK(t, r)
	golden(t, "kudos_transfer", r.stdout)
	r = runCLI(t, ctx, srv, aliceKey, "kudos", "transfer", "--to", "bob#2", "--amount", "5", "--json")
	requireOK(t, r)
	golden(t, "kudos_transfer_json", r.stdout)
	k, _ := srv.Kudos(bobKey)
	assert.InDelta(t, 130, k, 0.001)

	r = runCLI(t, ctx, srv, aliceKey, "kudos", "transfer", "--to", "bob#2", "--amount", "100000")
	assert.Equal(t, ExitFailure, r.code)
	assert.Contains(t, r.stderr, "horde: not enough kudos")
}

var reUUIDLine = regexp.MustCompile(`interrupted: (\w+) request ([0-9a-f-]{36})`)

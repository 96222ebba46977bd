package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	ctx := context.Background()
	in := "../../../api/swagger.json"
	committed := "../../../api/openapi.yaml"

	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"-strict", "-check", "-in", in, "-out", committed}, &out))
	require.Contains(t, out.String(), "hoist-enums")

	dir := t.TempDir()
	written := filepath.Join(dir, "openapi.yaml")
	require.NoError(t, run(ctx, []string{"-q", "-in", in, "-out", written}, &out))
	a, err := os.ReadFile(written)
	require.NoError(t, err)
	b, err := os.ReadFile(committed)
	require.NoError(t, err)
	require.Equal(t, b, a)

	require.NoError(t, os.WriteFile(written, []byte("stale"), 0o644))
	require.ErrorContains(t, run(ctx, []string{"-q", "-check", "-in", in, "-out", written}, &out), "stale")
	require.Error(t, run(ctx, []string{"-in", filepath.Join(dir, "missing.json")}, &out))
	require.Error(t, run(ctx, []string{"-no-such-flag"}, &out))
}

package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEExample runs the first Go program of README.md, so that what a newcomer copies
// keeps working. It compiles a program: skipped with -short.
func TestREADMEExample(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and runs the README program")
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)```go\n(package main\n.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "README.md has no Go program")
	lines := strings.Count(string(block[1]), "\n")
	require.Less(t, lines, 40, "the README program should stay short")

	// Inside the module, so that it builds against this checkout.
	dir, err := os.MkdirTemp(".", "readme-*")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), block[1], 0o644))
	out, err := exec.Command("go", "run", "./"+dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Regexp(t, `^stable_diffusion \d+ bytes\n$`, string(out))
}

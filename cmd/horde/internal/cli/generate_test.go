package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "golang.org/x/image/webp"

	"github.com/horde-go/horde/pkg/hordetest"
)

func TestImageSavesAndReports(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0))
	out := t.TempDir()
	r := runCLI(t, context.Background(), srv, aliceKey, "image", "a lighthouse ### blurry", "--width", "128", "--height", "64",
		"-n", "2", "--seed", "7", "-o", out, "--json")
	requireOK(t, r)
	var sum imageSummary
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sum))
	require.Len(t, sum.Images, 2)
	golden(t, "image_json", strings.ReplaceAll(r.stdout, out, "OUT"))
	for _, im := range sum.Images {
		data, err := os.ReadFile(im.File)
		require.NoError(t, err)
		// The simulator's built-in worker makes small stand-in images: check they decode.
		_, _, err = image.Decode(bytes.NewReader(data))
		require.NoError(t, err, "%s", im.File)
	}
	ri, ok := srv.Request(sum.ID)
	require.True(t, ok)
	assert.Equal(t, 2, ri.Total)
	// The negative prompt went after ###, as the API wants.
	var body string
	for _, c := range srv.Calls() {
		if c.Operation == "post_image_async_generate" {
			body = string(c.Body)
		}
	}
	assert.Regexp(t, `"prompt":"a lighthouse ?### ?blurry"`, body)
	assert.Contains(t, r.stderr, "image "+sum.ID[:8]+" done, 2/2 done")

	// The table output says where the files went.
	r = runCLI(t, context.Background(), srv, aliceKey, "image", "a cat", "--width", "64", "--height", "64", "-o", out)
	requireOK(t, r)
	golden(t, "image_table", strings.ReplaceAll(r.stdout, out, "OUT"))
}

func TestImageDryRun(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0))
	r := runCLI(t, context.Background(), srv, aliceKey, "image", "a castle", "--steps", "30", "--dry-run")
	requireOK(t, r)
	assert.Regexp(t, `^this request would cost \d+\.\d\d kudos \(nothing was queued\)\n$`, r.stdout)
	for _, ri := range srv.Requests() {
		assert.True(t, ri.Cancelled || ri.Total == 0, "a dry run queued request %s", ri.ID)
	}
}

func TestTextAndInterrogate(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0), hordetest.WithTextModels("koboldcpp/tiny"))
	out := t.TempDir()
	r := runCLI(t, context.Background(), srv, aliceKey, "text", "Once upon a time", "-m", "koboldcpp/tiny", "--max-length", "32", "-o", out, "--json")
	requireOK(t, r)
	var ts textSummary
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &ts))
	golden(t, "text_json", strings.ReplaceAll(r.stdout, out, "OUT"))
	require.Len(t, ts.Texts, 1)
	data, err := os.ReadFile(ts.Texts[0].File)
	require.NoError(t, err)
	assert.NotEmpty(t, strings.TrimSpace(string(data)))
	assert.Equal(t, ts.Texts[0].Text, string(data))

	// Interrogate the image an image request made.
	r = runCLI(t, context.Background(), srv, aliceKey, "image", "a cat", "--width", "64", "--height", "64", "-o", out, "--json")
	requireOK(t, r)
	var is imageSummary
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &is))
	r = runCLI(t, context.Background(), srv, aliceKey, "interrogate", is.Images[0].File, "--forms", "caption,nsfw", "-o", out)
	requireOK(t, r)
	golden(t, "interrogate_table", strings.ReplaceAll(r.stdout, out, "OUT"))
	assert.Regexp(t, `(?m)^caption \(done\): \S+`, r.stdout)
	assert.Regexp(t, `(?m)^nsfw \(done\): \{"nsfw":(true|false)\}`, r.stdout)
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	assert.Len(t, files, 1)
}

func TestUsageErrors(t *testing.T) {
	srv := newSim(t)
	for _, tc := range []struct {
		argv []string
		msg  string
		help string
	}{
		{[]string{"nosuch"}, `unknown command "nosuch"`, "horde --help"},
		{[]string{"image"}, "requires at least 1 arg", "horde image --help"},
		{[]string{"image", "x", "--no-such-flag"}, "unknown flag: --no-such-flag", "horde image --help"},
		{[]string{"image", "x", "--steps", "many"}, `invalid argument "many"`, "horde image --help"},
		{[]string{"image", "x", "--width", "500"}, "invalid parameters: width: must be a multiple of 64, got 500", "horde image --help"},
		{[]string{"image", "x ### y", "--negative", "z"}, "either after ### or with --negative", "horde image --help"},
		{[]string{"image", "x", "--source", "/no/such/file.png"}, "reading the source image", "horde image --help"},
		{[]string{"text", "x", "--max-length", "1"}, "invalid parameters: max_length", "horde text --help"},
		{[]string{"interrogate", "a", "b"}, "accepts 1 arg(s), received 2", "horde interrogate --help"},
		{[]string{"models", "--type", "video"}, "--type must be image or text", "horde models --help"},
		{[]string{"kudos", "transfer", "--amount", "5"}, "--to is required", "horde kudos transfer --help"},
		{[]string{"kudos", "transfer", "--to", "bob#2"}, "--amount must be a positive", "horde kudos transfer --help"},
		{[]string{"worker"}, "--config is required", "horde worker --help"},
		{[]string{"worker", "-c", "x.yaml", "--text-backend", "gpt"}, `--text-backend must be one of openai, test, none, not "gpt"`, "horde worker --help"},
		{[]string{"worker", "-c", "x.yaml", "--text-backend", "none"}, "no backend: choose at least one", "horde worker --help"},
		{[]string{"worker", "-c", "x.yaml", "--alchemy-backend", "vision,gpu"}, `--alchemy-backend must be none, or vision, comfyui or test separated by commas (vision,comfyui), not "vision,gpu"`, "horde worker --help"},
		{[]string{"sim", "serve", "--user", "nokey"}, "want NAME:KEY", "horde sim serve --help"},
		{[]string{"sim", "serve", "--fault", "*:404=1"}, "unknown kind", "horde sim serve --help"},
		{[]string{"sim", "serve", "--image-model-reference", "no-such-file.json"}, "--image-model-reference: open no-such-file.json", "horde sim serve --help"},
		{[]string{"sim", "serve", "--text-model-reference", "no-such-file.json"}, "--text-model-reference: open no-such-file.json", "horde sim serve --help"},
		{[]string{"demo", "--size", "100"}, "--size must be a multiple of 64", "horde demo --help"},
		{[]string{"--url", "ftp://x", "status"}, "", "horde status --help"},
	} {
		t.Run(strings.Join(tc.argv, "_"), func(t *testing.T) {
			r := runCLI(t, context.Background(), srv, aliceKey, tc.argv...)
			assert.Equal(t, ExitUsage, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, tc.msg)
			assert.Contains(t, r.stderr, "Run '"+tc.help+"' for usage.")
			assert.True(t, strings.HasPrefix(r.stderr, "horde: "), r.stderr)
		})
	}
}

func TestHelpAndConfigErrors(t *testing.T) {
	r := runCLI(t, context.Background(), nil, "", "--help")
	requireOK(t, r)
	for _, c := range []string{"demo", "image", "text", "interrogate", "models", "user", "workers", "status", "kudos", "worker", "sim"} {
		assert.Regexp(t, `(?m)^  `+c+` `, r.stdout)
	}
	r = runCLI(t, context.Background(), nil, "", "worker", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "--text-backend", "test")
	assert.Equal(t, ExitFailure, r.code)
	assert.Contains(t, r.stderr, "horde: the configuration ")
	r = runCLI(t, context.Background(), nil, "", "status", "--url", "http://127.0.0.1:1/api/")
	assert.Equal(t, ExitFailure, r.code)
	assert.Contains(t, r.stderr, "check --url or AI_HORDE_URL")
}

func TestInvalidKey(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0))
	const key = "not-a-known-key-123456"
	for _, argv := range [][]string{{"user"}, {"image", "a cat"}, {"kudos", "transfer", "--to", "bob#2", "--amount", "1"}} {
		r := runCLI(t, context.Background(), srv, "", append(argv, "--api-key", key)...)
		assert.Equal(t, ExitFailure, r.code, "%v: %s", argv, r.stderr)
		assert.Equal(t, "horde: the Horde refused the API key (401 invalid API key): check --api-key or AI_HORDE_API_KEY (get a key at https://aihorde.net/register)\n", r.stderr)
		assert.NotContains(t, r.stdout+r.stderr, key)
	}
}

func TestAPIKeyNeverEchoed(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0))
	for _, argv := range [][]string{{"user", "-v"}, {"--help"}, {"image", "--help"}, {"image", "x", "--width", "7"}, {"status", "-v", "--json"}} {
		r := runCLI(t, context.Background(), srv, aliceKey, argv...)
		assert.NotContains(t, r.stdout+r.stderr, aliceKey, "%v", argv)
	}
}

func TestNoWorkerForTheModel(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0))
	r := runCLI(t, context.Background(), srv, aliceKey, "image", "a cat", "-m", "No Such Model")
	assert.Equal(t, ExitFailure, r.code)
	assert.Regexp(t, `(?m)^horde: no worker can serve this request \(image request [0-9a-f-]+, cancelled on the Horde\).*; choose a model that workers serve \('horde models'\), or pass --wait to wait for a worker\n$`, r.stderr)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.True(t, reqs[0].Cancelled)
}

func TestCtrlCCancelsOnTheHorde(t *testing.T) {
	// The built-in worker makes the request possible but takes an hour: the command waits.
	srv := newSim(t, hordetest.WithAutoFulfil(time.Hour), hordetest.WithTextModels("koboldcpp/tiny"))
	for _, kind := range []string{"image", "text"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout syncBuffer
			// Ctrl-C as soon as the first progress line shows that the request waits.
			stderr := syncBuffer{onWrite: func(p []byte) {
				if strings.Contains(string(p), " waiting") {
					cancel()
				}
			}}
			argv := []string{kind, "a slow one", "-o", t.TempDir()}
			if kind == "text" {
				argv = append(argv, "-m", "koboldcpp/tiny")
			}
			r := runWith(ctx, srv, aliceKey, &stdout, &stderr, argv...)
			assert.Equal(t, ExitFailure, r.code, r.stderr)
			m := reUUIDLine.FindStringSubmatch(r.stderr)
			require.NotNil(t, m, r.stderr)
			assert.Equal(t, kind, m[1])
			ri, ok := srv.Request(m[2])
			require.True(t, ok)
			assert.True(t, ri.Cancelled, "the request was not cancelled on the Horde")
			assert.Contains(t, r.stderr, "horde: interrupted: "+kind+" request "+m[2]+", cancelled on the Horde\n")
		})
	}
}

func TestProgressBarOnATerminal(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0))
	var stdout, stderr syncBuffer
	env := map[string]string{"AI_HORDE_URL": srv.URL, "AI_HORDE_API_KEY": aliceKey}
	code := Run(context.Background(), []string{"image", "a cat", "--width", "64", "--height", "64", "-o", t.TempDir()},
		Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Terminal: true})
	require.Equal(t, ExitOK, code, stderr.String())
	assert.Contains(t, stderr.String(), "100% |")
	assert.Contains(t, stderr.String(), "(1/1)")
}

// TestTextNoWorkerMentionsValidatedBackends: a text request no worker takes says that
// validated backends may be why, and --any-backend sends validated_backends: false.
func TestTextNoWorkerMentionsValidatedBackends(t *testing.T) {
	srv := newSim(t, hordetest.WithAutoFulfil(0), hordetest.WithTextModels("koboldcpp/tiny"))
	r := runCLI(t, context.Background(), srv, aliceKey, "text", "Once", "-m", "koboldcpp/no-such-model")
	assert.Equal(t, ExitFailure, r.code)
	assert.Contains(t, r.stderr, "unless you pass --any-backend")

	r = runCLI(t, context.Background(), srv, aliceKey, "text", "Once", "-m", "koboldcpp/tiny", "--any-backend", "-o", t.TempDir())
	requireOK(t, r)
	var body map[string]any
	for _, c := range srv.Calls() {
		if c.Operation == "post_text_async_generate" && c.Status == 202 {
			require.NoError(t, json.Unmarshal(c.Body, &body))
		}
	}
	assert.Equal(t, false, body["validated_backends"])
}

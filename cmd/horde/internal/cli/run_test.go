package cli

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
)

func TestDemo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results")
	r := runCLI(t, context.Background(), nil, "", "demo", "--out", out, "--size", "256")
	requireOK(t, r)

	f, err := os.Open(filepath.Join(out, "image.webp"))
	require.NoError(t, err)
	defer f.Close()
	img, format, err := image.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, "webp", format)
	assert.Equal(t, image.Rect(0, 0, 256, 256), img.Bounds())
	for _, name := range []string{"text.txt", "caption.txt"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		assert.NotEmpty(t, strings.TrimSpace(string(data)), name)
	}
	_, err = os.Stat(filepath.Join(out, "summary.json"))
	require.NoError(t, err)

	assert.Contains(t, r.stdout, "horde demo: an AI Horde, a worker and a client, all on this machine")
	assert.Regexp(t, `(?m)^image\s+[0-9a-f-]{36}\s+\d+\.\d\d\s+\d+\.\ds\s+.*image\.webp \(256×256 image, seed 42\)$`, r.stdout)
	assert.Regexp(t, `(?m)^text\s+[0-9a-f-]{36}\s+.*text\.txt \(\d+ words\)$`, r.stdout)
	assert.Regexp(t, `(?m)^alchemy\s+[0-9a-f-]{36}\s+.*caption\.txt \(caption ".+"\)$`, r.stdout)
	assert.Contains(t, r.stdout, "The worker did 3 jobs (0 faulted)")
	// Live progress on stderr: each request ends done, and whatever the polls saw before (the
	// queue, the processing) comes before it. How many polls see it waiting depends on the
	// machine's load (a busy one may first poll a finished job), so none is required.
	for _, kind := range []string{"image", "text", "alchemy"} {
		lines := regexp.MustCompile(`(?m)^`+kind+` [0-9a-f]{8} (waiting|processing|done)`).FindAllStringSubmatch(r.stderr, -1)
		require.NotEmpty(t, lines, kind)
		assert.Equal(t, "done", lines[len(lines)-1][1], "%s: the last progress line", kind)
		for _, l := range lines[:len(lines)-1] {
			assert.NotEqual(t, "done", l[1], "%s: nothing after done", kind)
		}
	}
}

func TestSimServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := Run(ctx, []string{"sim", "serve", "--addr", "127.0.0.1:0", "--user", "carol:carol-key:trusted,moderator:500",
			"--user", "dave:dave-key", "--fulfil-delay", "0s", "--fault", "get_heartbeat:latency=1ms"},
			Env{Stdout: pw, Stderr: io.Discard})
		pw.Close()
		done <- code
	}()
	lines := bufio.NewScanner(pr)
	var banner []string
	for lines.Scan() {
		banner = append(banner, lines.Text())
		if lines.Text() == "Press Ctrl-C to stop." {
			break
		}
	}
	require.NotEmpty(t, banner)
	var url string
	_, err := fmt.Sscanf(banner[0], "AI Horde simulator listening on %s", &url)
	require.NoError(t, err, banner[0])
	golden(t, "sim_serve_banner", normalise(strings.Join(banner, "\n")+"\n"))

	// Another command uses it, with a key it printed.
	r := runCLI(t, context.Background(), nil, "", "user", "--url", url, "--api-key", "carol-key", "--json")
	requireOK(t, r)
	assert.Contains(t, r.stdout, `"username": "carol#1"`)
	assert.Contains(t, r.stdout, `"moderator": true`)
	r = runCLI(t, context.Background(), nil, "", "image", "a cat", "--url", url, "--api-key", "dave-key", "--width", "64", "--height", "64", "-o", t.TempDir())
	requireOK(t, r)

	cancel()
	rest, _ := io.ReadAll(pr)
	assert.Equal(t, ExitOK, <-done)
	assert.Equal(t, "simulator stopped\n", string(rest))
}

func TestWorkerFromBridgeYAML(t *testing.T) {
	srv := newSim(t, hordetest.WithTextModels("koboldcpp/tiny"))
	// The owner of the worker (the anonymous key may not run one).
	_, err := srv.AddUser(hordetest.User{Name: "owner", APIKey: "owner-key-0123456789", Trusted: true})
	require.NoError(t, err)
	cfg := fmt.Sprintf(`horde_url: %q
api_key: owner-key-0123456789
scribe_name: cli-scribe
alchemist_name: cli-alchemist
text_model: koboldcpp/tiny
max_length: 128
max_context_length: 2048
forms: [caption]
`, srv.URL)
	path := filepath.Join(t.TempDir(), "bridgeData.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan result, 1)
	go func() {
		// The environment's URL and key would override the file: none here.
		done <- runWith(ctx, nil, "", &stdout, &stderr, "worker", "--config", path, "--text-backend", "test", "--alchemy-backend", "test",
			"--metrics-addr", "127.0.0.1:0")
	}()

	// A client's text request is served by the worker: GenerateText returns when it is done;
	// it waits while the worker is not yet known to the Horde (before its first pop).
	client, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey(aliceKey))
	require.NoError(t, err)
	res, err := client.GenerateTextBody(ctx, gen.GenerationInputKobold{Prompt: ptr("hello"), Models: []string{"koboldcpp/tiny"},
		Params: &gen.ModelGenerationInputKobold{MaxLength: ptr(32)}}, horde.WaitWhenImpossible()) // the worker may not have popped yet
	require.NoError(t, err, "stderr: %s", stderr.String())
	require.Len(t, res.Texts, 1)
	assert.Equal(t, "cli-scribe", res.Texts[0].WorkerName)

	// The metrics endpoint, scraped while the worker runs.
	m := regexp.MustCompile(`metrics on (http://\S+/metrics)`).FindStringSubmatch(stderr.String())
	require.NotNil(t, m, "stderr: %s", stderr.String())
	// The requester can see the text a moment before the worker counts its job settled.
	want := `horde_worker_jobs_total{kind="text",model="koboldcpp/tiny",state="done"} 1`
	var scraped []byte
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(string(scraped), want); {
		require.True(t, time.Now().Before(deadline), "metrics: %s", scraped)
		resp, err := http.Get(m[1])
		require.NoError(t, err)
		scraped, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	resp, err := http.Get(strings.Replace(m[1], "/metrics", "/healthz", 1))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	r := <-done
	requireOK(t, r)
	assert.Contains(t, r.stderr, "worker running against "+srv.URL)
	assert.Regexp(t, `(?m)^worker stopped: jobs 1 done, 0 faulted, 0 in flight; \d+\.\d\d kudos;`, r.stderr)
	assert.NotContains(t, r.stdout+r.stderr, "owner-key-0123456789")
}

func TestSimModelReferenceFiles(t *testing.T) {
	dir := t.TempDir()
	imgPath, txtPath := dir+"/sd.json", dir+"/text.json"
	require.NoError(t, os.WriteFile(imgPath, []byte(`{"Mine":{"name":"Mine","baseline":"stable_diffusion_xl"}}`), 0o600))
	require.NoError(t, os.WriteFile(txtPath, []byte(`{"koboldcpp/mine":{"name":"koboldcpp/mine"}}`), 0o600))
	img, txt, err := loadReferences(imgPath, txtPath)
	require.NoError(t, err)
	assert.Equal(t, []string{"Mine"}, img.Names())
	assert.Equal(t, []string{"koboldcpp/mine"}, txt.Names())
	img, txt, err = loadReferences("", "")
	require.NoError(t, err)
	assert.Nil(t, img, "empty: the simulator keeps its snapshot")
	assert.Nil(t, txt)
}

func TestParseUser(t *testing.T) {
	tests := []struct {
		in      string
		want    hordetest.User
		wantErr string
	}{
		{"a:k", hordetest.User{Name: "a", APIKey: "k", Kudos: 1e6}, ""},
		{"a:k:trusted,admin:50", hordetest.User{Name: "a", APIKey: "k", Kudos: 50, Trusted: true, Admin: true}, ""},
		{"a:k:75:moderator,customizer", hordetest.User{Name: "a", APIKey: "k", Kudos: 75, Moderator: true, Customizer: true}, ""},
		{"a:k:root", hordetest.User{}, `unknown role "root" (trusted, moderator, customizer, admin)`},
		{"a", hordetest.User{}, "want NAME:KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := parseUser(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, u)
		})
	}
}

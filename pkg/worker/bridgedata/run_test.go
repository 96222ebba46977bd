package bridgedata_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/bridgedata"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

// TestRunFromBridgeYAML runs a worker the way a person would: a bridge YAML file, the shipped
// test backends, NewWorker and Run; against the simulator with faults on pops and submits.
func TestRunFromBridgeYAML(t *testing.T) {
	srv := hordetest.NewServer(
		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 1e6, Concurrency: 1000}),
		hordetest.WithUser(hordetest.User{Name: "owner", APIKey: "owner-key-0123456789ab", Trusted: true}),
		hordetest.WithRateLimits(false), hordetest.WithTextModels("koboldcpp/tiny"), hordetest.WithSeed(7),
	)
	defer srv.Close()
	for _, route := range []string{"post_image_job_pop", "post_image_job_submit", "post_text_job_submit", "post_interrogate_submit"} {
		srv.Faults().Set(route, hordetest.Fault{Error503: 0.1})
	}

	yaml := fmt.Sprintf(`
horde_url: %q
api_key: owner-key-0123456789ab
dreamer_name: yaml-dreamer
scribe_name: yaml-scribe
alchemist_name: yaml-alchemist
models_to_load: [Deliberate]
max_threads: 2
queue_size: 1
text_model: koboldcpp/tiny
max_length: 256
max_context_length: 2048
forms: [caption, nsfw]
bridge_agent: "AI Horde Worker reGen:13.0.0:https://github.com/horde-go/horde/test"
`, srv.URL)
	path := filepath.Join(t.TempDir(), "bridgeData.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o644))
	cfg, warns, err := bridgedata.Load(path)
	require.NoError(t, err)
	for _, w := range warns {
		t.Log(w)
	}
	ref, err := params.LoadImageModelReferenceFile("testdata/config/models.json")
	require.NoError(t, err)

	alice, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("alice-key"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 5 {
		_, err := alice.Raw().PostImageAsyncGenerateWithResponse(ctx, gen.GenerationInputStable{Prompt: fmt.Sprintf("castle %d", i), Models: &[]string{"Deliberate"},
			Params: &gen.ModelGenerationInputStable{Width: ptr(64), Height: ptr(64)}})
		require.NoError(t, err)
		_, err = alice.Raw().PostTextAsyncGenerateWithResponse(ctx, gen.GenerationInputKobold{Prompt: ptr("hello"), Models: []string{"koboldcpp/tiny"}})
		require.NoError(t, err)
	}
	src := srvPNG(t, srv)
	_, err = alice.Raw().PostInterrogateWithResponse(ctx, gen.ModelInterrogationInputStable{SourceImage: &src,
		Forms: []gen.ModelInterrogationFormStable{{Name: gen.InterrogationFormNameCaption}, {Name: gen.InterrogationFormNameNSFW}}})
	require.NoError(t, err)

	w, err := bridgedata.NewWorker(ctx, cfg, worker.Backends{
		Image: &testbackend.Image{Size: 64}, Text: &testbackend.Text{}, Alchemy: &testbackend.Alchemy{},
	}, bridgedata.Options{ModelReference: ref, ClientOptions: []horde.Option{horde.WithRateLimiting(false)},
		Tune: func(s *worker.Settings) {
			s.PopInterval, s.PopErrorInterval, s.SubmitBackoff = 10*time.Millisecond, 10*time.Millisecond, time.Millisecond
		}})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	deadline := time.Now().Add(20 * time.Second)
	for w.Stats().Done < 12 {
		require.True(t, time.Now().Before(deadline), "stats %+v", w.Stats())
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	stop()
	require.NoError(t, <-done)
	for _, j := range srv.Jobs() {
		assert.Equal(t, "done", j.State, "job %s", j.ID)
		assert.Equal(t, 1, j.Submits)
	}
	for _, f := range srv.Forms() {
		assert.Equal(t, "done", f.State, "form %s (%s)", f.ID, f.Name)
	}
	st := w.Stats()
	assert.Equal(t, int64(12), st.Done)
	assert.Equal(t, map[horde.Kind]int64{horde.KindImage: 5, horde.KindText: 5, horde.KindAlchemy: 2}, st.PoppedByKind)
}

func ptr[T any](v T) *T { return &v }

// srvPNG is a source image for alchemy, produced by the image test backend.
func srvPNG(t *testing.T, _ *hordetest.Server) string {
	t.Helper()
	outs, err := (&testbackend.Image{Size: 32, Format: testbackend.PNG}).GenerateImages(context.Background(),
		&worker.ImageJob{ID: "src", ResultIDs: []string{"src"}, Params: params.Image{Prompt: "source"}})
	require.NoError(t, err)
	return b64(outs[0].Data)
}

var _ = http.StatusOK

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

package vision_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/vision"
)

// visionServer is an OpenAI-compatible vision server double. It answers GET /v1/models and
// POST /v1/chat/completions with a recorded answer shape whose text answer(question) gives,
// after checking the request as a real server would need it.
type visionServer struct {
	t        *testing.T
	shape    string // the fixture whose shape the answers take
	answer   func(question string) string
	failures atomic.Int32 // answer 503 this many times first
	mu       sync.Mutex
	asked    []string
}

func (v *visionServer) start() string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gemma-3-4b-it","object":"model","owned_by":"llamacpp"}]}`))
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		if v.failures.Add(-1) >= 0 {
			http.Error(w, `{"error":{"message":"loading model","code":503}}`, http.StatusServiceUnavailable)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Messages []struct {
				Role    string `json:"role"`
				Content []struct {
					Type     string `json:"type"`
					Text     string `json:"text"`
					ImageURL struct {
						URL string `json:"url"`
					} `json:"image_url"`
				} `json:"content"`
			} `json:"messages"`
		}
		require.NoError(v.t, json.NewDecoder(r.Body).Decode(&req))
		require.Equal(v.t, "gemma-3-4b-it", req.Model)
		require.Len(v.t, req.Messages, 1)
		parts := req.Messages[0].Content
		require.Len(v.t, parts, 2)
		assert.Equal(v.t, "text", parts[0].Type)
		assert.Equal(v.t, "image_url", parts[1].Type)
		assert.True(v.t, strings.HasPrefix(parts[1].ImageURL.URL, "data:image/png;base64,"), parts[1].ImageURL.URL[:30])
		v.mu.Lock()
		v.asked = append(v.asked, parts[0].Text)
		v.mu.Unlock()
		data, err := os.ReadFile("testdata/" + v.shape)
		require.NoError(v.t, err)
		var ans map[string]any
		require.NoError(v.t, json.Unmarshal(data, &ans))
		ans["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"] = v.answer(parts[0].Text)
		_ = json.NewEncoder(w).Encode(ans)
	})
	srv := httptest.NewServer(mux)
	v.t.Cleanup(srv.Close)
	return srv.URL
}

func pngImage(t *testing.T) []byte {
	im := image.NewRGBA(image.Rect(0, 0, 8, 8))
	im.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, im))
	return buf.Bytes()
}

func fixed(s string) func(string) string { return func(string) string { return s } }

func TestForms(t *testing.T) {
	for _, shape := range []string{"llamacpp_chat.json", "vllm_chat.json", "ollama_chat.json"} {
		t.Run(shape, func(t *testing.T) {
			v := &visionServer{t: t, shape: shape, answer: func(q string) string {
				if q == vision.DefaultCaptionPrompt {
					return " A red dot on black. "
				}
				return "No."
			}}
			b, err := vision.New(vision.Config{URL: v.start() + "/v1"})
			require.NoError(t, err)
			src := params.ImageData{Data: pngImage(t)}
			out, err := b.Alchemy(t.Context(), &worker.AlchemyJob{ID: "f", Op: params.AlchemyOp{Form: params.FormCaption, Source: src}})
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"caption": "A red dot on black."}, out.Result)
			out, err = b.Alchemy(t.Context(), &worker.AlchemyJob{ID: "f", Op: params.AlchemyOp{Form: params.FormNSFW, Source: src}})
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"nsfw": false}, out.Result)
		})
	}
}

func TestYesNoIsParsedStrictly(t *testing.T) {
	tests := []struct {
		answer  string
		want    bool
		wantErr bool
	}{
		{"yes", true, false}, {"Yes.", true, false}, {" NO ", false, false}, {"no.", false, false},
		{"maybe", false, true}, {"", false, true}, {"Yes, it is.", false, true}, {"no!", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			v := &visionServer{t: t, shape: "vllm_chat.json", answer: fixed(tt.answer)}
			b, err := vision.New(vision.Config{URL: v.start()})
			require.NoError(t, err)
			out, err := b.Alchemy(t.Context(), &worker.AlchemyJob{Op: params.AlchemyOp{Form: params.FormNSFW, Source: params.ImageData{Data: pngImage(t)}}})
			if tt.wantErr {
				require.ErrorContains(t, err, "to a yes/no question")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, out.Result["nsfw"])
		})
	}
}

func TestCheckImage(t *testing.T) {
	tests := []struct {
		name        string
		nsfw, minor string
		want        worker.SafetyVerdict
		asks        int
	}{
		{"safe", "no", "", worker.SafetyVerdict{}, 1},
		{"nsfw", "yes", "no", worker.SafetyVerdict{NSFW: true}, 2},
		{"csam", "yes", "yes", worker.SafetyVerdict{NSFW: true, CSAM: true}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &visionServer{t: t, shape: "ollama_chat.json", answer: func(q string) string {
				if q == vision.DefaultMinorPrompt {
					return tt.minor
				}
				return tt.nsfw
			}}
			b, err := vision.New(vision.Config{URL: v.start()})
			require.NoError(t, err)
			got, err := b.CheckImage(t.Context(), pngImage(t))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Len(t, v.asked, tt.asks)
		})
	}
}

func TestRetriesServerErrors(t *testing.T) {
	v := &visionServer{t: t, shape: "llamacpp_chat.json", answer: fixed("no")}
	v.failures.Store(2)
	b, err := vision.New(vision.Config{URL: v.start(), Retries: 2})
	require.NoError(t, err)
	_, err = b.CheckImage(t.Context(), pngImage(t))
	require.NoError(t, err)

	v = &visionServer{t: t, shape: "llamacpp_chat.json", answer: fixed("no")}
	v.failures.Store(5)
	b, err = vision.New(vision.Config{URL: v.start(), Retries: 1})
	require.NoError(t, err)
	_, err = b.CheckImage(t.Context(), pngImage(t))
	require.ErrorContains(t, err, "503")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = b.CheckImage(ctx, pngImage(t))
	require.ErrorIs(t, err, context.Canceled)
}

func TestConfigErrors(t *testing.T) {
	_, err := vision.New(vision.Config{URL: "ftp://x", Timeout: -1, Retries: 99})
	require.Error(t, err)
	for _, field := range []string{"vision_url", "vision_timeout", "vision_retries"} {
		assert.ErrorContains(t, err, field)
	}
}

func TestLimitAlchemyOffer(t *testing.T) {
	v := &visionServer{t: t, shape: "llamacpp_chat.json", answer: fixed("no")}
	b, err := vision.New(vision.Config{URL: v.start()})
	require.NoError(t, err)
	o := &worker.AlchemyOffer{Forms: []params.AlchemyForm{params.FormCaption, params.FormInterrogation, "GFPGAN", params.FormNSFW}}
	notes, err := b.LimitAlchemyOffer(t.Context(), o)
	require.NoError(t, err)
	assert.Equal(t, []params.AlchemyForm{params.FormCaption, params.FormNSFW}, o.Forms)
	assert.Len(t, notes, 3, "two forms dropped, and the model found: %q", notes)
	assert.Contains(t, notes[2], "gemma-3-4b-it")
}

// TestEndToEnd: simulator → worker → vision double → simulator, per form; and the same
// backend as the worker's safety checker for an image backend without a verdict.
func TestEndToEnd(t *testing.T) {
	v := &visionServer{t: t, shape: "llamacpp_chat.json", answer: func(q string) string {
		if q == vision.DefaultCaptionPrompt {
			return "a tiny red dot"
		}
		return "yes"
	}}
	b, err := vision.New(vision.Config{URL: v.start()})
	require.NoError(t, err)
	srv := hordetest.NewServer(hordetest.WithRateLimits(false),
		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 1e6}),
		hordetest.WithUser(hordetest.User{Name: "owner", APIKey: "owner-key-0123456789", Trusted: true}))
	defer srv.Close()
	owner, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("owner-key-0123456789"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	w, err := worker.New(owner, worker.Settings{
		Alchemy: &worker.AlchemyOffer{Name: "seer", Forms: []params.AlchemyForm{params.FormCaption, params.FormNSFW}},
		Image:   &worker.ImageOffer{Name: "painter", Models: []string{"stable_diffusion"}}, ServeNSFW: true,
		Safety: b, PopInterval: 5 * time.Millisecond,
	}, worker.Backends{Alchemy: b, Image: uncheckedImage{png: pngImage(t)}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); w.Stats().EmptyPops < 2; {
		require.True(t, time.Now().Before(deadline), "the worker pops")
		time.Sleep(2 * time.Millisecond) // polling with a deadline
	}
	alice, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("alice-key"), horde.WithRateLimiting(false))
	require.NoError(t, err)
	res, err := alice.Interrogate(t.Context(), params.Alchemy{Source: params.ImageData{Data: pngImage(t)},
		Ops: []params.AlchemyOp{{Form: params.FormCaption}, {Form: params.FormNSFW}}}, nil)
	require.NoError(t, err)
	results := map[string]any{}
	for _, f := range res.Forms {
		for k, v := range f.Result {
			results[k] = v
		}
	}
	assert.Equal(t, map[string]any{"caption": "a tiny red dot", "nsfw": true}, results)

	// A safe-for-work request: the vision model says the image is NSFW, so it is censored.
	img, err := alice.GenerateImage(t.Context(), params.Image{Prompt: "a dot", Width: new(64), Height: new(64)},
		&params.RequestOptions{R2: new(false), NSFW: new(false)})
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, err)
	require.Len(t, img.Images, 1)
	assert.True(t, img.Images[0].Censored)
}

// uncheckedImage is an image backend without a classifier: its images carry no verdict.
type uncheckedImage struct{ png []byte }

func (u uncheckedImage) GenerateImages(_ context.Context, job *worker.ImageJob) ([]worker.ImageOutput, error) {
	out := make([]worker.ImageOutput, len(job.ResultIDs))
	for i := range out {
		out[i] = worker.ImageOutput{Data: u.png}
	}
	return out, nil
}

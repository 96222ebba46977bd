package comfyui

import (
	"bytes"
	"context"
	"image"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "golang.org/x/image/webp"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

func startedBackend(t *testing.T, f *fakeComfy, cfg Config) *Backend {
	t.Helper()
	cfg.URL = f.srv.URL
	b, err := New(cfg)
	require.NoError(t, err)
	o := &worker.ImageOffer{Models: []string{"stable_diffusion"}, AllowImg2Img: true, AllowPainting: true, MaxPixels: 1024 * 1024}
	_, err = b.LimitImageOffer(t.Context(), o)
	require.NoError(t, err)
	return b
}

func TestLimitImageOffer(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"sd15/stable_diffusion.safetensors", "albedobaseXL_v21.safetensors"}, nil), withoutNode("VAEEncodeForInpaint"))
	b, err := New(Config{URL: f.srv.URL, ModelFiles: map[string]string{"AlbedoBase XL (SDXL)": "albedobaseXL_v21.safetensors"}})
	require.NoError(t, err)
	o := &worker.ImageOffer{Models: []string{"stable_diffusion", "AlbedoBase XL (SDXL)", "Deliberate"},
		AllowImg2Img: true, AllowPainting: true, AllowLoRA: true, AllowControlNet: true, AllowPostProcessing: true}
	notes, err := b.LimitImageOffer(t.Context(), o)
	require.NoError(t, err)
	assert.Equal(t, []string{"stable_diffusion", "AlbedoBase XL (SDXL)"}, o.Models)
	assert.True(t, o.AllowImg2Img)
	assert.False(t, o.AllowPainting, "no VAEEncodeForInpaint")
	assert.False(t, o.AllowLoRA, "no LoRA file")
	assert.False(t, o.AllowControlNet)
	assert.False(t, o.AllowPostProcessing)
	assert.Len(t, notes, 6, "%q", notes)
	assert.Equal(t, "ComfyUI 0.3.33, device cpu (cpu, 22.7 of 23.5 GiB free): no GPU, every job will be slow", notes[0], "from /system_stats")
	assert.Contains(t, notes[1], `"Deliberate" dropped`)
	assert.Contains(t, notes, "post-processing dropped: ComfyUI can run no post-processor: no FaceRestoreModelLoader/FaceRestoreCFWithModel node: "+
		"CodeFormers, GFPGAN, GFPGANv1.3, RestoreFormer; no UpscaleModelLoader/ImageUpscaleWithModel node: 2xModernSpanimationV1, 4xLSDIRplus, "+
		"4xNomos2_hq_dat2, 4xNomos2_realplksr_dysample, 4xNomos8kSC, 4xNomosWebPhoto_RealPLKSR, 4x_AnimeSharp, NMKD_Siax, RealESRGAN_x2plus, "+
		"RealESRGAN_x4plus, RealESRGAN_x4plus_anime_6B; no background-removal node (core ComfyUI has none; name a pack's with comfyui_background_node): strip_background")
	assert.Equal(t, map[string]string{"stable_diffusion": "sd15/stable_diffusion.safetensors",
		"AlbedoBase XL (SDXL)": "albedobaseXL_v21.safetensors"}, b.ModelFilesFound())

	_, err = New(Config{URL: "ftp://x", ModelFiles: map[string]string{"": "f"}, ImageTimeout: -1})
	require.Error(t, err)
	for _, field := range []string{"comfyui_url", "comfyui_model_files", "comfyui_image_timeout"} {
		assert.ErrorContains(t, err, field)
	}
}

// TestGenerateImages: a batch of two, each its own prompt with seed, seed+variation; lossless
// WebP of the generated size; the uploaded source of an img2img job.
func TestGenerateImages(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil))
	b := startedBackend(t, f, Config{})
	src := fakePNG(96, 96, 1)
	job := &worker.ImageJob{ID: "job1", ResultIDs: []string{"a", "b"}, Params: params.Image{Prompt: "a cube", Model: "stable_diffusion",
		Seed: "100", SeedVariation: new(7), Width: new(128), Height: new(64), SourceProcessing: params.SourceImg2Img,
		Source: &params.SourceImage{Image: params.ImageData{Data: src}}}}
	outs, err := b.GenerateImages(t.Context(), job)
	require.NoError(t, err)
	require.Len(t, outs, 2)
	for _, o := range outs {
		cfg, format, err := image.DecodeConfig(bytes.NewReader(o.Data))
		require.NoError(t, err)
		assert.Equal(t, "webp", format)
		assert.Equal(t, 128, cfg.Width)
		assert.Equal(t, 64, cfg.Height)
		assert.Nil(t, o.Safety, "the backend has no classifier: it claims no verdict")
	}
	graphs := f.queued()
	require.Len(t, graphs, 2)
	for i, want := range []int64{100, 107} {
		_, ks, _ := graphs[i].nodeOf("KSampler")
		assert.Equal(t, want, ks.Inputs["seed"])
		_, li, _ := graphs[i].nodeOf("LoadImage")
		assert.Contains(t, li.Inputs["image"], "-source.png")
	}
}

func TestGenerateImagesRefusesWhatItCannotRun(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil))
	b := startedBackend(t, f, Config{})
	tests := []struct {
		name string
		img  params.Image
		want string
	}{
		{"controlnet", params.Image{Model: "stable_diffusion", ControlNet: &params.ControlNet{Type: "canny"}}, `control type "canny" not offered`},
		{"post-processing", params.Image{Model: "stable_diffusion", PostProcessing: []params.PostProcessor{"GFPGAN"}}, `post-processor "GFPGAN" not offered`},
		{"tiling", params.Image{Model: "stable_diffusion", Tiling: new(true)}, "tiling"},
		{"a baseline without its graph", params.Image{Model: "stable_diffusion", Baseline: params.BaselineQwenImage}, `baseline "qwen_image"`},
		{"too large", params.Image{Model: "stable_diffusion", Width: new(2048), Height: new(2048)}, "max_pixels"},
		{"unknown model", params.Image{Model: "Deliberate"}, `model "Deliberate" is not served`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.GenerateImages(t.Context(), &worker.ImageJob{ID: "j", ResultIDs: []string{"a"}, Params: tt.img})
			require.ErrorContains(t, err, tt.want)
		})
	}
	assert.Empty(t, f.queued(), "nothing half-run")
}

func TestExecutionErrorNamesTheNode(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil), failingAt("VAEDecode"))
	b := startedBackend(t, f, Config{})
	_, err := b.GenerateImages(t.Context(), &worker.ImageJob{ID: "j", ResultIDs: []string{"a"}, Params: params.Image{Prompt: "p", Model: "stable_diffusion"}})
	var ne *NodeError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, "VAEDecode", ne.Class)
	assert.Contains(t, err.Error(), "IndexError: index 3 is out of bounds")
}

// TestRecordedRefusals: ComfyUI's 400 answers, as a real server sent them, become errors that
// name the node and the message.
func TestRecordedRefusals(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"error_bad_input_value.json", "node 1 (EmptyImage): Value 0 smaller than min of 1: width"},
		{"error_unknown_class_type.json", "Cannot execute because node NoSuchNode does not exist. Node ID '#1'"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + tt.file)
			require.NoError(t, err)
			var rec struct {
				Body jsonRaw `json:"body"`
			}
			require.NoError(t, jsonUnmarshal(raw, &rec))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write(rec.Body)
			}))
			defer srv.Close()
			c, err := NewClient(srv.URL, nil)
			require.NoError(t, err)
			_, err = c.Queue(t.Context(), Graph{})
			var ne *NodeError
			require.ErrorAs(t, err, &ne)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestCancelInterrupts: a job whose context ends stops ComfyUI's work on it.
func TestCancelInterrupts(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil), holding())
	b := startedBackend(t, f, Config{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := b.GenerateImages(ctx, &worker.ImageJob{ID: "j", ResultIDs: []string{"a"}, Params: params.Image{Prompt: "p", Model: "stable_diffusion"}})
		done <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); len(f.queued()) == 0; {
		require.True(t, time.Now().Before(deadline))
		time.Sleep(2 * time.Millisecond) // polling with a deadline
	}
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.NotEmpty(t, f.interrupted, "POST /interrupt")
	assert.Equal(t, []string{"prompt-0001"}, f.deleted, "the prompt is removed from the queue")
}

// TestWithoutWebsocket: when /ws cannot be opened, the result is read from /history.
func TestWithoutWebsocket(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil), withoutSocket())
	b := startedBackend(t, f, Config{})
	outs, err := b.GenerateImages(t.Context(), &worker.ImageJob{ID: "j", ResultIDs: []string{"a"}, Params: params.Image{Prompt: "p", Model: "stable_diffusion"}})
	require.NoError(t, err)
	require.Len(t, outs, 1)
}

// TestEndToEnd: simulator → worker → ComfyUI double → simulator; the requester gets the
// double's image, as WebP of the asked size.
func TestEndToEnd(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil))
	be, err := New(Config{URL: f.srv.URL})
	require.NoError(t, err)
	e := startEndToEnd(t, worker.Settings{
		Image: &worker.ImageOffer{Name: "comfy", Models: []string{"stable_diffusion"}, MaxPixels: 1 << 20}, ServeNSFW: true,
	}, worker.Backends{Image: be})
	res, err := e.alice.GenerateImage(t.Context(), params.Image{Prompt: "a red cube", Width: new(192), Height: new(128), Seed: "5"},
		&params.RequestOptions{R2: new(false), NSFW: new(true), CensorNSFW: new(false)})
	e.stop()
	require.NoError(t, err)
	require.Len(t, res.Images, 1)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(res.Images[0].Data))
	require.NoError(t, err)
	assert.Equal(t, "webp", format)
	assert.Equal(t, 192, cfg.Width)
	assert.Equal(t, 128, cfg.Height)
	assert.Equal(t, "comfy", res.Images[0].WorkerName)
	_, ks, _ := f.queued()[0].nodeOf("KSampler")
	assert.EqualValues(t, 5, ks.Inputs["seed"])
}

// TestTextualInversionsFromDiscovery: the backend takes textual inversions only when ComfyUI
// lists embeddings, and a job's inversion becomes the prompt's (embedding:name:strength).
func TestTextualInversionsFromDiscovery(t *testing.T) {
	tests := []struct {
		name       string
		embeddings []string
		wantErr    string
	}{
		{"none listed: refused before anything is queued", nil, "tis"},
		{"listed: injected", []string{"EasyNegative.safetensors"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil), withEmbeddings(tt.embeddings...))
			b := startedBackend(t, f, Config{})
			job := &worker.ImageJob{ID: "j", ResultIDs: []string{"a"}, Params: params.Image{Prompt: "a cube", NegativePrompt: "ugly",
				Model: "stable_diffusion", TIs: []params.TI{{Name: "EasyNegative", Inject: params.TIInjectNegative, Strength: new(0.7)}}}}
			_, err := b.GenerateImages(t.Context(), job)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, f.queued())
				return
			}
			require.NoError(t, err)
			graphs := f.queued()
			require.Len(t, graphs, 1)
			var texts []string
			for _, id := range graphs[0].ids() {
				if n := graphs[0][id]; n.ClassType == "CLIPTextEncode" {
					texts = append(texts, n.Inputs["text"].(string))
				}
			}
			assert.Contains(t, texts, "(embedding:EasyNegative:0.7), ugly")
		})
	}
}

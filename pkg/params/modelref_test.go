package params_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestImageModelReferenceFile(t *testing.T) {
	ref, err := params.LoadImageModelReferenceFile("testdata/stable_diffusion.json")
	require.NoError(t, err)
	assert.Equal(t, 11, ref.Len())

	r, ok := ref.Get("AlbedoBase XL (SDXL)")
	require.True(t, ok)
	assert.Equal(t, params.BaselineSDXL, r.Baseline)
	assert.Equal(t, "stable_diffusion_xl", r.RawBaseline)
	assert.Equal(t, "ckpt", r.Type)
	assert.Greater(t, r.SizeOnDiskBytes, int64(1<<30))
	assert.NotEmpty(t, r.Config.Download)

	r, ok = ref.Get("stable_diffusion")
	require.True(t, ok)
	assert.Equal(t, params.BaselineSD1, r.Baseline)
	assert.Equal(t, "stable diffusion 1", r.RawBaseline)

	r, _ = ref.Get("Hassaku XL")
	require.NotNil(t, r.Requirements.ClipSkip)
	assert.Equal(t, 2, *r.Requirements.ClipSkip)

	r, _ = ref.Get("Realistic Vision Inpainting")
	assert.True(t, r.Inpainting)

	var unsupported *params.ImageModelRecord
	for _, n := range ref.Names() {
		rec, _ := ref.Get(n)
		if len(rec.FeaturesNotSupported) > 0 {
			unsupported = &rec
		}
	}
	require.NotNil(t, unsupported)
	assert.False(t, unsupported.Supports("hires_fix"))
	assert.True(t, unsupported.Supports("loras"))

	_, ok = ref.Get("nope")
	assert.False(t, ok)

	tests := []struct {
		b    params.Baseline
		want int
	}{{params.BaselineSDXL, 3}, {params.BaselineSD1, 5}, {params.BaselineSD2_768, 1}, {params.BaselineCascade, 1}, {params.BaselineFlux1, 1}, {params.BaselineQwenImage, 0}}
	for _, tt := range tests {
		assert.Len(t, ref.ByBaseline(string(tt.b)), tt.want, tt.b)
	}
	names := ref.Names()
	assert.IsIncreasing(t, names)

	lookup := params.BaselineOf(ref)
	assert.Equal(t, params.BaselineCascade, lookup("Stable Cascade 1.0"))
	assert.Equal(t, params.Baseline(""), lookup("unknown"))
	assert.Equal(t, params.Baseline(""), params.BaselineOf(nil)("x"))
}

func TestTextModelReferenceReader(t *testing.T) {
	f, err := os.Open("testdata/text_generation.json")
	require.NoError(t, err)
	defer f.Close()
	ref, err := params.LoadTextModelReference(f)
	require.NoError(t, err)
	assert.Equal(t, 7, ref.Len())
	r, ok := ref.Get("koboldcpp/Marx-3B-V3")
	require.True(t, ok)
	assert.Equal(t, "Marx-3B-V3", r.ModelName)
	assert.Equal(t, "StableLM-3B-4E1T", r.Baseline)
	assert.Equal(t, int64(3000000000), r.Parameters)
	assert.Equal(t, 0.7, r.Settings["temperature"])
	assert.Len(t, ref.ByBaseline("mistralai/Mistral-Nemo-Base-2407"), 3)
	assert.Len(t, ref.ByBaseline("StableLM-3B-4E1T"), 3)
}

func TestFetchModelReference(t *testing.T) {
	img, err := os.ReadFile("testdata/stable_diffusion.json")
	require.NoError(t, err)
	txt, err := os.ReadFile("testdata/text_generation.json")
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/img.json":
			_, _ = w.Write(img)
		case "/txt.json":
			_, _ = w.Write(txt)
		case "/bad.json":
			_, _ = w.Write([]byte("{not json"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	iref, err := params.FetchImageModelReference(ctx, srv.Client(), srv.URL+"/img.json")
	require.NoError(t, err)
	assert.Equal(t, 11, iref.Len())
	tref, err := params.FetchTextModelReference(ctx, srv.Client(), srv.URL+"/txt.json")
	require.NoError(t, err)
	assert.Equal(t, 7, tref.Len())

	_, err = params.FetchImageModelReference(ctx, srv.Client(), srv.URL+"/missing")
	assert.ErrorContains(t, err, "404")
	_, err = params.FetchTextModelReference(ctx, srv.Client(), srv.URL+"/bad.json")
	assert.ErrorContains(t, err, "text model reference")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = params.FetchImageModelReference(cctx, srv.Client(), srv.URL+"/img.json")
	assert.ErrorIs(t, err, context.Canceled)

	_, err = params.LoadImageModelReference(strings.NewReader(`[]`))
	assert.Error(t, err)
	_, err = params.LoadImageModelReferenceFile("testdata/missing.json")
	assert.Error(t, err)
}

// A loaded reference is read concurrently by many jobs (run with -race).
func TestModelReferenceConcurrentReads(t *testing.T) {
	ref, err := params.LoadImageModelReferenceFile("testdata/stable_diffusion.json")
	require.NoError(t, err)
	lookup := params.BaselineOf(ref)
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 100 {
				_, _ = ref.Get("Deliberate")
				_ = ref.ByBaseline(string(params.BaselineSD1))
				_ = lookup("Hassaku XL")
				_ = ref.Names()
			}
		}()
	}
	for range 8 {
		<-done
	}
	assert.Equal(t, params.BaselineSDXL, lookup("Hassaku XL"))
}

// TestSnapshots: the embedded references load and hold models the SDK and its simulator name.
func TestSnapshots(t *testing.T) {
	img, err := params.SnapshotImageModelReference()
	require.NoError(t, err)
	assert.Greater(t, img.Len(), 100)
	for name, baseline := range map[string]params.Baseline{"stable_diffusion": params.BaselineSD1, "AlbedoBase XL (SDXL)": params.BaselineSDXL} {
		rec, ok := img.Get(name)
		require.True(t, ok, name)
		assert.Equal(t, baseline, rec.Baseline, name)
	}
	again, err := params.SnapshotImageModelReference()
	require.NoError(t, err)
	assert.Same(t, img, again, "parsed once")

	txt, err := params.SnapshotTextModelReference()
	require.NoError(t, err)
	assert.Greater(t, txt.Len(), 1000)
	_, ok := txt.Get("koboldcpp/LLaMA2-13B-Psyfighter2")
	assert.True(t, ok)
}

package testbackend_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/HugoSmits86/nativewebp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/webp"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

// srcImage is a 12×8 image: a white background with a red 4×4 square at (4,2).
func srcImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 12, 8))
	for y := range 8 {
		for x := range 12 {
			c := color.NRGBA{255, 255, 255, 255}
			if x >= 4 && x < 8 && y >= 2 && y < 6 {
				c = color.NRGBA{200, 0, 0, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func tinyPNG() []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, srcImage()); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func tinyWebP(t *testing.T) []byte {
	var buf bytes.Buffer
	require.NoError(t, nativewebp.Encode(&buf, srcImage(), nil))
	return buf.Bytes()
}

func tinyJPEG(t *testing.T) []byte {
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, srcImage(), &jpeg.Options{Quality: 100}))
	return buf.Bytes()
}

func alchemyJob(form params.AlchemyForm, src []byte, payload map[string]string) *worker.AlchemyJob {
	return &worker.AlchemyJob{ID: "f", Op: params.AlchemyOp{ResultID: "f", Form: form, Payload: payload, Source: params.ImageData{Data: src}}}
}

func TestAlchemyImageForms(t *testing.T) {
	tests := []struct {
		name         string
		form         params.AlchemyForm
		format       testbackend.Format
		wantW, wantH int
	}{
		{"x4 upscaler", params.AlchemyForm(params.PPRealESRGANX4Plus), testbackend.WebP, 48, 32},
		{"x2 upscaler", params.AlchemyForm(params.PPRealESRGANX2Plus), testbackend.WebP, 24, 16},
		{"2x upscaler", params.AlchemyForm(params.PP2xModernSpanimationV1), testbackend.PNG, 24, 16},
		{"4x by default", params.AlchemyForm(params.PPNMKDSiax), testbackend.WebP, 48, 32},
		{"face fixer", params.AlchemyForm(params.PPGFPGAN), testbackend.WebP, 12, 8},
		{"face fixer png", params.AlchemyForm(params.PPCodeFormers), testbackend.PNG, 12, 8},
		{"strip background", params.AlchemyForm(params.PPStripBackground), testbackend.WebP, 12, 8},
	}
	sources := map[string][]byte{"png": tinyPNG(), "webp": tinyWebP(t), "jpeg": tinyJPEG(t)}
	for _, tt := range tests {
		for srcName, src := range sources {
			t.Run(tt.name+"/"+srcName, func(t *testing.T) {
				b := &testbackend.Alchemy{Format: tt.format}
				out, err := b.Alchemy(t.Context(), alchemyJob(tt.form, src, nil))
				require.NoError(t, err)
				assert.Nil(t, out.Result)
				img := decode(t, tt.format, out.Image)
				assert.Equal(t, tt.wantW, img.Bounds().Dx())
				assert.Equal(t, tt.wantH, img.Bounds().Dy())
				again, err := b.Alchemy(t.Context(), alchemyJob(tt.form, src, nil))
				require.NoError(t, err)
				assert.Equal(t, out.Image, again.Image, "deterministic")
			})
		}
	}
}

func TestAlchemyPixels(t *testing.T) {
	b := &testbackend.Alchemy{}
	src := tinyPNG()
	out, err := b.Alchemy(t.Context(), alchemyJob(params.AlchemyForm(params.PPStripBackground), src, nil))
	require.NoError(t, err)
	img, err := webp.Decode(bytes.NewReader(out.Image))
	require.NoError(t, err)
	_, _, _, bgA := img.At(0, 0).RGBA()
	_, _, _, fgA := img.At(5, 3).RGBA()
	assert.Zero(t, bgA, "background stripped")
	assert.EqualValues(t, 0xffff, fgA, "subject kept")

	out, err = b.Alchemy(t.Context(), alchemyJob(params.AlchemyForm(params.PPRealESRGANX2Plus), src, nil))
	require.NoError(t, err)
	img, err = webp.Decode(bytes.NewReader(out.Image))
	require.NoError(t, err)
	r, g, _, _ := img.At(9, 5).RGBA() // source (4,2), in the red square
	assert.Equal(t, [2]uint32{200 * 0x101, 0}, [2]uint32{r, g})
}

func TestAlchemyTextForms(t *testing.T) {
	png1, webp1 := tinyPNG(), tinyWebP(t)
	tests := []struct {
		name    string
		backend *testbackend.Alchemy
		form    params.AlchemyForm
		payload map[string]string
		check   func(t *testing.T, res map[string]any)
	}{
		{"caption", &testbackend.Alchemy{}, params.FormCaption, nil, func(t *testing.T, res map[string]any) {
			s, ok := res["caption"].(string)
			require.True(t, ok)
			assert.Regexp(t, `^a \w+ \w+ .+`, s)
		}},
		{"interrogation default count", &testbackend.Alchemy{}, params.FormInterrogation, nil, func(t *testing.T, res map[string]any) {
			tags := res["interrogation"].(map[string]any)["tags"].([]map[string]any)
			require.Len(t, tags, 5)
			for i := 1; i < len(tags); i++ {
				assert.LessOrEqual(t, tags[i]["confidence"].(float64), tags[i-1]["confidence"].(float64))
			}
			assert.NotEmpty(t, tags[0]["text"])
			for _, c := range []string{"sites", "artists", "flavors", "mediums", "movements", "techniques"} {
				list, ok := res["interrogation"].(map[string]any)[c].([]map[string]any)
				require.True(t, ok, "category %s", c)
				require.NotEmpty(t, list, c)
				assert.IsType(t, "", list[0]["text"], c)
				assert.IsType(t, 0.0, list[0]["confidence"], c)
			}
		}},
		{"interrogation top_count", &testbackend.Alchemy{}, params.FormInterrogation, map[string]string{"top_count": "2"}, func(t *testing.T, res map[string]any) {
			assert.Len(t, res["interrogation"].(map[string]any)["tags"], 2)
		}},
		{"nsfw off", &testbackend.Alchemy{}, params.FormNSFW, nil, func(t *testing.T, res map[string]any) {
			assert.Equal(t, map[string]any{"nsfw": false}, res)
		}},
		{"nsfw rate 1", &testbackend.Alchemy{NSFWRate: 1}, params.FormNSFW, nil, func(t *testing.T, res map[string]any) {
			assert.Equal(t, map[string]any{"nsfw": true}, res)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.backend.Alchemy(t.Context(), alchemyJob(tt.form, png1, tt.payload))
			require.NoError(t, err)
			assert.Nil(t, out.Image)
			tt.check(t, out.Result)
			again, err := tt.backend.Alchemy(t.Context(), alchemyJob(tt.form, png1, tt.payload))
			require.NoError(t, err)
			assert.Equal(t, out.Result, again.Result, "deterministic")
			_, err = tt.backend.Alchemy(t.Context(), alchemyJob(tt.form, webp1, tt.payload))
			require.NoError(t, err)
		})
	}
}

func TestAlchemyCaptionDependsOnSource(t *testing.T) {
	b := &testbackend.Alchemy{}
	seen := map[string]bool{}
	for i := range 8 {
		img := srcImage()
		img.SetNRGBA(0, 0, color.NRGBA{uint8(i), 0, 0, 255})
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, img))
		out, err := b.Alchemy(t.Context(), alchemyJob(params.FormCaption, buf.Bytes(), nil))
		require.NoError(t, err)
		seen[out.Result["caption"].(string)] = true
	}
	assert.Greater(t, len(seen), 1)
}

func TestAlchemyNSFWRate(t *testing.T) {
	b := &testbackend.Alchemy{NSFWRate: 0.5}
	flagged := 0
	for i := range 200 {
		img := srcImage()
		img.SetNRGBA(0, 0, color.NRGBA{uint8(i), uint8(i >> 8), 0, 255})
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, img))
		out, err := b.Alchemy(t.Context(), alchemyJob(params.FormNSFW, buf.Bytes(), nil))
		require.NoError(t, err)
		if out.Result["nsfw"].(bool) {
			flagged++
		}
	}
	assert.InDelta(t, 100, flagged, 30)
}

func TestAlchemyErrors(t *testing.T) {
	src := tinyPNG()
	tests := []struct {
		name        string
		backend     *testbackend.Alchemy
		job         *worker.AlchemyJob
		unsupported bool
	}{
		{"nil job", &testbackend.Alchemy{}, nil, false},
		{"no source", &testbackend.Alchemy{}, alchemyJob(params.FormCaption, nil, nil), false},
		{"garbage source", &testbackend.Alchemy{}, alchemyJob(params.FormCaption, []byte("<html>not an image</html>"), nil), false},
		{"truncated source", &testbackend.Alchemy{}, alchemyJob(params.AlchemyForm(params.PPGFPGAN), src[:len(src)/2], nil), false},
		{"source too big", &testbackend.Alchemy{MaxPixels: 50}, alchemyJob(params.FormCaption, src, nil), false},
		{"result too big", &testbackend.Alchemy{MaxPixels: 12 * 8 * 4}, alchemyJob(params.AlchemyForm(params.PPRealESRGANX4Plus), src, nil), false},
		{"bad top_count", &testbackend.Alchemy{}, alchemyJob(params.FormInterrogation, src, map[string]string{"top_count": "many"}), false},
		{"top_count 0", &testbackend.Alchemy{}, alchemyJob(params.FormInterrogation, src, map[string]string{"top_count": "0"}), false},
		{"vectorize", &testbackend.Alchemy{}, alchemyJob(params.FormVectorize, src, nil), true},
		{"unknown form", &testbackend.Alchemy{}, alchemyJob("nope", src, nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.backend.Alchemy(t.Context(), tt.job)
			require.Error(t, err)
			assert.Equal(t, tt.unsupported, errorsIs(err, testbackend.ErrUnsupportedForm))
			assert.Zero(t, out)
		})
	}
}

func TestAlchemyZeroCost(t *testing.T) {
	b := &testbackend.Alchemy{ZeroCost: true}
	a, err := b.Alchemy(t.Context(), alchemyJob(params.AlchemyForm(params.PPRealESRGANX4Plus), []byte("not decoded"), nil))
	require.NoError(t, err)
	c, err := b.Alchemy(t.Context(), alchemyJob(params.AlchemyForm(params.PPGFPGAN), []byte("x"), nil))
	require.NoError(t, err)
	assert.Equal(t, a.Image, c.Image)
	assert.Equal(t, 8, decode(t, testbackend.WebP, a.Image).Bounds().Dx())
}

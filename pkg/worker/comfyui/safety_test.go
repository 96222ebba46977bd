package comfyui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

func solidPNG(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	im := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			im.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, im))
	return buf.Bytes()
}

// TestSafetyNode: the configured node's blacked-out image is an NSFW verdict; a wrong node name
// or shape is an error at start; CSAM is never claimed.
func TestSafetyNode(t *testing.T) {
	f := newFakeComfy(t, func(f *fakeComfy) { f.withExtraNodes("HordeTestSafetyBlackout") })
	c, err := NewClient(f.srv.URL, nil)
	require.NoError(t, err)
	node, err := NewSafetyNode(c, "HordeTestSafetyBlackout", "")
	require.NoError(t, err)
	require.NoError(t, node.Check(t.Context()))
	tests := []struct {
		name string
		img  []byte
		want worker.SafetyVerdict
	}{
		{"unsafe: blacked out", solidPNG(t, color.RGBA{230, 10, 10, 255}), worker.SafetyVerdict{NSFW: true}},
		{"safe: passed on", solidPNG(t, color.RGBA{20, 120, 220, 255}), worker.SafetyVerdict{}},
		{"black on its own: safe", solidPNG(t, color.RGBA{0, 0, 0, 255}), worker.SafetyVerdict{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := node.CheckImage(t.Context(), tt.img)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v)
		})
	}
	_, sn, ok := f.queued()[0].nodeOf("HordeTestSafetyBlackout")
	require.True(t, ok)
	assert.Equal(t, 0.5, sn.Inputs["sensitivity"], "the node's declared default")

	for _, tt := range []struct{ class, input, want string }{
		{"NoSuchNode", "", `ComfyUI has no node "NoSuchNode"`},
		{"HordeTestSafetyBlackout", "pixels", `no IMAGE input "pixels"`},
		{"CheckpointLoaderSimple", "ckpt_name", "no IMAGE input"},
	} {
		n, err := NewSafetyNode(c, tt.class, tt.input)
		require.NoError(t, err)
		assert.ErrorContains(t, n.Check(t.Context()), tt.want)
	}
	_, err = NewSafetyNode(c, "", "")
	assert.ErrorContains(t, err, "comfyui_safety_node")
}

// TestSafetyNodeEndToEnd: simulator → worker (ComfyUI backend, the safety node as its checker)
// → ComfyUI double → simulator: a request that asks for the censor gets the unsafe image
// censored and the safe one as generated.
func TestSafetyNodeEndToEnd(t *testing.T) {
	f := newFakeComfy(t, withFiles([]string{"stable_diffusion.safetensors"}, nil), func(f *fakeComfy) { f.withExtraNodes("HordeTestSafetyBlackout") })
	be, err := New(Config{URL: f.srv.URL})
	require.NoError(t, err)
	node, err := NewSafetyNode(be.Client(), "HordeTestSafetyBlackout", "")
	require.NoError(t, err)
	e := startEndToEnd(t, worker.Settings{
		Image: &worker.ImageOffer{Name: "comfy-safe", Models: []string{"stable_diffusion"}, MaxPixels: 1 << 20}, ServeNSFW: true,
		Safety: node,
	}, worker.Backends{Image: be})
	// The double paints a seed's image in colour (seed, seed>>8, seed>>16): 230 is red (unsafe
	// to the stand-in node), 20+120<<8+220<<16 is blue (safe).
	var censored []bool
	for _, seed := range []string{"230", "14448660"} {
		res, err := e.alice.GenerateImage(t.Context(), params.Image{Prompt: "a test", Width: new(64), Height: new(64), Seed: seed},
			&params.RequestOptions{R2: new(false), NSFW: new(false), CensorNSFW: new(true)})
		require.NoError(t, err)
		require.Len(t, res.Images, 1)
		censored = append(censored, res.Images[0].Censored)
	}
	e.stop()
	assert.Equal(t, []bool{true, false}, censored)
}

package testbackend_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/image/webp"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func imageJob(prompt, seed string, w, h *int, ids ...string) *worker.ImageJob {
	return &worker.ImageJob{ID: "job", Params: params.Image{Prompt: prompt, Seed: seed, Width: w, Height: h}, ResultIDs: ids}
}

func decode(t *testing.T, f testbackend.Format, data []byte) image.Image {
	t.Helper()
	var img image.Image
	var err error
	switch f {
	case testbackend.WebP:
		img, err = webp.Decode(bytes.NewReader(data))
	case testbackend.PNG:
		img, err = png.Decode(bytes.NewReader(data))
	}
	require.NoError(t, err)
	return img
}

func TestImageSizesAndFormats(t *testing.T) {
	tests := []struct {
		name         string
		backend      *testbackend.Image
		w, h         *int
		ids          []string
		wantW, wantH int
		wantN        int
	}{
		{"default size webp", &testbackend.Image{}, nil, nil, []string{"a"}, 512, 512, 1},
		{"requested size webp", &testbackend.Image{}, params.Ptr(64), params.Ptr(128), []string{"a", "b"}, 64, 128, 2},
		{"requested size png", &testbackend.Image{Format: testbackend.PNG}, params.Ptr(192), params.Ptr(64), []string{"a"}, 192, 64, 1},
		{"fixed size overrides", &testbackend.Image{Size: 16}, params.Ptr(1024), params.Ptr(1024), []string{"a", "b", "c"}, 16, 16, 3},
		{"zero cost", &testbackend.Image{ZeroCost: true}, params.Ptr(1024), params.Ptr(1024), []string{"a", "b"}, 8, 8, 2},
		{"zero cost png", &testbackend.Image{ZeroCost: true, Format: testbackend.PNG}, nil, nil, []string{"a"}, 8, 8, 1},
		{"no ids: one image", &testbackend.Image{Size: 8}, nil, nil, nil, 8, 8, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.backend.GenerateImages(t.Context(), imageJob("a cat", "42", tt.w, tt.h, tt.ids...))
			require.NoError(t, err)
			require.Len(t, out, tt.wantN)
			for _, o := range out {
				img := decode(t, tt.backend.Format, o.Data)
				assert.Equal(t, tt.wantW, img.Bounds().Dx())
				assert.Equal(t, tt.wantH, img.Bounds().Dy())
				assert.False(t, o.Safety.NSFW)
				assert.False(t, o.Safety.CSAM)
			}
		})
	}
}

func TestImageBatchSizeWithoutIDs(t *testing.T) {
	b := &testbackend.Image{Size: 8}
	job := imageJob("x", "1", nil, nil)
	job.Params.BatchSize = params.Ptr(3)
	out, err := b.GenerateImages(t.Context(), job)
	require.NoError(t, err)
	assert.Len(t, out, 3)
}

func TestImageDeterminism(t *testing.T) {
	for _, f := range []testbackend.Format{testbackend.WebP, testbackend.PNG} {
		t.Run(f.String(), func(t *testing.T) {
			gen := func(prompt, seed string) [][]byte {
				b := &testbackend.Image{Format: f}
				out, err := b.GenerateImages(t.Context(), imageJob(prompt, seed, params.Ptr(64), params.Ptr(64), "a", "b"))
				require.NoError(t, err)
				return [][]byte{out[0].Data, out[1].Data}
			}
			base := gen("a cat", "42")
			assert.Equal(t, base, gen("a cat", "42"), "same inputs, same bytes")
			assert.NotEqual(t, base[0], base[1], "index changes the image")
			other := gen("a cat", "43")
			assert.NotEqual(t, base[0], other[0], "seed changes the image")
			assert.NotEqual(t, base[0], gen("a dog", "42")[0], "prompt changes the image")
			// Not only the bytes: the pixels differ.
			a, c := decode(t, f, base[0]), decode(t, f, other[0])
			assert.NotEqual(t, a.At(10, 10), c.At(10, 10))
		})
	}
}

func TestImageSafetyMarkers(t *testing.T) {
	tests := []struct {
		name           string
		backend        *testbackend.Image
		prompt         string
		wantNSFW, want bool
	}{
		{"none", &testbackend.Image{Size: 8}, "a cat", false, false},
		{"nsfw default marker", &testbackend.Image{Size: 8}, "a cat [NSFW]", true, false},
		{"csam default marker", &testbackend.Image{Size: 8}, "[csam] a cat", false, true},
		{"both", &testbackend.Image{Size: 8}, "[csam][nsfw]", true, true},
		{"custom marker", &testbackend.Image{Size: 8, NSFWMarker: "lewd"}, "lewd cat [nsfw]", true, false},
		{"custom marker absent", &testbackend.Image{Size: 8, NSFWMarker: "lewd"}, "[nsfw] cat", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.backend.GenerateImages(t.Context(), imageJob(tt.prompt, "1", nil, nil, "a", "b"))
			require.NoError(t, err)
			for _, o := range out {
				assert.Equal(t, tt.wantNSFW, o.Safety.NSFW)
				assert.Equal(t, tt.want, o.Safety.CSAM)
			}
		})
	}
}

func TestImageBadInput(t *testing.T) {
	tests := []struct {
		name string
		job  *worker.ImageJob
	}{
		{"nil job", nil},
		{"zero width", imageJob("x", "1", params.Ptr(0), nil, "a")},
		{"negative height", imageJob("x", "1", nil, params.Ptr(-64), "a")},
		{"too wide", imageJob("x", "1", params.Ptr(params.MaxImageSide+64), nil, "a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := (&testbackend.Image{}).GenerateImages(t.Context(), tt.job)
			assert.Error(t, err)
			assert.Nil(t, out)
		})
	}
}

func TestImageZeroCostShared(t *testing.T) {
	b := &testbackend.Image{ZeroCost: true}
	var wg sync.WaitGroup
	outs := make([][]worker.ImageOutput, 8)
	for i := range outs {
		wg.Go(func() {
			out, err := b.GenerateImages(context.Background(), imageJob("x", "1", nil, nil, "a"))
			assert.NoError(t, err)
			outs[i] = out
		})
	}
	wg.Wait()
	for _, o := range outs {
		require.Len(t, o, 1)
		assert.Equal(t, outs[0][0].Data, o[0].Data)
	}
	assert.EqualValues(t, 8, b.Calls())
}

// waitingCtx reports when a caller first waits on Done.
type waitingCtx struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (c *waitingCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

func TestImageLatencyAndCancel(t *testing.T) {
	b := &testbackend.Image{Size: 8, Behaviour: testbackend.Behaviour{Latency: time.Hour}}
	inner, cancel := context.WithCancel(t.Context())
	ctx := &waitingCtx{Context: inner, waiting: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := b.GenerateImages(ctx, imageJob("x", "1", nil, nil, "a"))
		done <- err
	}()
	<-ctx.waiting // the backend is in its latency wait
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	short := &testbackend.Image{Size: 8, Behaviour: testbackend.Behaviour{Latency: 5 * time.Millisecond}}
	start := time.Now()
	_, err := short.GenerateImages(t.Context(), imageJob("x", "1", nil, nil, "a"))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond)
}

func TestImageFaultsAreErrInjected(t *testing.T) {
	b := &testbackend.Image{ZeroCost: true, Behaviour: testbackend.Behaviour{FailEvery: 2}}
	for i := 1; i <= 4; i++ {
		_, err := b.GenerateImages(t.Context(), imageJob("x", "1", nil, nil, "a"))
		if i%2 == 0 {
			assert.True(t, errors.Is(err, testbackend.ErrInjected), "call %d", i)
		} else {
			assert.NoError(t, err, "call %d", i)
		}
	}
}

package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/hordetest"
)

// limitingImage is an image backend that narrows the offer as a real backend would.
type limitingImage struct {
	fakeImage
	limit func(*ImageOffer) ([]string, error)
}

func (l *limitingImage) LimitImageOffer(_ context.Context, o *ImageOffer) ([]string, error) {
	return l.limit(o)
}

// lastPop returns the body of the last successful call of operation.
func lastPop(t *testing.T, srv *hordetest.Server, operation string) map[string]any {
	t.Helper()
	calls := srv.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if c := calls[i]; c.Operation == operation && c.Status == http.StatusOK {
			var body map[string]any
			require.NoError(t, json.Unmarshal(c.Body, &body))
			return body
		}
	}
	t.Fatalf("no successful %s", operation)
	return nil
}

// TestOfferLimiterNarrowsThePop: the backend's limits are applied before the first pop, its
// notes are logged, and the pop says exactly what is left, every boolean included.
func TestOfferLimiterNarrowsThePop(t *testing.T) {
	h := newHarness(t)
	var logs bytes.Buffer
	s := imageSettings()
	s.Image.Models = []string{"stable_diffusion", "Missing Model"}
	s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	img := &limitingImage{limit: func(o *ImageOffer) ([]string, error) {
		o.Models = slices.DeleteFunc(o.Models, func(m string) bool { return m == "Missing Model" })
		o.AllowImg2Img, o.MaxPixels = false, 512*512
		return []string{"Missing Model: no checkpoint file", "img2img: no loader node"}, nil
	}}
	w, err := New(h.owner, s, Backends{Image: img})
	require.NoError(t, err)
	stop := runWorker(t, w)
	waitFor(t, "a pop", func() bool { return w.Stats().EmptyPops > 0 })
	require.NoError(t, stop())
	pop := lastPop(t, h.srv, "post_image_job_pop")
	assert.Equal(t, []any{"stable_diffusion"}, pop["models"])
	assert.Equal(t, false, pop["allow_img2img"], "a boolean the backend turned off is sent, not left to the server's default")
	assert.Equal(t, true, pop["allow_painting"])
	assert.EqualValues(t, 512*512, pop["max_pixels"])
	assert.Equal(t, testAgent, pop["bridge_agent"])
	assert.Contains(t, logs.String(), "Missing Model: no checkpoint file")
	assert.Contains(t, logs.String(), "img2img: no loader node")
}

// TestOfferLimiterErrors: a limiter's error, or an offer left empty, stops Run before any pop.
func TestOfferLimiterErrors(t *testing.T) {
	tests := []struct {
		name  string
		limit func(*ImageOffer) ([]string, error)
		want  string
	}{
		{"backend unreachable", func(*ImageOffer) ([]string, error) { return nil, errors.New("connection refused") },
			"the image backend: connection refused"},
		{"no model left", func(o *ImageOffer) ([]string, error) { o.Models = nil; return []string{"no file"}, nil },
			"Image.Models: must name at least one model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			w, err := New(h.owner, imageSettings(), Backends{Image: &limitingImage{limit: tt.limit}})
			require.NoError(t, err)
			err = w.Run(t.Context())
			require.ErrorContains(t, err, tt.want)
			for _, c := range h.srv.Calls() {
				assert.NotEqual(t, "post_image_job_pop", c.Operation, "no pop after a failed start")
			}
		})
	}
}

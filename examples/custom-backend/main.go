// Command custom-backend runs an AI Horde worker with an image backend of its own, against a
// simulated Horde on this machine, asks that Horde for two images, and stops once they are
// delivered. Replace the simulator with aihorde.net (and the synthetic painter with your
// model) to serve real requests: see pkg/worker's documentation.
//
//	go run ./examples/custom-backend
package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// gradient is an image backend: it paints a gradient whose colour follows the seed.
type gradient struct{}

// GenerateImages runs one job: one image per result id, in order.
func (gradient) GenerateImages(ctx context.Context, job *worker.ImageJob) ([]worker.ImageOutput, error) {
	w, h := 64, 64
	if job.Params.Width != nil && job.Params.Height != nil {
		w, h = *job.Params.Width/8, *job.Params.Height/8
	}
	out := make([]worker.ImageOutput, len(job.ResultIDs))
	for i := range out {
		if err := ctx.Err(); err != nil {
			return nil, err // the job's ttl ran out, or the worker is stopping
		}
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Set(x, y, color.RGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: uint8(40 * i), A: 255})
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return nil, err
		}
		// A gradient is safe for work, and this backend knows it: it gives its own verdict.
		out[i] = worker.ImageOutput{Data: buf.Bytes(), Safety: &worker.SafetyVerdict{}}
	}
	return out, nil
}

// LimitImageOffer narrows what the worker offers to what this backend can run: txt2img only.
func (gradient) LimitImageOffer(_ context.Context, o *worker.ImageOffer) ([]string, error) {
	var notes []string
	if o.AllowImg2Img || o.AllowPainting || o.AllowLoRA || o.AllowControlNet || o.AllowPostProcessing {
		o.AllowImg2Img, o.AllowPainting, o.AllowLoRA, o.AllowControlNet, o.AllowPostProcessing = false, false, false, false, false
		notes = append(notes, "txt2img only: the gradient painter takes no source image, LoRA or post-processing")
	}
	return notes, nil
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// A simulated Horde with a requester and a worker owner.
	srv := hordetest.NewServer(
		hordetest.WithUser(hordetest.User{Name: "requester", APIKey: "requester-key", Kudos: 1000}),
		hordetest.WithUser(hordetest.User{Name: "owner", APIKey: "owner-key-0123456789", Trusted: true}),
	)
	defer srv.Close()
	owner, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("owner-key-0123456789"))
	if err != nil {
		log.Fatal(err)
	}
	w, err := worker.New(owner, worker.Settings{
		Image:     &worker.ImageOffer{Name: "gradient-painter", Models: []string{"stable_diffusion"}, MaxPixels: 1024 * 1024, AllowImg2Img: true},
		ServeNSFW: true,
		Logger:    logger,
	}, worker.Backends{Image: gradient{}})
	if err != nil {
		log.Fatal(err)
	}
	runCtx, stopWorker := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()

	requester, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("requester-key"))
	if err != nil {
		log.Fatal(err)
	}
	// The Horde refuses a request that no worker it knows can serve: wait for the worker's pop.
	for w.Stats().EmptyPops == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	res, err := requester.GenerateImage(ctx, params.Image{Prompt: "a gradient", BatchSize: new(2)},
		&params.RequestOptions{R2: new(false)}) // the Horde sends R2 jobs only to bridges it knows
	if err != nil {
		log.Fatal(err)
	}
	stopWorker()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	for _, im := range res.Images {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(im.Data))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("image %s: %d×%d from %s\n", im.ID, cfg.Width, cfg.Height, im.WorkerName)
	}
	st := w.Stats()
	fmt.Printf("worker: %d jobs done, %.1f kudos earned\n", st.Done, st.Kudos)
}

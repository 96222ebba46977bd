// Command generate-image asks the AI Horde for an image and saves it.
//
//	AI_HORDE_API_KEY=... go run ./examples/generate-image -prompt "a lighthouse at dusk"
//	go run ./examples/generate-image -sim    # against a simulator on this machine, no account
//
// The parameters are validated before anything is sent; progress is printed as it comes.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
)

func main() {
	prompt := flag.String("prompt", "a lighthouse on a cliff at dusk, oil painting", "what to draw; a negative prompt follows ###")
	model := flag.String("model", "", "a model name (default: any the Horde picks)")
	steps := flag.Int("steps", 20, "sampling steps")
	out := flag.String("o", "", "where to save the image (default image.webp, or image.png for the simulator's placeholders)")
	sim := flag.Bool("sim", false, "use a simulated Horde on this machine instead of aihorde.net")
	flag.Parse()

	// Ctrl-C cancels the request on the Horde before the program ends.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	opts := []horde.Option{horde.FromEnv(), horde.WithClientAgent("generate-image-example:1.0:https://github.com/horde-go/horde")}
	if *sim {
		srv := hordetest.NewServer(hordetest.WithAutoFulfil(0)) // a Horde with a built-in worker
		defer srv.Close()
		opts = append(opts, horde.WithBaseURL(srv.URL))
	}
	c, err := horde.NewClient(opts...)
	if err != nil {
		log.Fatal(err)
	}
	pos, neg := params.SplitPrompt(*prompt)
	img := params.Image{Prompt: pos, NegativePrompt: neg, Model: *model, Steps: steps}
	res, err := c.GenerateImage(ctx, img, nil, horde.OnProgress(func(p horde.Progress) {
		fmt.Fprintf(os.Stderr, "queue position %d, %d finished, wait %s\n", p.QueuePosition, p.Finished, p.WaitTime)
	}))
	if err != nil {
		log.Fatal(err)
	}
	if len(res.Images) == 0 {
		log.Fatalf("request %s finished without an image", res.ID)
	}
	im := res.Images[0]
	if *out == "" { // the Horde stores WebP; the simulator's placeholders are PNG
		*out = "image.webp"
		if http.DetectContentType(im.Data) == "image/png" {
			*out = "image.png"
		}
	}
	if err := os.WriteFile(*out, im.Data, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("saved %s: %s, seed %s, by %s, %.1f kudos\n", *out, im.Model, im.Seed, im.WorkerName, res.Kudos)
}

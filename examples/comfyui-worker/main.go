// Command comfyui-worker shares a ComfyUI on the AI Horde from a Go program: images through
// ComfyUI, post-processing alchemy through the same ComfyUI, captions and NSFW checks through an
// OpenAI-compatible vision server, which also checks the generated images.
//
//	AI_HORDE_API_KEY=your-key go run ./examples/comfyui-worker \
//	    -comfyui http://127.0.0.1:8188 -vision http://127.0.0.1:8080 -name my-worker \
//	    -model "AlbedoBase XL (SDXL)=albedobaseXL_v21.safetensors"
//
// The bridge YAML and `horde worker --image-backend comfyui` do the same without code; this
// program shows the pieces: comfyui.New, vision.New, worker.NewAlchemyByForm, worker.Settings.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/comfyui"
	"github.com/horde-go/horde/pkg/worker/vision"
)

// modelFiles collects -model NAME=FILE flags.
type modelFiles map[string]string

func (m modelFiles) String() string { return fmt.Sprint(map[string]string(m)) }

func (m modelFiles) Set(v string) error {
	name, file, ok := strings.Cut(v, "=")
	if !ok || name == "" || file == "" {
		return fmt.Errorf("want NAME=FILE, got %q", v)
	}
	m[name] = file
	return nil
}

func main() {
	files := modelFiles{}
	comfyURL := flag.String("comfyui", comfyui.DefaultURL, "the ComfyUI server")
	visionURL := flag.String("vision", "", "an OpenAI-compatible vision server (captions, NSFW checks, the image safety check)")
	safetyNode := flag.String("safety-node", "", "a node of your ComfyUI that blacks out unsafe images (instead of -vision for the image check)")
	name := flag.String("name", "my-comfyui-worker", "the worker's name on the Horde")
	flag.Var(files, "model", "a Horde model and its checkpoint file, NAME=FILE (repeatable)")
	flag.Parse()
	if err := run(*comfyURL, *visionURL, *safetyNode, *name, files); err != nil {
		log.Fatal(err)
	}
}

func run(comfyURL, visionURL, safetyNode, name string, files modelFiles) error {
	if visionURL == "" && safetyNode == "" {
		// ComfyUI gives no NSFW verdict: without a checker, every job that asks for the censor
		// would be faulted, which the Horde counts against the worker.
		return fmt.Errorf("give -vision or -safety-node: the generated images need a safety check")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	client, err := horde.NewClient(horde.FromEnv()) // AI_HORDE_API_KEY, the worker owner's key
	if err != nil {
		return err
	}
	ref, err := params.SnapshotImageModelReference() // the checkpoints' file names, the baselines
	if err != nil {
		return err
	}
	comfy, err := comfyui.New(comfyui.Config{URL: comfyURL, ModelFiles: files, ModelReference: ref, Logger: logger})
	if err != nil {
		return err
	}
	models := make([]string, 0, len(files))
	for m := range files {
		models = append(models, m)
	}
	s := worker.Settings{
		Image: &worker.ImageOffer{Name: name, Models: models, MaxPixels: 1024 * 1024,
			AllowImg2Img: true, AllowPainting: true, AllowLoRA: true, AllowPostProcessing: true, AllowControlNet: true},
		Alchemy:   &worker.AlchemyOffer{Name: name + "-alchemy"}, // no forms named: each backend offers what it runs
		Logger:    logger,
		ServeNSFW: true, // requests that ask for the censor get it from the safety check
	}
	backends := worker.Backends{Image: comfy, Alchemy: comfy}
	if safetyNode != "" {
		node, err := comfyui.NewSafetyNode(comfy.Client(), safetyNode, "")
		if err != nil {
			return err
		}
		if err := node.Check(context.Background()); err != nil { // a wrong node stops us here
			return err
		}
		s.Safety = node
	}
	if visionURL != "" {
		v, err := vision.New(vision.Config{URL: visionURL})
		if err != nil {
			return err
		}
		if s.Safety == nil {
			s.Safety = v // checks ComfyUI's images
		}
		backends.Alchemy = worker.NewAlchemyByForm(v, comfy) // captions and NSFW there, post-processing on ComfyUI
	}
	w, err := worker.New(client, s, backends)
	if err != nil {
		return err
	}
	// The first Ctrl-C drains (no new jobs; running ones finish and are submitted).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return w.Run(ctx)
}

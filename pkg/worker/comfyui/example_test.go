package comfyui_test

import (
	"context"
	"log"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/comfyui"
)

// ExampleNew serves images and post-processing on the ComfyUI at 127.0.0.1:8188, with a safety
// node of that ComfyUI checking the images (compiled, not run: it needs a ComfyUI).
func ExampleNew() {
	be, err := comfyui.New(comfyui.Config{ModelFiles: map[string]string{"AlbedoBase XL (SDXL)": "albedobaseXL_v21.safetensors"}})
	if err != nil {
		log.Fatal(err)
	}
	safety, err := comfyui.NewSafetyNode(be.Client(), "Safety Checker", "images")
	if err != nil {
		log.Fatal(err)
	}
	client, err := horde.NewClient(horde.FromEnv())
	if err != nil {
		log.Fatal(err)
	}
	w, err := worker.New(client, worker.Settings{
		Image:     &worker.ImageOffer{Name: "my-comfyui", Models: []string{"AlbedoBase XL (SDXL)"}, AllowPostProcessing: true},
		Alchemy:   &worker.AlchemyOffer{Name: "my-comfyui-alchemy"},
		ServeNSFW: true,
		Safety:    safety,
	}, worker.Backends{Image: be, Alchemy: be})
	if err != nil {
		log.Fatal(err)
	}
	_ = w.Run(context.Background()) // narrows the offers to what ComfyUI has, then pops
}

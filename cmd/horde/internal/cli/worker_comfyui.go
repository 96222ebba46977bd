package cli

import (
	"fmt"

	"github.com/horde-go/horde/pkg/worker/bridgedata"
	"github.com/horde-go/horde/pkg/worker/comfyui"
)

// comfyBackend builds the ComfyUI image backend from the configuration and the flags. ComfyUI
// has no safety classifier: without one, the worker faults every job that needs an NSFW
// verdict (those that ask for the censor, and all of them when nsfw is false), which the Horde
// counts against the worker. So the backend starts only when the user says so
// (--allow-unchecked-images) until a safety checker is configured (docs/comfyui.md).
func (o *workerOpts) comfyBackend(cfg *bridgedata.Config) (*comfyui.Backend, error) {
	if !o.allowUnchecked {
		return nil, usagef("--image-backend comfyui: ComfyUI has no NSFW classifier, so jobs that ask for the censor " +
			"would be faulted; pass --allow-unchecked-images to serve anyway (see docs/comfyui.md)")
	}
	url := cfg.ComfyUIURL
	if o.comfyURL != "" {
		url = o.comfyURL
	}
	be, err := comfyui.New(comfyui.Config{URL: url, ModelFiles: cfg.ComfyUIModelFiles, ImageTimeout: cfg.ComfyUIImageTimeout})
	if err != nil {
		return nil, fmt.Errorf("the ComfyUI backend: %w", err)
	}
	return be, nil
}

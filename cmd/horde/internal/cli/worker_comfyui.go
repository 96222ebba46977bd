package cli

import (
	"context"
	"fmt"

	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/bridgedata"
	"github.com/horde-go/horde/pkg/worker/comfyui"
	"github.com/horde-go/horde/pkg/worker/vision"
)

// comfyBackend builds the ComfyUI image backend from the configuration and the flags. ComfyUI
// has no safety classifier: without one, the worker faults every job that needs an NSFW
// verdict (those that ask for the censor, and all of them when nsfw is false), which the Horde
// counts against the worker. So the backend starts only with a vision server as the safety
// checker (vision_url, --vision-url), or when the user accepts that (--allow-unchecked-images;
// docs/comfyui.md).
func (o *workerOpts) comfyBackend(cfg *bridgedata.Config) (*comfyui.Backend, error) {
	if !o.allowUnchecked && cfg.VisionURL == "" && o.visionURL == "" && o.safetyNode(cfg) == "" {
		return nil, usagef("--image-backend comfyui: ComfyUI has no NSFW classifier, so jobs that ask for the censor " +
			"would be faulted; name a safety node of your ComfyUI (comfyui_safety_node or --comfyui-safety-node) " +
			"or give a vision server as the safety checker (vision_url or --vision-url), " +
			"or pass --allow-unchecked-images to serve anyway (see docs/comfyui.md)")
	}
	return o.comfyClient(cfg)
}

// comfyClient builds a ComfyUI backend from the configuration and the flags, for images or
// for post-processing alchemy (which needs no safety check: it generates nothing).
func (o *workerOpts) comfyClient(cfg *bridgedata.Config) (*comfyui.Backend, error) {
	url := cfg.ComfyUIURL
	if o.comfyURL != "" {
		url = o.comfyURL
	}
	be, err := comfyui.New(comfyui.Config{URL: url, ModelFiles: cfg.ComfyUIModelFiles, ImageTimeout: cfg.ComfyUIImageTimeout,
		BackgroundNode: cfg.ComfyUIBackgroundNode})
	if err != nil {
		return nil, fmt.Errorf("the ComfyUI backend: %w", err)
	}
	return be, nil
}

// visionBackend builds the vision backend when a vision server is configured (nil otherwise).
func (o *workerOpts) visionBackend(cfg *bridgedata.Config) (*vision.Backend, error) {
	url := cfg.VisionURL
	if o.visionURL != "" {
		url = o.visionURL
	}
	if url == "" {
		return nil, nil
	}
	v, err := vision.New(vision.Config{URL: url, Model: cfg.VisionModel, CaptionPrompt: cfg.VisionCaptionPrompt})
	if err != nil {
		return nil, fmt.Errorf("the vision backend: %w", err)
	}
	return v, nil
}

// safetyNode is the ComfyUI safety node named by the flag or the configuration ("" for none).
func (o *workerOpts) safetyNode(cfg *bridgedata.Config) string {
	if o.comfySafetyNode != "" {
		return o.comfySafetyNode
	}
	return cfg.ComfyUISafetyNode
}

// imageSafety is the image backend's safety checker: the ComfyUI safety node when one is named
// (checked against the server now, so that a wrong name stops the worker at start), else the
// vision server when one is configured, else none.
func (o *workerOpts) imageSafety(ctx context.Context, cfg *bridgedata.Config, image worker.ImageBackend) (worker.SafetyChecker, error) {
	if class := o.safetyNode(cfg); class != "" {
		be, ok := image.(*comfyui.Backend)
		if !ok {
			return nil, usagef("comfyui_safety_node needs --image-backend comfyui")
		}
		node, err := comfyui.NewSafetyNode(be.Client(), class, "")
		if err != nil {
			return nil, err
		}
		if err := node.Check(ctx); err != nil {
			return nil, err
		}
		return node, nil
	}
	v, err := o.visionBackend(cfg)
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

package worker

import (
	"slices"

	"github.com/horde-go/horde/gen"
)

// The pop request bodies, built once from the settings (with defaults applied). Every field
// the settings govern is sent, booleans included, so that the Horde never fills in a default
// the worker did not choose (its defaults for omitted fields are generous: nsfw,
// allow_img2img, allow_painting, allow_post_processing and allow_unsafe_ipaddr default to true).
// Unlike reGen, priority_usernames is sent for every kind: the server reads it for all.

func (s *Settings) imagePopBody() gen.PopInputStable {
	o := s.Image
	return gen.PopInputStable{
		Name:                &o.Name,
		Models:              slices.Clone(o.Models),
		BridgeAgent:         &s.BridgeAgent,
		MaxPixels:           &o.MaxPixels,
		Threads:             &s.Threads,
		Amount:              &o.MaxBatch,
		NSFW:                &s.ServeNSFW,
		Blacklist:           slices.Clone(o.Blacklist),
		PriorityUsernames:   slices.Clone(s.PriorityUsernames),
		RequireUpfrontKudos: &s.RequireUpfrontKudos,
		ExtraSlowWorker:     &s.ExtraSlowWorker,
		LimitMaxSteps:       &o.LimitMaxSteps,
		AllowImg2Img:        &o.AllowImg2Img,
		AllowPainting:       &o.AllowPainting,
		AllowUnsafeIpaddr:   &o.AllowUnsafeIPAddr,
		AllowPostProcessing: &o.AllowPostProcessing,
		AllowControlnet:     &o.AllowControlNet,
		AllowSDXLControlnet: &o.AllowSDXLControlNet,
		AllowLora:           &o.AllowLoRA,
	}
}

func (s *Settings) textPopBody() gen.PopInputKobold {
	o := s.Text
	return gen.PopInputKobold{
		Name:                &o.Name,
		Models:              slices.Clone(o.Models),
		BridgeAgent:         &s.BridgeAgent,
		MaxLength:           &o.MaxLength,
		MaxContextLength:    &o.MaxContextLength,
		Threads:             &s.Threads,
		NSFW:                &s.ServeNSFW,
		PriorityUsernames:   slices.Clone(s.PriorityUsernames),
		RequireUpfrontKudos: &s.RequireUpfrontKudos,
		ExtraSlowWorker:     &s.ExtraSlowWorker,
	}
}

func (s *Settings) alchemyPopBody() gen.InterrogationPopInput {
	o := s.Alchemy
	forms := make([]gen.InterrogationFormName, len(o.Forms))
	for i, f := range o.Forms {
		forms[i] = gen.InterrogationFormName(f)
	}
	return gen.InterrogationPopInput{
		Name:              &o.Name,
		Forms:             forms,
		BridgeAgent:       &s.BridgeAgent,
		Amount:            &o.PerPop,
		Threads:           &s.Threads,
		MaxTiles:          &o.MaxTiles,
		PriorityUsernames: slices.Clone(s.PriorityUsernames),
	}
}

package worker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// The pop request bodies follow one rule (decision): the fields the configuration always
// governs are always sent (name, models or forms, bridge_agent, threads, amount, max_pixels,
// max_length, max_context_length, max_tiles); a boolean is sent only when it differs from the
// server's default for an omitted field (AI-Horde apis/models/v2.py, stable_v2.py at
// fbd5ed46: nsfw, allow_img2img, allow_painting, allow_unsafe_ipaddr and
// allow_post_processing default to true; require_upfront_kudos, extra_slow_worker,
// allow_controlnet, allow_sdxl_controlnet, allow_lora and limit_max_steps to false); lists are
// sent when not empty. Unlike reGen, priority_usernames is sent for images too: the server
// reads it for every kind.

// cfgBoolIf returns &v when v differs from the server default, else nil (the field is omitted).
func cfgBoolIf(v, serverDefault bool) *bool {
	if v == serverDefault {
		return nil
	}
	return &v
}

func cfgPtr[T any](v T) *T { return &v }

// ImagePopRequest builds the body of POST /v2/generate/pop from the configuration and the
// resolved model names ([ResolveImageModels]). max_pixels is max_power·8·64·64; amount is
// max_batch; allow_controlnet and allow_sdxl_controlnet are as adjusted by the cross-field rules.
func (c *Config) ImagePopRequest(models []string) (gen.PopInputStable, error) {
	if len(models) == 0 {
		return gen.PopInputStable{}, errors.New("worker: image pop: no models (resolve models_to_load first)")
	}
	return gen.PopInputStable{
		Name:                cfgPtr(c.NameFor(horde.KindImage)),
		Models:              append([]string(nil), models...),
		BridgeAgent:         cfgPtr(c.BridgeAgent),
		MaxPixels:           cfgPtr(c.MaxPixels()),
		Threads:             cfgPtr(c.MaxThreads),
		Amount:              cfgPtr(c.MaxBatch),
		NSFW:                cfgBoolIf(c.NSFW, true),
		Blacklist:           cfgNonEmpty(c.Blacklist),
		PriorityUsernames:   cfgNonEmpty(c.PriorityUsernames),
		RequireUpfrontKudos: cfgBoolIf(c.RequireUpfrontKudos, false),
		ExtraSlowWorker:     cfgBoolIf(c.ExtraSlowWorker, false),
		LimitMaxSteps:       cfgBoolIf(c.LimitMaxSteps, false),
		AllowImg2Img:        cfgBoolIf(c.AllowImg2Img, true),
		AllowPainting:       cfgBoolIf(c.AllowPainting, true),
		AllowUnsafeIpaddr:   cfgBoolIf(c.AllowUnsafeIP, true),
		AllowPostProcessing: cfgBoolIf(c.AllowPostProcessing, true),
		AllowControlnet:     cfgBoolIf(c.AllowControlnet && c.AllowImg2Img, false),
		AllowSDXLControlnet: cfgBoolIf(c.AllowSDXLControlnet && c.AllowControlnet && c.AllowImg2Img, false),
		AllowLora:           cfgBoolIf(c.AllowLora, false),
	}, nil
}

// TextModelName applies the "branded model" rule: with branded_model on, the advertised name is
// model::alias, where alias is the account's unique alias (name#id, the username of
// find_user). Unlike the scribe, an unknown alias is an error instead of "model::N/A", which
// the server rejects. model empty means text_model.
func (c *Config) TextModelName(model, alias string) (string, error) {
	if model == "" {
		model = c.TextModel
	}
	model = strings.TrimSpace(model)
	if model == "" {
		return "", errors.New("worker: text pop: no model (set text_model or ask the backend)")
	}
	if !c.BrandedModel {
		return model, nil
	}
	if !cfgPriorityUsername.MatchString(alias) {
		return "", fmt.Errorf("worker: text pop: branded_model needs the account alias (name#id), got %q", alias)
	}
	if strings.HasSuffix(model, "::"+alias) {
		return model, nil
	}
	if strings.Contains(model, "::") {
		return "", fmt.Errorf("worker: text pop: model %q is branded for another account than %q", model, alias)
	}
	return model + "::" + alias, nil
}

// TextPopRequest builds the body of POST /v2/generate/text/pop: the one model the backend
// serves ([Config.TextModelName] applies branded_model), max_length and max_context_length,
// threads and the bridge agent. nsfw is sent only when false (the scribe never sends it, so
// the server assumes true); softprompts are not sent.
func (c *Config) TextPopRequest(model, alias string) (gen.PopInputKobold, error) {
	name, err := c.TextModelName(model, alias)
	if err != nil {
		return gen.PopInputKobold{}, err
	}
	return gen.PopInputKobold{
		Name:                cfgPtr(c.NameFor(horde.KindText)),
		Models:              []string{name},
		BridgeAgent:         cfgPtr(c.BridgeAgent),
		MaxLength:           cfgPtr(c.MaxLength),
		MaxContextLength:    cfgPtr(c.MaxContextLength),
		Threads:             cfgPtr(c.MaxThreads),
		NSFW:                cfgBoolIf(c.NSFW, true),
		PriorityUsernames:   cfgNonEmpty(c.PriorityUsernames),
		RequireUpfrontKudos: cfgBoolIf(c.RequireUpfrontKudos, false),
		ExtraSlowWorker:     cfgBoolIf(c.ExtraSlowWorker, false),
	}, nil
}

// AlchemyPopRequest builds the body of POST /v2/interrogate/pop. forms nil means the configured
// forms; a caller whose backend serves fewer passes the intersection. As in the alchemist,
// amount is max(queue_size, 1) and max_tiles is max_power, at least 2.
func (c *Config) AlchemyPopRequest(forms []params.AlchemyForm) (gen.InterrogationPopInput, error) {
	if forms == nil {
		forms = c.Forms
	}
	if len(forms) == 0 {
		return gen.InterrogationPopInput{}, errors.New("worker: alchemy pop: no forms")
	}
	names := make([]gen.InterrogationFormName, 0, len(forms))
	for _, f := range forms {
		if !f.InAPI() {
			return gen.InterrogationPopInput{}, fmt.Errorf("worker: alchemy pop: %q is not an alchemy form of the API", f)
		}
		names = append(names, gen.InterrogationFormName(f))
	}
	return gen.InterrogationPopInput{
		Name:              cfgPtr(c.NameFor(horde.KindAlchemy)),
		Forms:             names,
		BridgeAgent:       cfgPtr(c.BridgeAgent),
		Amount:            cfgPtr(max(c.QueueSize, 1)),
		Threads:           cfgPtr(c.MaxThreads),
		MaxTiles:          cfgPtr(max(c.MaxPower, 2)),
		PriorityUsernames: cfgNonEmpty(c.PriorityUsernames),
	}, nil
}

func cfgNonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

package bridgedata

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// ImageOffer builds the worker's image offer from the configuration and the resolved model
// names ([ResolveImageModels]). max_pixels is max_power·8·64·64; the batch is max_batch;
// allow_controlnet needs allow_img2img, and allow_sdxl_controlnet needs both.
func (c *Config) ImageOffer(models []string, ref *params.ImageModelReference) (worker.ImageOffer, error) {
	if len(models) == 0 {
		return worker.ImageOffer{}, errors.New("bridgedata: image offer: no models (resolve models_to_load first)")
	}
	return worker.ImageOffer{
		Name:                c.NameFor(horde.KindImage),
		Models:              slices.Clone(models),
		MaxPixels:           c.MaxPixels(),
		MaxBatch:            c.MaxBatch,
		Blacklist:           slices.Clone(c.Blacklist),
		LimitMaxSteps:       c.LimitMaxSteps,
		AllowImg2Img:        c.AllowImg2Img,
		AllowPainting:       c.AllowPainting,
		AllowUnsafeIPAddr:   c.AllowUnsafeIP,
		AllowPostProcessing: c.AllowPostProcessing,
		AllowControlNet:     c.AllowControlnet && c.AllowImg2Img,
		AllowSDXLControlNet: c.AllowSDXLControlnet && c.AllowControlnet && c.AllowImg2Img,
		AllowLoRA:           c.AllowLora,
		ModelReference:      ref,
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
		return "", errors.New("bridgedata: text pop: no model (set text_model or ask the backend)")
	}
	if !c.BrandedModel {
		return model, nil
	}
	if !cfgPriorityUsername.MatchString(alias) {
		return "", fmt.Errorf("bridgedata: text pop: branded_model needs the account alias (name#id), got %q", alias)
	}
	if strings.HasSuffix(model, "::"+alias) {
		return model, nil
	}
	if strings.Contains(model, "::") {
		return "", fmt.Errorf("bridgedata: text pop: model %q is branded for another account than %q", model, alias)
	}
	return model + "::" + alias, nil
}

// TextOffer builds the worker's text offer: the one model the backend serves
// ([Config.TextModelName] applies branded_model), max_length and max_context_length.
func (c *Config) TextOffer(model, alias string) (worker.TextOffer, error) {
	name, err := c.TextModelName(model, alias)
	if err != nil {
		return worker.TextOffer{}, err
	}
	return worker.TextOffer{
		Name:             c.NameFor(horde.KindText),
		Models:           []string{name},
		MaxLength:        c.MaxLength,
		MaxContextLength: c.MaxContextLength,
	}, nil
}

// AlchemyOffer builds the worker's alchemy offer. forms nil means the configured forms; a caller
// whose backend serves fewer passes the intersection. As in the alchemist, one pop brings up to
// max(queue_size, 1) forms and max_tiles is max_power, at least 2.
func (c *Config) AlchemyOffer(forms []params.AlchemyForm) (worker.AlchemyOffer, error) {
	if forms == nil {
		forms = c.Forms
	}
	if len(forms) == 0 {
		return worker.AlchemyOffer{}, errors.New("bridgedata: alchemy offer: no forms")
	}
	for _, f := range forms {
		if !f.InAPI() {
			return worker.AlchemyOffer{}, fmt.Errorf("bridgedata: alchemy offer: %q is not an alchemy form of the API", f)
		}
	}
	return worker.AlchemyOffer{
		Name:     c.NameFor(horde.KindAlchemy),
		Forms:    slices.Clone(forms),
		MaxTiles: max(c.MaxPower, 2),
		PerPop:   max(c.QueueSize, 1),
	}, nil
}

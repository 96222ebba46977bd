package bridgedata

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

const cfgTestAgent = "horde-go:1.0.0:https://github.com/horde-go/horde"

func cfgTestConfig(t *testing.T, yaml string) *Config {
	t.Helper()
	c, _, err := Parse([]byte("api_key: k\nbridge_agent: \"" + cfgTestAgent + "\"\n" + yaml))
	require.NoError(t, err)
	return c
}

func TestImageOffer(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		models []string
		want   worker.ImageOffer
	}{
		{"defaults", "", []string{"Deliberate"}, worker.ImageOffer{Name: "An Awesome Dreamer", Models: []string{"Deliberate"},
			MaxPixels: 262144, MaxBatch: 1, AllowImg2Img: true, AllowUnsafeIPAddr: true}},
		{"everything on", `
dreamer_name: D
max_power: 32
max_threads: 2
max_batch: 4
nsfw: true
blacklist: [a, b]
priority_usernames: ["x#1"]
require_upfront_kudos: true
limit_max_steps: true
allow_img2img: true
allow_painting: true
allow_unsafe_ip: true
allow_post_processing: true
allow_controlnet: true
allow_sdxl_controlnet: true
allow_lora: true
`, []string{"A", "B"}, worker.ImageOffer{Name: "D", Models: []string{"A", "B"}, MaxPixels: 1048576, MaxBatch: 4,
			Blacklist: []string{"a", "b"}, LimitMaxSteps: true, AllowImg2Img: true, AllowPainting: true, AllowUnsafeIPAddr: true,
			AllowPostProcessing: true, AllowControlNet: true, AllowSDXLControlNet: true, AllowLoRA: true}},
		{"everything off", `
worker_name: W
nsfw: false
allow_img2img: false
allow_painting: false
allow_unsafe_ip: false
allow_post_processing: false
`, []string{"A"}, worker.ImageOffer{Name: "W", Models: []string{"A"}, MaxPixels: 262144, MaxBatch: 1}},
		{"extra slow", "extra_slow_worker: true\nmax_threads: 4\nmax_power: 1", []string{"A"},
			worker.ImageOffer{Name: "An Awesome Dreamer", Models: []string{"A"}, MaxPixels: 32768, MaxBatch: 1,
				AllowImg2Img: true, AllowUnsafeIPAddr: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfgTestConfig(t, tt.yaml)
			offer, err := c.ImageOffer(tt.models, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, offer)
		})
	}
}

func TestImageOfferNoModels(t *testing.T) {
	_, err := Default().ImageOffer(nil, nil)
	assert.Error(t, err)
}

// TestImageOfferControlnetSetInCode: a Config changed in code without Validate still never
// offers controlnet without img2img.
func TestImageOfferControlnetSetInCode(t *testing.T) {
	c := Default()
	c.AllowImg2Img, c.AllowControlnet, c.AllowSDXLControlnet = false, true, true
	offer, err := c.ImageOffer([]string{"A"}, nil)
	require.NoError(t, err)
	assert.False(t, offer.AllowControlNet)
	assert.False(t, offer.AllowSDXLControlNet)
}

func TestTextOffer(t *testing.T) {
	scribe := func(name string, model string, length, ctx int) worker.TextOffer {
		return worker.TextOffer{Name: name, Models: []string{model}, MaxLength: length, MaxContextLength: ctx}
	}
	tests := []struct {
		name, yaml, model, alias string
		want                     worker.TextOffer
		wantErr                  string
	}{
		{"defaults", "", "koboldcpp/Llama", "", scribe("An Awesome Scribe", "koboldcpp/Llama", 80, 2048), ""},
		{"model from config", "text_model: aphrodite/M\nmax_length: 512\nmax_context_length: 4096\nmax_threads: 2\nscribe_name: S", "", "",
			scribe("S", "aphrodite/M", 512, 4096), ""},
		{"branded", "branded_model: true", "M", "me#42", scribe("An Awesome Scribe", "M::me#42", 80, 2048), ""},
		{"already branded", "branded_model: true", "M::me#42", "me#42", scribe("An Awesome Scribe", "M::me#42", 80, 2048), ""},
		{"branded for another", "branded_model: true", "M::you#1", "me#42", worker.TextOffer{}, "branded for another account"},
		{"branded without alias", "branded_model: true", "M", "", worker.TextOffer{}, "branded_model needs the account alias"},
		{"branded with N/A", "branded_model: true", "M", "N/A", worker.TextOffer{}, "branded_model needs the account alias"},
		{"no model", "", "", "", worker.TextOffer{}, "no model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfgTestConfig(t, tt.yaml)
			offer, err := c.TextOffer(tt.model, tt.alias)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, offer)
		})
	}
}

func TestAlchemyOffer(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		forms []params.AlchemyForm
		want  worker.AlchemyOffer
		err   bool
	}{
		{"config forms", "forms: [caption, nsfw]\nalchemist_name: A\nqueue_size: 0\nmax_power: 1", nil,
			worker.AlchemyOffer{Name: "A", Forms: []params.AlchemyForm{"caption", "nsfw"}, MaxTiles: 2, PerPop: 1}, false},
		{"queue and power", "forms: [GFPGAN]\nqueue_size: 3\nmax_power: 64\nmax_threads: 2", nil,
			worker.AlchemyOffer{Name: "An Awesome Alchemist", Forms: []params.AlchemyForm{"GFPGAN"}, MaxTiles: 64, PerPop: 3}, false},
		{"caller forms", "", []params.AlchemyForm{params.FormInterrogation},
			worker.AlchemyOffer{Name: "An Awesome Alchemist", Forms: []params.AlchemyForm{"interrogation"}, MaxTiles: 8, PerPop: 1}, false},
		{"no forms", "", []params.AlchemyForm{}, worker.AlchemyOffer{}, true},
		{"bad form", "", []params.AlchemyForm{"annotation"}, worker.AlchemyOffer{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfgTestConfig(t, tt.yaml)
			offer, err := c.AlchemyOffer(tt.forms)
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, offer)
		})
	}
}

func TestOffersDoNotAlias(t *testing.T) {
	c := cfgTestConfig(t, "blacklist: [a]")
	models := []string{"M"}
	offer, err := c.ImageOffer(models, nil)
	require.NoError(t, err)
	offer.Models[0], offer.Blacklist[0] = "x", "x"
	assert.Equal(t, "M", models[0])
	assert.Equal(t, "a", c.Blacklist[0])
}

package worker

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
)

const cfgTestAgent = "horde-go:1.0.0:https://github.com/horde-go/horde"

func cfgTestConfig(t *testing.T, yaml string) *Config {
	t.Helper()
	c, _, err := ParseConfig([]byte("api_key: k\nbridge_agent: \"" + cfgTestAgent + "\"\n" + yaml))
	require.NoError(t, err)
	return c
}

func cfgJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestImagePopRequest(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		models []string
		want   string
	}{
		{"defaults", "", []string{"Deliberate"},
			`{"allow_painting":false,"allow_post_processing":false,"amount":1,"bridge_agent":"` + cfgTestAgent + `","max_pixels":262144,"models":["Deliberate"],"name":"An Awesome Dreamer","threads":1}`},
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
`, []string{"A", "B"},
			`{"allow_controlnet":true,"allow_lora":true,"allow_sdxl_controlnet":true,"amount":4,"blacklist":["a","b"],"bridge_agent":"` + cfgTestAgent + `","limit_max_steps":true,"max_pixels":1048576,"models":["A","B"],"name":"D","priority_usernames":["x#1"],"require_upfront_kudos":true,"threads":2}`},
		{"everything off", `
worker_name: W
nsfw: false
allow_img2img: false
allow_painting: false
allow_unsafe_ip: false
allow_post_processing: false
`, []string{"A"},
			`{"allow_img2img":false,"allow_painting":false,"allow_post_processing":false,"allow_unsafe_ipaddr":false,"amount":1,"bridge_agent":"` + cfgTestAgent + `","max_pixels":262144,"models":["A"],"name":"W","nsfw":false,"threads":1}`},
		{"extra slow", "extra_slow_worker: true\nmax_threads: 4\nmax_power: 1", []string{"A"},
			`{"allow_painting":false,"allow_post_processing":false,"amount":1,"bridge_agent":"` + cfgTestAgent + `","extra_slow_worker":true,"max_pixels":32768,"models":["A"],"name":"An Awesome Dreamer","threads":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfgTestConfig(t, tt.yaml)
			body, err := c.ImagePopRequest(tt.models)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, cfgJSON(t, body))
		})
	}
}

func TestImagePopRequestNoModels(t *testing.T) {
	_, err := DefaultConfig().ImagePopRequest(nil)
	assert.Error(t, err)
}

// TestImagePopRequestControlnetSetInCode: a Config changed in code without Validate still never
// advertises controlnet without img2img.
func TestImagePopRequestControlnetSetInCode(t *testing.T) {
	c := DefaultConfig()
	c.AllowImg2Img, c.AllowControlnet, c.AllowSDXLControlnet = false, true, true
	body, err := c.ImagePopRequest([]string{"A"})
	require.NoError(t, err)
	assert.Nil(t, body.AllowControlnet)
	assert.Nil(t, body.AllowSDXLControlnet)
}

func TestTextPopRequest(t *testing.T) {
	tests := []struct {
		name, yaml, model, alias string
		want                     string
		wantErr                  string
	}{
		{"defaults", "", "koboldcpp/Llama", "",
			`{"bridge_agent":"` + cfgTestAgent + `","max_context_length":1024,"max_length":80,"models":["koboldcpp/Llama"],"name":"An Awesome Scribe","threads":1}`, ""},
		{"model from config", "text_model: aphrodite/M\nmax_length: 512\nmax_context_length: 4096\nmax_threads: 2\nscribe_name: S", "", "",
			`{"bridge_agent":"` + cfgTestAgent + `","max_context_length":4096,"max_length":512,"models":["aphrodite/M"],"name":"S","threads":2}`, ""},
		{"flags", "nsfw: false\nrequire_upfront_kudos: true\nextra_slow_worker: true\npriority_usernames: [\"a#1\"]\nblacklist: [x]", "M", "",
			`{"bridge_agent":"` + cfgTestAgent + `","extra_slow_worker":true,"max_context_length":1024,"max_length":80,"models":["M"],"name":"An Awesome Scribe","nsfw":false,"priority_usernames":["a#1"],"require_upfront_kudos":true,"threads":1}`, ""},
		{"branded", "branded_model: true", "M", "me#42",
			`{"bridge_agent":"` + cfgTestAgent + `","max_context_length":1024,"max_length":80,"models":["M::me#42"],"name":"An Awesome Scribe","threads":1}`, ""},
		{"already branded", "branded_model: true", "M::me#42", "me#42",
			`{"bridge_agent":"` + cfgTestAgent + `","max_context_length":1024,"max_length":80,"models":["M::me#42"],"name":"An Awesome Scribe","threads":1}`, ""},
		{"branded for another", "branded_model: true", "M::you#1", "me#42", "", "branded for another account"},
		{"branded without alias", "branded_model: true", "M", "", "", "branded_model needs the account alias"},
		{"branded with N/A", "branded_model: true", "M", "N/A", "", "branded_model needs the account alias"},
		{"no model", "", "", "", "", "no model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfgTestConfig(t, tt.yaml)
			body, err := c.TextPopRequest(tt.model, tt.alias)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, cfgJSON(t, body))
		})
	}
}

func TestAlchemyPopRequest(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		forms []params.AlchemyForm
		want  string
		err   bool
	}{
		{"config forms", "forms: [caption, nsfw]\nalchemist_name: A\nqueue_size: 0\nmax_power: 1", nil,
			`{"amount":1,"bridge_agent":"` + cfgTestAgent + `","forms":["caption","nsfw"],"max_tiles":2,"name":"A","threads":1}`, false},
		{"queue and power", "forms: [GFPGAN]\nqueue_size: 3\nmax_power: 64\nmax_threads: 2\npriority_usernames: [\"p#9\"]", nil,
			`{"amount":3,"bridge_agent":"` + cfgTestAgent + `","forms":["GFPGAN"],"max_tiles":64,"name":"An Awesome Alchemist","priority_usernames":["p#9"],"threads":2}`, false},
		{"caller forms", "", []params.AlchemyForm{params.FormInterrogation},
			`{"amount":1,"bridge_agent":"` + cfgTestAgent + `","forms":["interrogation"],"max_tiles":8,"name":"An Awesome Alchemist","threads":1}`, false},
		{"no forms", "", []params.AlchemyForm{}, "", true},
		{"bad form", "", []params.AlchemyForm{"annotation"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfgTestConfig(t, tt.yaml)
			body, err := c.AlchemyPopRequest(tt.forms)
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, cfgJSON(t, body))
		})
	}
}

func TestPopRequestsDoNotAlias(t *testing.T) {
	c := cfgTestConfig(t, "blacklist: [a]\npriority_usernames: [\"a#1\"]")
	models := []string{"M"}
	body, err := c.ImagePopRequest(models)
	require.NoError(t, err)
	body.Models[0], body.Blacklist[0], body.PriorityUsernames[0] = "x", "x", "x"
	assert.Equal(t, "M", models[0])
	assert.Equal(t, "a", c.Blacklist[0])
	assert.Equal(t, "a#1", c.PriorityUsernames[0])
}

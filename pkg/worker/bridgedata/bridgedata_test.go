package bridgedata

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

func cfgTestKeys(ws []Warning) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Key)
	}
	return out
}

func TestParseConfigDefaults(t *testing.T) {
	for _, doc := range []string{"", "# only a comment\n", "---\n", "~\n"} {
		t.Run(doc, func(t *testing.T) {
			c, warns, err := Parse([]byte(doc))
			require.NoError(t, err)
			assert.Equal(t, Default(), c)
			assert.Equal(t, []string{"api_key"}, cfgTestKeys(warns), "only the anonymous-key warning")
		})
	}
}

func TestDefaultConfigValues(t *testing.T) {
	c := Default()
	assert.Equal(t, horde.AnonymousAPIKey, c.APIKey)
	assert.Equal(t, horde.DefaultBaseURL, c.HordeURL)
	assert.Equal(t, 1, c.MaxThreads)
	assert.Equal(t, 1, c.QueueSize)
	assert.Equal(t, 1, c.MaxBatch)
	assert.Equal(t, 8, c.MaxPower)
	assert.Equal(t, 512*512, c.MaxPixels())
	assert.Equal(t, 80, c.MaxLength)
	assert.Equal(t, 2048, c.MaxContextLength, "the Horde's default for a request that names none")
	assert.Equal(t, 30*time.Second, c.StatsOutputFrequency)
	assert.Equal(t, []string{"top 2"}, c.ModelsToLoad)
	assert.Empty(t, c.ModelsToSkip, "no SDXL_beta appended")
	assert.True(t, c.NSFW)
	assert.True(t, c.AllowImg2Img)
	assert.True(t, c.AllowUnsafeIP)
	assert.False(t, c.AllowPainting)
	assert.False(t, c.AllowPostProcessing)
	assert.False(t, c.BrandedModel)
	assert.Equal(t, worker.DefaultBridgeAgent(), c.BridgeAgent)
	want := []params.AlchemyForm{params.FormCaption, params.FormNSFW, params.FormInterrogation}
	for _, pp := range params.PostProcessors() {
		want = append(want, params.AlchemyForm(pp))
	}
	assert.Equal(t, want, c.Forms)
	warns, err := c.Validate()
	require.NoError(t, err)
	assert.Equal(t, []string{"api_key"}, cfgTestKeys(warns))
}

func TestLoadConfigFull(t *testing.T) {
	c, warns, err := Load(filepath.Join("testdata", "config", "full.yaml"))
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, &Config{
		APIKey:                "abcdefghijklmnopqrstuv",
		HordeURL:              "https://stablehorde.net/api/",
		WorkerName:            "Fallback Worker",
		DreamerName:           "My Dreamer",
		ScribeName:            "My Scribe",
		AlchemistName:         "My Alchemist",
		BridgeAgent:           "my-fork:1.2.3:https://example.org/fork",
		PriorityUsernames:     []string{"alice#1", "bob#22"},
		StatsOutputFrequency:  0,
		MaxThreads:            2,
		QueueSize:             2,
		SuppressSpeedWarnings: true,
		ModelsToLoad:          []string{"top 3", "Deliberate"},
		ModelsToSkip:          []string{"Juggernaut XL"},
		LoadLargeModels:       true,
		NSFW:                  false,
		CensorNSFW:            true,
		Censorlist:            []string{"foo"},
		Blacklist:             []string{"bar", "baz"},
		AllowImg2Img:          true,
		AllowPainting:         true,
		AllowUnsafeIP:         false,
		AllowPostProcessing:   true,
		AllowControlnet:       true,
		AllowSDXLControlnet:   true,
		AllowLora:             true,
		LimitMaxSteps:         true,
		RequireUpfrontKudos:   true,
		MaxPower:              32,
		MaxBatch:              4,
		MaxLoraCacheSize:      50,
		ExtraModelsFolders:    []string{"/models/extra"},
		DynamicModels:         true,
		MaxModelsToDownload:   5,
		NumberOfDynamicModels: 2,
		Forms:                 []params.AlchemyForm{params.FormCaption, params.FormNSFW, "RealESRGAN_x4plus", "strip_background"},
		TextBackendURL:        "http://127.0.0.1:8080",
		ComfyUIURL:            "http://127.0.0.1:8188",
		TextModel:             "koboldcpp/Llama-3-8B",
		MaxLength:             512,
		MaxContextLength:      8192,
		BrandedModel:          true,
		ModelsFolder:          "/models",
		TempDir:               "/tmp/horde",
		AlwaysDownload:        false,
		DisableTerminalUI:     true,
		DisableDiskCache:      true,
		RAMToLeaveFree:        "50%",
		VRAMToLeaveFree:       "2048",
	}, c)
	assert.Equal(t, 32*32768, c.MaxPixels())
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist))
}

// TestParseConfigBadField: each invalid field of a file gives its own error naming the key,
// the value and the rule.
func TestParseConfigBadField(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // the exact error
	}{
		{"max_threads high", "max_threads: 40", "max_threads: must be between 1 and 16, got 40"},
		{"max_threads zero", "max_threads: 0", "max_threads: must be between 1 and 16, got 0"},
		{"max_threads text", "max_threads: many", `max_threads: must be an integer between 1 and 16, got "many"`},
		{"max_threads float", "max_threads: 1.5", "max_threads: must be an integer between 1 and 16, got 1.5"},
		{"queue_size", "queue_size: 5", "queue_size: must be between 0 and 4, got 5"},
		{"max_batch", "max_batch: 21", "max_batch: must be between 1 and 20, got 21"},
		{"max_power", "max_power: 513", "max_power: must be between 1 and 512, got 513"},
		{"max_length", "max_length: 0", "max_length: must be between 1 and 16384, got 0"},
		{"max_context_length", "max_context_length: 16385", "max_context_length: must be between 1 and 16384, got 16385"},
		{"max_lora_cache_size", "max_lora_cache_size: 5", "max_lora_cache_size: must be between 10 and 2048, got 5"},
		{"max_models_to_download alias", "max_dynamic_models_to_download: 1001", "max_dynamic_models_to_download: must be between 0 and 1000, got 1001"},
		{"nsfw string", `nsfw: "yes"`, `nsfw: must be true or false, got "yes"`},
		{"nsfw single-quoted", `nsfw: 'no'`, `nsfw: must be true or false, got "no"`},
		{"nsfw word", `nsfw: maybe`, `nsfw: must be true or false, got "maybe"`},
		{"nsfw list", "nsfw: [true]", "nsfw: must be true or false, got a list"},
		{"nsfw null", "nsfw: ~", "nsfw: must be true or false, got ~"},
		{"allow_lora number", "allow_lora: 1", "allow_lora: must be true or false, got 1"},
		{"api_key empty", `api_key: ""`, "api_key: must be a non-empty key without spaces, got a 0-character value"},
		{"api_key spaces", `api_key: "a b"`, "api_key: must be a non-empty key without spaces, got a 3-character value"},
		{"horde_url scheme", `horde_url: "ftp://x.org"`, `horde_url: must be an http or https URL with a host, got "ftp://x.org"`},
		{"horde_url no host", `horde_url: "https://"`, `horde_url: must be an http or https URL with a host, got "https://"`},
		{"horde_url query", `horde_url: "https://x.org/api/?a=1"`, `horde_url: must not carry a query, fragment or user info, got "https://x.org/api/?a=1"`},
		{"kai_url", `kai_url: "localhost:5000"`, `kai_url: must be an http or https URL with a host, got "localhost:5000"`},
		{"priority_usernames", `priority_usernames: ["alice#1", "bob"]`, `priority_usernames[1]: must be a user alias in the form name#id, got "bob"`},
		{"priority_usernames mapping", `priority_usernames: {a: 1}`, "priority_usernames: must be a list of strings, got a mapping"},
		{"blacklist item", `blacklist: [[1]]`, "blacklist[0]: must be a string, got a list"},
		{"models_to_load top 0", `models_to_load: ["top 0"]`, `models_to_load[0]: top needs a positive number of models, got "top 0"`},
		{"models_to_load top x", `image_models_to_load: ["Deliberate", "TOP x"]`, `image_models_to_load[1]: top needs a positive number of models, got "TOP x"`},
		{"models_to_skip empty", `models_to_skip: [""]`, `models_to_skip[0]: must be a model name or a meta instruction, got ""`},
		{"forms", `forms: ["caption", "telepathy"]`, `forms[1]: must be an alchemy form (caption, nsfw, interrogation, post-process, a post-processor name, …), got "telepathy"`},
		{"forms annotation", `forms: ["annotation"]`, `forms[0]: must be an alchemy form (caption, nsfw, interrogation, post-process, a post-processor name, …), got "annotation"`},
		{"ram_to_leave_free", `ram_to_leave_free: "120%"`, `ram_to_leave_free: must be a percentage between 0% and 100%, got "120%"`},
		{"vram_to_leave_free", `vram_to_leave_free: "lots"`, `vram_to_leave_free: must be a percentage such as "80%" or a number of megabytes, got "lots"`},
		{"bridge_agent", `bridge_agent: "horde-go"`, `bridge_agent: must be name:version:url, got "horde-go"`},
		{"bridge_agent long", "bridge_agent: " + strings.Repeat("a", 1001), "bridge_agent: must be one line of at most 1000 characters, got a 1001-character value"},
		{"stats_output_frequency", "stats_output_frequency: -5", "stats_output_frequency: must be between 0 and 86400 seconds, got -5"},
		{"duplicate via alias", "allow_painting: true\nallow_inpainting: false", "allow_inpainting: is given twice (also as allow_painting)"},
		{"duplicate key", "max_batch: 2\nmax_batch: 3", "max_batch: is given twice (also as max_batch)"},
		{"not a mapping", "- a\n- b", "(file): must be a mapping of keys to values, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Parse([]byte(tt.yaml))
			require.Error(t, err)
			assert.Nil(t, c)
			var errs FieldErrors
			require.True(t, errors.As(err, &errs))
			require.Len(t, errs, 1, "one error per invalid field: %v", err)
			assert.Equal(t, tt.want, errs[0].Error())
		})
	}
}

func TestParseConfigInvalidYAML(t *testing.T) {
	_, _, err := Parse([]byte("max_threads: [1\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(file): must be valid YAML")
}

// TestParseConfigCollectsAllErrors: a file with many invalid fields reports every one.
func TestParseConfigCollectsAllErrors(t *testing.T) {
	_, _, err := Load(filepath.Join("testdata", "config", "bad_many.yaml"))
	require.Error(t, err)
	var errs FieldErrors
	require.True(t, errors.As(err, &errs))
	wantKeys := []string{"api_key", "horde_url", "max_threads", "queue_size", "max_batch", "max_power",
		"max_length", "max_context_length", "nsfw", "priority_usernames[0]", "models_to_load[0]", "forms[1]",
		"ram_to_leave_free", "bridge_agent", "stats_output_frequency"}
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Key
		assert.True(t, errs.Has(e.Key))
	}
	assert.Equal(t, wantKeys, got)
	assert.Equal(t, len(wantKeys), strings.Count(err.Error(), "\n")+1, "one line per error")
	var one *FieldError
	require.True(t, errors.As(err, &one))
	assert.Equal(t, "api_key", one.Key)
	assert.False(t, errs.Has("max_pixels"))
}

func TestParseConfigWarnings(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // "key: message" of the warnings after the anonymous-key one
	}{
		{"unknown key", "max_treads: 2", []string{"max_treads: unknown key; ignored"}},
		{"regen key", "safety_on_gpu: true", []string{"safety_on_gpu: upstream setting not used by horde-go (reGen process management); ignored"}},
		{"scribe key", "openai_api: true", []string{"openai_api: upstream setting not used by horde-go (the text backend of horde-go always speaks the OpenAI API); ignored"}},
		{"empty models_to_load", "models_to_load: []", []string{`models_to_load: empty list replaced by ["top 2"]`}},
		{"controlnet without img2img", "allow_img2img: false\nallow_controlnet: true", []string{"allow_controlnet: turned off because allow_img2img is false (ControlNet needs a source image)"}},
		{"sdxl controlnet without controlnet", "allow_sdxl_controlnet: true", []string{"allow_sdxl_controlnet: turned off because allow_controlnet is false"}},
		{"chain of both", "allow_img2img: false\nallow_controlnet: true\nallow_sdxl_controlnet: true", []string{
			"allow_controlnet: turned off because allow_img2img is false (ControlNet needs a source image)",
			"allow_sdxl_controlnet: turned off because allow_controlnet is false"}},
		{"extra slow worker", "extra_slow_worker: true\nmax_threads: 4\nqueue_size: 2", []string{
			"queue_size: set to 0 because extra_slow_worker is true (was 2)",
			"max_threads: set to 1 because extra_slow_worker is true (was 4)"}},
		{"threads cap queue", "max_threads: 2\nqueue_size: 4", []string{"queue_size: capped at 3 because max_threads is 2 (was 4)"}},
		{"max_length over context", "max_length: 2048\nmax_context_length: 1024", []string{"max_length: 2048 is larger than max_context_length 1024"}},
		{"foreign agent", `bridge_agent: "AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen"`, []string{
			`bridge_agent: the name "AI Horde Worker reGen" belongs to another project; the Horde will grant this worker that project's features and kudos, which it may not implement`}},
		{"foreign text agent", `bridge_agent: "KoboldCppEmbedWorker:1:x"`, []string{
			`bridge_agent: the name "KoboldCppEmbedWorker" belongs to another project; the Horde will grant this worker that project's features and kudos, which it may not implement`}},
		{"own fork agent", `bridge_agent: "my-fork:1.0.0:https://example.org"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, warns, err := Parse([]byte(tt.yaml))
			require.NoError(t, err)
			require.NotNil(t, c)
			var got []string
			anon := 0
			for _, w := range warns {
				if w.Key == "api_key" {
					anon++
					continue
				}
				got = append(got, w.String())
			}
			assert.Equal(t, 1, anon, "the anonymous-key warning")
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseConfigCrossFieldValues(t *testing.T) {
	tests := []struct {
		name, yaml                                string
		threads, queue                            int
		img2img, controlnet, sdxlControlnet, slow bool
	}{
		{"defaults", "", 1, 1, true, false, false, false},
		{"controlnet kept", "allow_controlnet: true\nallow_sdxl_controlnet: true", 1, 1, true, true, true, false},
		{"controlnet dropped", "allow_img2img: false\nallow_controlnet: true\nallow_sdxl_controlnet: true", 1, 1, false, false, false, false},
		{"slow worker", "extra_slow_worker: true\nmax_threads: 8\nqueue_size: 4", 1, 0, true, false, false, true},
		{"queue capped", "max_threads: 3\nqueue_size: 4", 3, 3, true, false, false, false},
		{"queue 4 single thread", "max_threads: 1\nqueue_size: 4", 1, 4, true, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Parse([]byte(tt.yaml))
			require.NoError(t, err)
			assert.Equal(t, tt.threads, c.MaxThreads)
			assert.Equal(t, tt.queue, c.QueueSize)
			assert.Equal(t, tt.img2img, c.AllowImg2Img)
			assert.Equal(t, tt.controlnet, c.AllowControlnet)
			assert.Equal(t, tt.sdxlControlnet, c.AllowSDXLControlnet)
			assert.Equal(t, tt.slow, c.ExtraSlowWorker)
		})
	}
}

func TestParseConfigRegenTemplate(t *testing.T) {
	c, warns, err := Load(filepath.Join("testdata", "config", "regen_template.yaml"))
	require.NoError(t, err)
	assert.Equal(t, []string{"safety_on_gpu", "high_performance_mode", "process_timeout", "custom_models", "max_treads"}, cfgTestKeys(warns))
	assert.Equal(t, "Dreamer", c.NameFor(horde.KindImage))
	assert.Equal(t, "https://aihorde.net/api/", c.HordeURL)
}

func TestParseConfigForms(t *testing.T) {
	allPP := func() []params.AlchemyForm {
		var out []params.AlchemyForm
		for _, pp := range params.PostProcessors() {
			out = append(out, params.AlchemyForm(pp))
		}
		return out
	}
	tests := []struct {
		yaml string
		want []params.AlchemyForm
	}{
		{"forms: []", Default().Forms},
		{"forms: ~", Default().Forms},
		{"forms: caption", []params.AlchemyForm{params.FormCaption}},
		{`forms: ["Interrogation", "caption", "caption"]`, []params.AlchemyForm{params.FormInterrogation, params.FormCaption}},
		{`forms: ["post-process"]`, allPP()},
		{`forms: ["post_process", "GFPGAN"]`, allPP()},
		{`forms: ["realesrgan_x2plus", "4x_AnimeSharp", "strip-background"]`, []params.AlchemyForm{"RealESRGAN_x2plus", "4x_AnimeSharp", "strip_background"}},
		{`forms: ["vectorize", "palette", "describe", "aesthetic"]`, []params.AlchemyForm{params.FormVectorize, params.FormPalette, params.FormDescribe, params.FormAesthetic}},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			c, _, err := Parse([]byte(tt.yaml))
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Forms)
		})
	}
}

func TestParseConfigURLsAndLists(t *testing.T) {
	tests := []struct {
		yaml string
		get  func(*Config) any
		want any
	}{
		{`horde_url: "https://aihorde.net"`, func(c *Config) any { return c.HordeURL }, "https://aihorde.net/api/"},
		{`horde_url: "https://aihorde.net/"`, func(c *Config) any { return c.HordeURL }, "https://aihorde.net/api/"},
		{`horde_url: "http://127.0.0.1:7001/api"`, func(c *Config) any { return c.HordeURL }, "http://127.0.0.1:7001/api/"},
		{`horde_url: "https://aihorde.net/api/"`, func(c *Config) any { return c.HordeURL }, "https://aihorde.net/api/"},
		{`kai_url: "http://localhost:5001/"`, func(c *Config) any { return c.TextBackendURL }, "http://localhost:5001"},
		{`blacklist: single`, func(c *Config) any { return c.Blacklist }, []string{"single"}},
		{`blacklist: ~`, func(c *Config) any { return c.Blacklist }, []string(nil)},
		{`models_to_load: Deliberate`, func(c *Config) any { return c.ModelsToLoad }, []string{"Deliberate"}},
		{`models_to_load: [" all sdxl models "]`, func(c *Config) any { return c.ModelsToLoad }, []string{"all sdxl models"}},
		{`worker_name: w`, func(c *Config) any { return c.WorkerName }, "w"},
		{`default_worker_name: w`, func(c *Config) any { return c.WorkerName }, "w"},
		{`cache_home: /m`, func(c *Config) any { return c.ModelsFolder }, "/m"},
		{`api_key: 1234567890`, func(c *Config) any { return c.APIKey }, "1234567890"},
		{"anchors: &t 3\nmax_batch: *t", func(c *Config) any { return c.MaxBatch }, 3},
		{`stats_output_frequency: 20`, func(c *Config) any { return c.StatsOutputFrequency }, 20 * time.Second},
		{`nsfw: no`, func(c *Config) any { return c.NSFW }, false},
		{`allow_lora: Yes`, func(c *Config) any { return c.AllowLora }, true},
		{`allow_img2img: OFF`, func(c *Config) any { return c.AllowImg2Img }, false},
		{`branded_model: on`, func(c *Config) any { return c.BrandedModel }, true},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			c, _, err := Parse([]byte(tt.yaml))
			require.NoError(t, err)
			assert.Equal(t, tt.want, tt.get(c))
		})
	}
}

func TestConfigNameFor(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		kind horde.Kind
		want string
	}{
		{"image default", Config{}, horde.KindImage, DefaultDreamerName},
		{"text default", Config{}, horde.KindText, DefaultScribeName},
		{"alchemy default", Config{}, horde.KindAlchemy, DefaultAlchemistName},
		{"other kind", Config{}, horde.Kind("video"), worker.DefaultWorkerName},
		{"fallback", Config{WorkerName: "W"}, horde.KindText, "W"},
		{"own name wins", Config{WorkerName: "W", ScribeName: "S"}, horde.KindText, "S"},
		{"own image", Config{WorkerName: "W", DreamerName: "D"}, horde.KindImage, "D"},
		{"own alchemy", Config{WorkerName: "W", AlchemistName: "A"}, horde.KindAlchemy, "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.c.NameFor(tt.kind))
		})
	}
}

func TestConfigApplyEnv(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantKey     string
		wantURL     string
		wantErrKeys []string
	}{
		{"nothing set", nil, "filekey", "https://file.example/api/", nil},
		{"both", map[string]string{horde.EnvAPIKey: "envkey", horde.EnvURL: "http://127.0.0.1:9/api/"}, "envkey", "http://127.0.0.1:9/api/", nil},
		{"empty values ignored", map[string]string{horde.EnvAPIKey: "", horde.EnvURL: ""}, "filekey", "https://file.example/api/", nil},
		{"bare host gets api", map[string]string{horde.EnvURL: "https://h.example"}, "filekey", "https://h.example/api/", nil},
		{"bad values", map[string]string{horde.EnvAPIKey: "a b", horde.EnvURL: "nope"}, "filekey", "https://file.example/api/", []string{horde.EnvAPIKey, horde.EnvURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Parse([]byte("api_key: filekey\nhorde_url: https://file.example/api/"))
			require.NoError(t, err)
			err = c.ApplyEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErrKeys == nil {
				require.NoError(t, err)
			} else {
				var errs FieldErrors
				require.True(t, errors.As(err, &errs))
				for _, k := range tt.wantErrKeys {
					assert.True(t, errs.Has(k), k)
				}
				assert.NotContains(t, err.Error(), "a b", "the key is not echoed")
			}
			assert.Equal(t, tt.wantKey, c.APIKey)
			assert.Equal(t, tt.wantURL, c.HordeURL)
		})
	}
}

func TestConfigApplyEnvProcess(t *testing.T) {
	t.Setenv(horde.EnvAPIKey, "fromenv")
	t.Setenv(horde.EnvURL, "")
	c := Default()
	require.NoError(t, c.ApplyEnv(nil))
	assert.Equal(t, "fromenv", c.APIKey)
	assert.Equal(t, horde.DefaultBaseURL, c.HordeURL)
	// Parsing alone never reads the environment.
	p, _, err := Parse(nil)
	require.NoError(t, err)
	assert.Equal(t, horde.AnonymousAPIKey, p.APIKey)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*Config)
		wantErrs []string
	}{
		{"default", func(*Config) {}, nil},
		{"threads", func(c *Config) { c.MaxThreads = 40 }, []string{"max_threads: must be between 1 and 16, got 40"}},
		{"several", func(c *Config) { c.MaxBatch = 0; c.MaxPower = 600; c.APIKey = "" }, []string{
			"api_key: must be a non-empty key without spaces, got a 0-character value",
			"max_power: must be between 1 and 512, got 600",
			"max_batch: must be between 1 and 20, got 0"}},
		{"priority", func(c *Config) { c.PriorityUsernames = []string{"x"} }, []string{`priority_usernames[0]: must be a user alias in the form name#id, got "x"`}},
		{"meta", func(c *Config) { c.ModelsToSkip = []string{"bottom -1"} }, []string{`models_to_skip[0]: bottom needs a positive number of models, got "bottom -1"`}},
		{"forms", func(c *Config) { c.Forms = []params.AlchemyForm{"annotation"} }, []string{`forms[0]: must be an alchemy form of the API, got "annotation"`}},
		{"url", func(c *Config) { c.HordeURL = "x" }, []string{`horde_url: must be an http or https URL with a host, got "x"`}},
		{"stats", func(c *Config) { c.StatsOutputFrequency = -time.Second }, []string{"stats_output_frequency: must be between 0 and 86400 seconds, got -1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.APIKey = "k"
			tt.mutate(c)
			_, err := c.Validate()
			if tt.wantErrs == nil {
				require.NoError(t, err)
				return
			}
			var errs FieldErrors
			require.True(t, errors.As(err, &errs))
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			assert.Equal(t, tt.wantErrs, got)
		})
	}
}

func TestConfigClientOptions(t *testing.T) {
	c := Default()
	c.APIKey = "k"
	c.HordeURL = "http://127.0.0.1:1/api/"
	cl, err := horde.NewClient(c.ClientOptions()...)
	require.NoError(t, err)
	require.NotNil(t, cl)
}

func TestLogWarnings(t *testing.T) {
	var buf bytes.Buffer
	LogWarnings(slog.New(slog.NewTextHandler(&buf, nil)), []Warning{{Key: "max_treads", Message: "unknown key; ignored"}, {Key: "b", Message: "m"}})
	out := buf.String()
	assert.Equal(t, 2, strings.Count(out, "\n"))
	assert.Contains(t, out, "key=max_treads")
	assert.Contains(t, out, "level=WARN")
}

func TestComfyUIKeys(t *testing.T) {
	c, warns, err := Parse([]byte(`
api_key: owner-key-0123456789
comfyui_url: "http://10.0.0.5:8188/"
comfyui_image_timeout: 120
comfyui_safety_node: "Safety Checker"
comfyui_background_node: InspyrenetRembg
vision_url: "http://127.0.0.1:8080/"
vision_model: gemma-3-4b-it
comfyui_model_files:
  "AlbedoBase XL (SDXL)": albedobaseXL_v21.safetensors
  Deliberate: deliberate_v3.safetensors
`))
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, "http://10.0.0.5:8188", c.ComfyUIURL)
	assert.Equal(t, 2*time.Minute, c.ComfyUIImageTimeout)
	assert.Equal(t, "Safety Checker", c.ComfyUISafetyNode)
	assert.Equal(t, "InspyrenetRembg", c.ComfyUIBackgroundNode)
	assert.Equal(t, map[string]string{"AlbedoBase XL (SDXL)": "albedobaseXL_v21.safetensors", "Deliberate": "deliberate_v3.safetensors"}, c.ComfyUIModelFiles)
	assert.Equal(t, "http://127.0.0.1:8188", Default().ComfyUIURL)
	assert.Equal(t, "http://127.0.0.1:8080", c.VisionURL)
	assert.Equal(t, "gemma-3-4b-it", c.VisionModel)

	_, _, err = Parse([]byte("comfyui_model_files: [a, b]\ncomfyui_image_timeout: -1\ncomfyui_url: ftp://x\n"))
	require.Error(t, err)
	for _, key := range []string{"comfyui_model_files", "comfyui_image_timeout", "comfyui_url"} {
		assert.ErrorContains(t, err, key)
	}
}

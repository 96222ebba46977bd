package bridgedata

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/horde-go/horde/internal/bridgeagent"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// Config is a worker's configuration: the keys of the upstream bridgeData.yaml (horde_sdk's
// bridge data, shared by the image worker reGen and the scribe/alchemist AI-Horde-Worker),
// plus a few horde-go keys (bridge_agent, text_model).
//
// Build one with [Default], [Parse] or [Load]; environment overrides are
// applied only by an explicit [Config.ApplyEnv]. Fields are plain data: a program may also set
// them directly and then call [Config.Validate].
//
// Decisions on upstream quirks (docs/worker-behaviour.md):
//   - Aliased keys are accepted under both names (upstream accepts only the alias); giving both
//     names of one field is an error.
//   - api_key is not limited to 22 characters (shared keys are longer); anonymous is a warning.
//   - models_to_skip is not extended with "SDXL_beta::stability.ai#6901".
//   - every models_to_load entry is inspected (upstream skips the entry after a meta
//     instruction while moving them).
//   - forms keep their case for post-processor names (upstream lowercases them, which breaks
//     "RealESRGAN_x4plus"); "post-process" stands for every post-processor, as in the
//     alchemist.
//   - branded_model defaults to false, as in the scribe that serves text (the SDK says true).
//   - priority_usernames entries must look like alias#id: the Horde rejects the pop otherwise.
//   - unquoted yes/no/on/off are read as booleans, as upstream's YAML 1.1 loader does; quoted,
//     they are strings and an error for a boolean key.
type Config struct {
	// APIKey is the worker owner's API key (api_key). Default: anonymous, which the Horde
	// refuses for workers.
	APIKey string
	// HordeURL is the API root (horde_url), such as https://aihorde.net/api/. A URL without a
	// path, as the older workers write it (https://aihorde.net), gets "/api/" appended.
	HordeURL string
	// WorkerName is the fallback worker name (worker_name, alias default_worker_name) used by
	// every kind whose own name is empty.
	WorkerName string
	// DreamerName is the image worker's name (dreamer_name, alias dreamer_worker_name).
	DreamerName string
	// ScribeName is the text worker's name (scribe_name).
	ScribeName string
	// AlchemistName is the alchemy worker's name (alchemist_name).
	AlchemistName string
	// BridgeAgent is sent with every pop (bridge_agent, a horde-go key); default
	// [worker.DefaultBridgeAgent]. The Horde grants features and kudos multipliers by its name:
	// the worker logs at start what it grants, and docs/bridge-agent.md explains it.
	BridgeAgent string
	// PriorityUsernames are accounts (alias#id) whose jobs this worker prefers
	// (priority_usernames).
	PriorityUsernames []string
	// StatsOutputFrequency is how often statistics are logged (stats_output_frequency, in
	// seconds; 0 disables). Default 30 s.
	StatsOutputFrequency time.Duration
	// MaxThreads is the number of jobs run at once (max_threads, 1–16). Default 1.
	MaxThreads int
	// QueueSize is how many jobs are popped ahead (queue_size, 0–4). Default 1.
	QueueSize int
	// SuppressSpeedWarnings silences slow-job warnings (suppress_speed_warnings).
	SuppressSpeedWarnings bool

	// ModelsToLoad are image model names and meta instructions (models_to_load, alias
	// image_models_to_load); resolve them with [ResolveImageModels]. Default ["top 2"].
	ModelsToLoad []string
	// ModelsToSkip are removed after resolution (models_to_skip, alias image_models_to_skip);
	// meta instructions are allowed.
	ModelsToSkip []string
	// LoadLargeModels lets meta instructions include large models (Stable Cascade, Flux, Qwen
	// Image, Z-Image) (load_large_models; upstream also reads AI_HORDE_MODEL_META_LARGE_MODELS,
	// which horde-go does not).
	LoadLargeModels bool
	// NSFW says the worker accepts NSFW jobs (nsfw). Default true.
	NSFW bool
	// CensorNSFW and Censorlist are read for compatibility (censor_nsfw, censorlist); the
	// Horde's jobs carry their own censor flag.
	CensorNSFW bool
	// Censorlist is a list of words; see CensorNSFW.
	Censorlist []string
	// Blacklist are words whose prompts this worker refuses (blacklist).
	Blacklist []string
	// AllowImg2Img accepts jobs with a source image (allow_img2img). Default true.
	AllowImg2Img bool
	// AllowPainting accepts inpainting and outpainting (allow_painting, alias allow_inpainting).
	AllowPainting bool
	// AllowUnsafeIP accepts source images from unsafe IPs (allow_unsafe_ip). Default true.
	AllowUnsafeIP bool
	// AllowPostProcessing accepts post-processing (allow_post_processing).
	AllowPostProcessing bool
	// AllowControlnet accepts ControlNet jobs (allow_controlnet); needs AllowImg2Img.
	AllowControlnet bool
	// AllowSDXLControlnet accepts SDXL ControlNet jobs (allow_sdxl_controlnet); needs
	// AllowControlnet.
	AllowSDXLControlnet bool
	// AllowLora accepts LoRA jobs (allow_lora).
	AllowLora bool
	// ExtraSlowWorker marks a very slow worker (extra_slow_worker): jobs get three times the
	// TTL. It forces QueueSize 0 and MaxThreads 1.
	ExtraSlowWorker bool
	// LimitMaxSteps refuses jobs above the model's average steps (limit_max_steps).
	LimitMaxSteps bool
	// RequireUpfrontKudos takes only jobs whose owner has the kudos (require_upfront_kudos).
	RequireUpfrontKudos bool
	// MaxPower bounds the image size: max pixels = MaxPower·8·64·64 (max_power, 1–512).
	// Default 8 (512×512). Alchemy uses it as max_tiles (at least 2).
	MaxPower int
	// MaxBatch is the pop amount for images (max_batch, 1–20). Default 1.
	MaxBatch int
	// MaxLoraCacheSize is the LoRA cache size in GB (max_lora_cache_size, 10–2048). Default 10.
	MaxLoraCacheSize int
	// ExtraModelsFolders are extra model folders (extra_stable_diffusion_models_folders).
	ExtraModelsFolders []string
	// DynamicModels, MaxModelsToDownload and NumberOfDynamicModels are read for compatibility
	// (dynamic_models; max_models_to_download, alias max_dynamic_models_to_download, 0–1000,
	// default 10; number_of_dynamic_models, alias number_of_dynamic_models_to_load, 0–1000,
	// default 1). Upstream workers do not use them either.
	DynamicModels bool
	// MaxModelsToDownload: see DynamicModels.
	MaxModelsToDownload int
	// NumberOfDynamicModels: see DynamicModels.
	NumberOfDynamicModels int

	// Forms are the alchemy forms served (forms), expanded ("post-process" becomes every
	// post-processor). Default caption, nsfw, interrogation and every post-processor.
	Forms []params.AlchemyForm

	// ComfyUIURL is the ComfyUI server of the comfyui image backend (comfyui_url, a horde-go
	// key). Default http://127.0.0.1:8188.
	ComfyUIURL string
	// ComfyUIModelFiles maps Horde model names to ComfyUI checkpoint files
	// (comfyui_model_files, a horde-go key).
	ComfyUIModelFiles map[string]string
	// ComfyUIImageTimeout bounds one image on ComfyUI (comfyui_image_timeout, seconds, a
	// horde-go key; 0: the backend's default).
	ComfyUIImageTimeout time.Duration
	// ComfyUIBackgroundNode is the class of a ComfyUI node that removes backgrounds, for
	// strip_background (comfyui_background_node, a horde-go key); empty: a known pack's node.
	ComfyUIBackgroundNode string
	// ComfyUISafetyNode is the class of a ComfyUI node that checks the generated images
	// (comfyui_safety_node, a horde-go key; see comfyui.SafetyNode); empty: none.
	ComfyUISafetyNode string
	// VisionURL is the OpenAI-compatible vision server of the vision alchemy backend and safety
	// checker (vision_url, a horde-go key); empty: none.
	VisionURL string
	// VisionModel is the vision model's name (vision_model); empty asks the server.
	VisionModel string
	// VisionCaptionPrompt is the question a caption answers (vision_caption_prompt).
	VisionCaptionPrompt string
	// TextBackendURL is the text backend's base URL (kai_url). Default http://localhost:5000.
	TextBackendURL string
	// TextModel is the model to advertise and request (text_model, a horde-go key); empty means
	// the backend's own report.
	TextModel string
	// MaxLength is the most tokens generated per text job (max_length, 1–16384). Default 80.
	MaxLength int
	// MaxContextLength is the largest context accepted (max_context_length, 1–16384).
	// Default 1024.
	MaxContextLength int
	// BrandedModel advertises the text model as model::alias#id (branded_model). Default false.
	BrandedModel bool

	// ModelsFolder, TempDir, AlwaysDownload, DisableTerminalUI, DisableDiskCache,
	// RAMToLeaveFree and VRAMToLeaveFree are local settings kept for backends (cache_home alias
	// models_folder_parent, temp_dir, always_download, disable_terminal_ui,
	// disable_disk_cache, ram_to_leave_free, vram_to_leave_free); horde-go does not use them.
	ModelsFolder string
	// TempDir: see ModelsFolder.
	TempDir string
	// AlwaysDownload: see ModelsFolder.
	AlwaysDownload bool
	// DisableTerminalUI: see ModelsFolder.
	DisableTerminalUI bool
	// DisableDiskCache: see ModelsFolder.
	DisableDiskCache bool
	// RAMToLeaveFree is "N%" or a number of MB: see ModelsFolder.
	RAMToLeaveFree string
	// VRAMToLeaveFree is "N%" or a number of MB: see ModelsFolder.
	VRAMToLeaveFree string
}

// Upstream default worker names, per kind.
const (
	DefaultDreamerName   = "An Awesome Dreamer"
	DefaultScribeName    = "An Awesome Scribe"
	DefaultAlchemistName = "An Awesome Alchemist"
)

// cfgDefaultForms are the forms served when forms is absent or empty (horde_sdk's default).
var cfgDefaultForms = [...]string{"caption", "nsfw", "interrogation", "post-process"}

// Default returns the defaults: upstream's, with the decisions documented on [Config].
func Default() *Config {
	c := &Config{
		APIKey:                horde.AnonymousAPIKey,
		HordeURL:              horde.DefaultBaseURL,
		BridgeAgent:           worker.DefaultBridgeAgent(),
		StatsOutputFrequency:  30 * time.Second,
		MaxThreads:            1,
		QueueSize:             1,
		ModelsToLoad:          []string{"top 2"},
		NSFW:                  true,
		AllowImg2Img:          true,
		AllowUnsafeIP:         true,
		MaxPower:              8,
		MaxBatch:              1,
		MaxLoraCacheSize:      10,
		MaxModelsToDownload:   10,
		NumberOfDynamicModels: 1,
		TextBackendURL:        "http://localhost:5000",
		ComfyUIURL:            "http://127.0.0.1:8188",
		MaxLength:             80,
		MaxContextLength:      2048, // the Horde gives a request that names none 2048, and offers it only to workers with as much
		ModelsFolder:          "./",
		TempDir:               "./tmp/",
		AlwaysDownload:        true,
		RAMToLeaveFree:        "80%",
		VRAMToLeaveFree:       "80%",
	}
	c.Forms, _ = cfgExpandForms(cfgDefaultForms[:])
	return c
}

// Warning is a problem that does not stop the worker: an unknown key, a value changed by a
// cross-field rule, a setting the Horde will not honour.
type Warning struct {
	// Key is the configuration key concerned.
	Key string
	// Message says what happened.
	Message string
}

// String returns "key: message".
func (w Warning) String() string { return w.Key + ": " + w.Message }

// LogWarnings logs each warning at level Warn (logger nil means slog.Default()).
func LogWarnings(logger *slog.Logger, warnings []Warning) {
	if logger == nil {
		logger = slog.Default()
	}
	for _, w := range warnings {
		logger.Warn("worker configuration: "+w.Message, "key", w.Key)
	}
}

// FieldError is one invalid value.
type FieldError struct {
	// Key is the configuration key.
	Key string
	// Value is the offending value as written (quoted strings, or a description such as
	// "a list").
	Value string
	// Rule is the rule it breaks ("must be between 1 and 16").
	Rule string
}

// Error returns "key: rule, got value".
func (e *FieldError) Error() string {
	if e.Value == "" {
		return e.Key + ": " + e.Rule
	}
	return e.Key + ": " + e.Rule + ", got " + e.Value
}

// FieldErrors are all the invalid values of a configuration, in file order. It unwraps to
// its *FieldError elements.
type FieldErrors []*FieldError

// Error lists the errors, one a line.
func (es FieldErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors for errors.Is and errors.As.
func (es FieldErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Has reports whether one of the errors concerns key.
func (es FieldErrors) Has(key string) bool {
	for _, e := range es {
		if e.Key == key {
			return true
		}
	}
	return false
}

// Load reads and parses a bridgeData.yaml file; see [Parse].
func Load(path string) (*Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("bridgedata: read configuration: %w", err)
	}
	return Parse(data)
}

// Parse parses a bridgeData YAML document over [Default]. Unknown keys, keys of
// upstream workers that horde-go does not use, and values changed by cross-field rules give
// warnings. Every invalid value gives its own *FieldError; the returned error is then a
// [FieldErrors] and the Config is nil. An empty document is the default configuration.
func Parse(data []byte) (*Config, []Warning, error) {
	c := Default()
	p := cfgParser{c: c, seen: map[string]string{}, byKey: cfgFieldsByKey()}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, FieldErrors{{Key: "(file)", Rule: "must be valid YAML: " + err.Error()}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			root = nil
		} else {
			root = root.Content[0]
		}
	}
	switch {
	case root == nil, root.Kind == 0:
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
	case root.Kind != yaml.MappingNode:
		return nil, nil, FieldErrors{{Key: "(file)", Value: cfgDescribe(root), Rule: "must be a mapping of keys to values"}}
	default:
		for i := 0; i+1 < len(root.Content); i += 2 {
			p.field(root.Content[i], root.Content[i+1])
		}
	}
	c.check(&p.warns)
	if len(p.errs) > 0 {
		return nil, p.warns, p.errs
	}
	return c, p.warns, nil
}

// Validate checks a Config built or changed in code: the same bounds and rules as
// [Parse], whose cross-field adjustments it applies too (reported as warnings).
func (c *Config) Validate() ([]Warning, error) {
	var warns []Warning
	var errs FieldErrors
	for _, f := range cfgFieldTable() {
		if f.check != nil {
			if e := f.check(c); e != nil {
				errs = append(errs, e)
			}
		}
	}
	c.check(&warns)
	if len(errs) > 0 {
		return warns, errs
	}
	return warns, nil
}

// ApplyEnv overrides the API key and the Horde URL from AI_HORDE_API_KEY and AI_HORDE_URL
// ([horde.EnvAPIKey], [horde.EnvURL]) where they are set and not empty. lookup is
// os.LookupEnv when nil. It is never called implicitly.
func (c *Config) ApplyEnv(lookup func(key string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var errs FieldErrors
	if v, ok := lookup(horde.EnvAPIKey); ok && v != "" {
		if e := cfgCheckAPIKey(horde.EnvAPIKey, v); e != nil {
			errs = append(errs, e)
		} else {
			c.APIKey = v
		}
	}
	if v, ok := lookup(horde.EnvURL); ok && v != "" {
		if u, e := cfgNormaliseURL(horde.EnvURL, v); e != nil {
			errs = append(errs, e)
		} else {
			c.HordeURL = u
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// ClientOptions returns the options that point a [horde.Client] at the configured Horde with
// the configured key.
func (c *Config) ClientOptions() []horde.Option {
	return []horde.Option{horde.WithBaseURL(c.HordeURL), horde.WithAPIKey(c.APIKey)}
}

// NameFor returns the name the worker pops kind with: the kind's own name, else
// worker_name, else the upstream default for the kind.
func (c *Config) NameFor(kind horde.Kind) string {
	var own, def string
	switch kind {
	case horde.KindImage:
		own, def = c.DreamerName, DefaultDreamerName
	case horde.KindText:
		own, def = c.ScribeName, DefaultScribeName
	case horde.KindAlchemy:
		own, def = c.AlchemistName, DefaultAlchemistName
	default:
		def = worker.DefaultWorkerName
	}
	switch {
	case own != "":
		return own
	case c.WorkerName != "":
		return c.WorkerName
	}
	return def
}

// MaxPixels is max_power·8·64·64, the largest image (width·height) the worker accepts.
func (c *Config) MaxPixels() int { return c.MaxPower * 8 * 64 * 64 }

// check applies the cross-field rules, reporting each adjustment as a warning, and warns about
// settings that are valid but doubtful. It runs after every field has been checked.
func (c *Config) check(warns *[]Warning) {
	warn := func(key, format string, args ...any) {
		*warns = append(*warns, Warning{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	if c.APIKey == horde.AnonymousAPIKey {
		warn("api_key", "the anonymous key is set; the Horde refuses pops from anonymous workers")
	}
	if c.AllowControlnet && !c.AllowImg2Img {
		c.AllowControlnet = false
		warn("allow_controlnet", "turned off because allow_img2img is false (ControlNet needs a source image)")
	}
	if c.AllowSDXLControlnet && !c.AllowControlnet {
		c.AllowSDXLControlnet = false
		warn("allow_sdxl_controlnet", "turned off because allow_controlnet is false")
	}
	if c.ExtraSlowWorker {
		if c.QueueSize != 0 {
			warn("queue_size", "set to 0 because extra_slow_worker is true (was %d)", c.QueueSize)
			c.QueueSize = 0
		}
		if c.MaxThreads != 1 {
			warn("max_threads", "set to 1 because extra_slow_worker is true (was %d)", c.MaxThreads)
			c.MaxThreads = 1
		}
	}
	if c.MaxThreads >= 2 && c.QueueSize > 3 {
		warn("queue_size", "capped at 3 because max_threads is %d (was %d)", c.MaxThreads, c.QueueSize)
		c.QueueSize = 3
	}
	if c.MaxLength > c.MaxContextLength && c.MaxLength <= cfgMaxTokens && c.MaxContextLength >= 1 {
		warn("max_length", "%d is larger than max_context_length %d", c.MaxLength, c.MaxContextLength)
	}
	if name, other := bridgeagent.Foreign(c.BridgeAgent, worker.AgentName); other {
		warn("bridge_agent", "the name %q belongs to another project; the Horde will grant this worker that project's features and kudos, which it may not implement", name)
	}
}

package worker

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// Config is a worker's configuration: the keys of the upstream bridgeData.yaml (horde_sdk's
// bridge data, shared by the image worker reGen and the scribe/alchemist AI-Horde-Worker),
// plus a few horde-go keys (bridge_agent, text_model).
//
// Build one with [DefaultConfig], [ParseConfig] or [LoadConfig]; environment overrides are
// applied only by an explicit [Config.ApplyEnv]. Fields are plain data: a program may also set
// them directly and then call [Config.Validate].
//
// Decisions on upstream quirks (python-sdk-worker.md §5.2, worker-behaviour.md §1.5, §3, §4):
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
	// [DefaultBridgeAgent]. The Horde grants features and kudos multipliers by its name: see
	// [BridgeGrantsFor] and [Config.LogBridgeAgent].
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
	DefaultWorkerName    = "An Awesome AI Horde Worker"
	DefaultDreamerName   = "An Awesome Dreamer"
	DefaultScribeName    = "An Awesome Scribe"
	DefaultAlchemistName = "An Awesome Alchemist"
)

// cfgDefaultForms are the forms served when forms is absent or empty (horde_sdk's default).
var cfgDefaultForms = [...]string{"caption", "nsfw", "interrogation", "post-process"}

// DefaultConfig returns the defaults: upstream's, with the decisions documented on [Config].
func DefaultConfig() *Config {
	c := &Config{
		APIKey:                horde.AnonymousAPIKey,
		HordeURL:              horde.DefaultBaseURL,
		BridgeAgent:           DefaultBridgeAgent(),
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
		MaxLength:             80,
		MaxContextLength:      1024,
		ModelsFolder:          "./",
		TempDir:               "./tmp/",
		AlwaysDownload:        true,
		RAMToLeaveFree:        "80%",
		VRAMToLeaveFree:       "80%",
	}
	c.Forms, _ = cfgExpandForms(cfgDefaultForms[:])
	return c
}

// ConfigWarning is a problem that does not stop the worker: an unknown key, a value changed by a
// cross-field rule, a setting the Horde will not honour.
type ConfigWarning struct {
	// Key is the configuration key concerned.
	Key string
	// Message says what happened.
	Message string
}

// String returns "key: message".
func (w ConfigWarning) String() string { return w.Key + ": " + w.Message }

// LogWarnings logs each warning at level Warn (logger nil means slog.Default()).
func LogWarnings(logger *slog.Logger, warnings []ConfigWarning) {
	if logger == nil {
		logger = slog.Default()
	}
	for _, w := range warnings {
		logger.Warn("worker configuration: "+w.Message, "key", w.Key)
	}
}

// ConfigError is one invalid value.
type ConfigError struct {
	// Key is the configuration key.
	Key string
	// Value is the offending value as written (quoted strings, or a description such as
	// "a list").
	Value string
	// Rule is the rule it breaks ("must be between 1 and 16").
	Rule string
}

// Error returns "key: rule, got value".
func (e *ConfigError) Error() string {
	if e.Value == "" {
		return e.Key + ": " + e.Rule
	}
	return e.Key + ": " + e.Rule + ", got " + e.Value
}

// ConfigErrors are all the invalid values of a configuration, in file order. It unwraps to
// its *ConfigError elements.
type ConfigErrors []*ConfigError

// Error lists the errors, one a line.
func (es ConfigErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors for errors.Is and errors.As.
func (es ConfigErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Has reports whether one of the errors concerns key.
func (es ConfigErrors) Has(key string) bool {
	for _, e := range es {
		if e.Key == key {
			return true
		}
	}
	return false
}

// LoadConfig reads and parses a bridgeData.yaml file; see [ParseConfig].
func LoadConfig(path string) (*Config, []ConfigWarning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("worker: read configuration: %w", err)
	}
	return ParseConfig(data)
}

// ParseConfig parses a bridgeData YAML document over [DefaultConfig]. Unknown keys, keys of
// upstream workers that horde-go does not use, and values changed by cross-field rules give
// warnings. Every invalid value gives its own *ConfigError; the returned error is then a
// [ConfigErrors] and the Config is nil. An empty document is the default configuration.
func ParseConfig(data []byte) (*Config, []ConfigWarning, error) {
	c := DefaultConfig()
	p := cfgParser{c: c, seen: map[string]string{}, byKey: cfgFieldsByKey()}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, ConfigErrors{{Key: "(file)", Rule: "must be valid YAML: " + err.Error()}}
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
		return nil, nil, ConfigErrors{{Key: "(file)", Value: cfgDescribe(root), Rule: "must be a mapping of keys to values"}}
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
// [ParseConfig], whose cross-field adjustments it applies too (reported as warnings).
func (c *Config) Validate() ([]ConfigWarning, error) {
	var warns []ConfigWarning
	var errs ConfigErrors
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
	var errs ConfigErrors
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
		def = DefaultWorkerName
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
func (c *Config) check(warns *[]ConfigWarning) {
	warn := func(key, format string, args ...any) {
		*warns = append(*warns, ConfigWarning{Key: key, Message: fmt.Sprintf(format, args...)})
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
	if name, other := cfgForeignAgent(c.BridgeAgent); other {
		warn("bridge_agent", "the name %q belongs to another project; the Horde will grant this worker that project's features and kudos, which it may not implement", name)
	}
}

// cfgMaxTokens bounds max_length and max_context_length (horde_sdk's ScribeBridgeData).
const cfgMaxTokens = 16384

// cfgParser decodes the fields of one document.
type cfgParser struct {
	c     *Config
	seen  map[string]string // field id -> key used
	byKey map[string]*cfgField
	warns []ConfigWarning
	errs  ConfigErrors
}

func (p *cfgParser) field(k, v *yaml.Node) {
	key := k.Value
	if k.Kind != yaml.ScalarNode {
		p.errs = append(p.errs, &ConfigError{Key: "(file)", Value: cfgDescribe(k), Rule: "keys must be strings"})
		return
	}
	f, ok := p.byKey[key]
	if !ok {
		if why := cfgIgnoredKey(key); why != "" {
			p.warns = append(p.warns, ConfigWarning{Key: key, Message: "upstream setting not used by horde-go (" + why + "); ignored"})
		} else {
			p.warns = append(p.warns, ConfigWarning{Key: key, Message: "unknown key; ignored"})
		}
		return
	}
	if prev, dup := p.seen[f.keys[0]]; dup {
		p.errs = append(p.errs, &ConfigError{Key: key, Rule: "is given twice (also as " + prev + ")"})
		return
	}
	p.seen[f.keys[0]] = key
	if e := f.decode(p.c, key, v, &p.warns); e != nil {
		p.errs = append(p.errs, e)
	}
}

// cfgField describes one configuration field: its keys (canonical first), how to decode a node
// into the Config, and how to check a value set in code.
type cfgField struct {
	keys   []string
	decode func(c *Config, key string, n *yaml.Node, warns *[]ConfigWarning) *ConfigError
	check  func(c *Config) *ConfigError
}

// cfgFieldsByKey indexes the field table by every key and alias.
func cfgFieldsByKey() map[string]*cfgField {
	fields := cfgFieldTable()
	m := make(map[string]*cfgField, 2*len(fields))
	for i := range fields {
		for _, k := range fields[i].keys {
			m[k] = &fields[i]
		}
	}
	return m
}

// cfgIgnoredKey says why horde-go ignores a key of the upstream workers, or "" when the key is
// not one of them.
func cfgIgnoredKey(key string) string {
	switch key {
	case "safety_on_gpu", "high_performance_mode", "moderate_performance_mode", "high_memory_mode",
		"very_high_memory_mode", "unload_models_from_vram_often", "very_fast_disk_mode",
		"post_process_job_overlap", "cycle_process_on_model_change":
		return "reGen process management"
	case "process_timeout", "preload_timeout", "download_timeout", "post_process_timeout",
		"inference_step_timeout":
		return "reGen watchdog"
	case "exit_on_unhandled_faults":
		return "reGen fault handling"
	case "remove_maintenance_on_init":
		return "reGen start-up"
	case "minutes_allowed_without_jobs":
		return "reGen idle warning"
	case "custom_models":
		return "reGen custom model files"
	case "model_stickiness", "horde_model_stickiness":
		return "reGen model scheduling"
	case "civitai_api_token":
		return "reGen LoRA downloads"
	case "openai_api":
		return "the text backend of horde-go always speaks the OpenAI API"
	case "backend_engine":
		return "scribe bridge agent suffix; set bridge_agent instead"
	}
	return ""
}

func cfgDescribe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			return fmt.Sprintf("%q", n.Value)
		}
		return n.Value
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		if n.Alias != nil {
			return cfgDescribe(n.Alias)
		}
	}
	return "an unsupported value"
}

func cfgResolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// cfgScalar decodes a scalar node into dst (a pointer to bool, int or string).
func cfgScalar(key, want string, n *yaml.Node, dst any) *ConfigError {
	n = cfgResolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return &ConfigError{Key: key, Value: cfgDescribe(n), Rule: "must be " + want}
	}
	var tagOK bool
	switch dst.(type) {
	case *string:
		tagOK = n.Tag == "!!str" || n.Tag == "!!int" || n.Tag == "!!float"
	case *bool:
		tagOK = n.Tag == "!!bool"
	case *int:
		tagOK = n.Tag == "!!int"
	}
	if !tagOK {
		return &ConfigError{Key: key, Value: cfgDescribe(n), Rule: "must be " + want}
	}
	if err := n.Decode(dst); err != nil {
		return &ConfigError{Key: key, Value: cfgDescribe(n), Rule: "must be " + want}
	}
	return nil
}

// cfgYAML11Bool reads the unquoted YAML 1.1 booleans (yes, no, on, off) that upstream's PyYAML
// accepts and YAML 1.2 reads as strings.
func cfgYAML11Bool(n *yaml.Node) (v, ok bool) {
	n = cfgResolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return false, false
	}
	switch n.Value {
	case "yes", "Yes", "YES", "on", "On", "ON":
		return true, true
	case "no", "No", "NO", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}

func cfgBool(get func(*Config) *bool) func(*Config, string, *yaml.Node, *[]ConfigWarning) *ConfigError {
	return func(c *Config, key string, n *yaml.Node, _ *[]ConfigWarning) *ConfigError {
		if v, ok := cfgYAML11Bool(n); ok {
			*get(c) = v
			return nil
		}
		var b bool
		if e := cfgScalar(key, "true or false", n, &b); e != nil {
			return e
		}
		*get(c) = b
		return nil
	}
}

func cfgIntRange(key string, v, lo, hi int) *ConfigError {
	if v < lo || v > hi {
		return &ConfigError{Key: key, Value: fmt.Sprint(v), Rule: fmt.Sprintf("must be between %d and %d", lo, hi)}
	}
	return nil
}

func cfgInt(get func(*Config) *int, lo, hi int) func(*Config, string, *yaml.Node, *[]ConfigWarning) *ConfigError {
	return func(c *Config, key string, n *yaml.Node, _ *[]ConfigWarning) *ConfigError {
		var v int
		if e := cfgScalar(key, fmt.Sprintf("an integer between %d and %d", lo, hi), n, &v); e != nil {
			return e
		}
		if e := cfgIntRange(key, v, lo, hi); e != nil {
			return e
		}
		*get(c) = v
		return nil
	}
}

// cfgStringList decodes a list of strings; a single scalar is wrapped, as upstream does.
func cfgStringList(key string, n *yaml.Node) ([]string, *ConfigError) {
	n = cfgResolve(n)
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil, nil
		}
		var s string
		if e := cfgScalar(key, "a list of strings", n, &s); e != nil {
			return nil, e
		}
		return []string{s}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, &ConfigError{Key: key, Value: cfgDescribe(n), Rule: "must be a list of strings"}
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		var s string
		if e := cfgScalar(fmt.Sprintf("%s[%d]", key, i), "a string", item, &s); e != nil {
			return nil, e
		}
		out = append(out, s)
	}
	return out, nil
}

func cfgStrings(get func(*Config) *[]string, each func(key string, s string) *ConfigError) func(*Config, string, *yaml.Node, *[]ConfigWarning) *ConfigError {
	return func(c *Config, key string, n *yaml.Node, _ *[]ConfigWarning) *ConfigError {
		list, e := cfgStringList(key, n)
		if e != nil {
			return e
		}
		if each != nil {
			for i, s := range list {
				if e := each(fmt.Sprintf("%s[%d]", key, i), s); e != nil {
					return e
				}
			}
		}
		*get(c) = list
		return nil
	}
}

func cfgString(get func(*Config) *string, validate func(key, s string) (string, *ConfigError)) func(*Config, string, *yaml.Node, *[]ConfigWarning) *ConfigError {
	return func(c *Config, key string, n *yaml.Node, _ *[]ConfigWarning) *ConfigError {
		var s string
		if e := cfgScalar(key, "a string", n, &s); e != nil {
			return e
		}
		if validate != nil {
			v, e := validate(key, s)
			if e != nil {
				return e
			}
			s = v
		}
		*get(c) = s
		return nil
	}
}

func cfgCheckAPIKey(key, s string) *ConfigError {
	if strings.TrimSpace(s) != s || s == "" || strings.ContainsAny(s, " \t\r\n\x00") {
		return &ConfigError{Key: key, Value: cfgRedact(s), Rule: "must be a non-empty key without spaces"}
	}
	return nil
}

// cfgRedact shows the shape of a secret without revealing it.
func cfgRedact(s string) string {
	return fmt.Sprintf("a %d-character value", len(s))
}

// cfgNormaliseURL checks an http(s) URL and, for the Horde, appends /api/ to a bare host.
func cfgNormaliseURL(key, s string) (string, *ConfigError) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &ConfigError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must be an http or https URL with a host"}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", &ConfigError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must not carry a query, fragment or user info"}
	}
	if key == "kai_url" {
		return strings.TrimRight(u.String(), "/"), nil
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}

var cfgPriorityUsername = regexp.MustCompile(`^[^#\s]+#\d+$`)

func cfgCheckPriorityUsername(key, s string) *ConfigError {
	if !cfgPriorityUsername.MatchString(s) {
		return &ConfigError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must be a user alias in the form name#id"}
	}
	return nil
}

var cfgLeaveFree = regexp.MustCompile(`^(\d+)%$|^\d+$`)

func cfgCheckLeaveFree(key, s string) (string, *ConfigError) {
	m := cfgLeaveFree.FindStringSubmatch(s)
	if m == nil {
		return "", &ConfigError{Key: key, Value: fmt.Sprintf("%q", s), Rule: `must be a percentage such as "80%" or a number of megabytes`}
	}
	if m[1] != "" {
		var pct int
		if _, err := fmt.Sscan(m[1], &pct); err != nil || pct > 100 {
			return "", &ConfigError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must be a percentage between 0% and 100%"}
		}
	}
	return s, nil
}

func cfgCheckBridgeAgent(key, s string) (string, *ConfigError) {
	s = strings.TrimSpace(s)
	if len(s) > cfgMaxAgentLen || strings.ContainsAny(s, "\r\n\x00") {
		return "", &ConfigError{Key: key, Value: fmt.Sprintf("a %d-character value", len(s)), Rule: fmt.Sprintf("must be one line of at most %d characters", cfgMaxAgentLen)}
	}
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", &ConfigError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must be name:version:url"}
	}
	return s, nil
}

// cfgMaxAgentLen is the server's limit on bridge_agent.
const cfgMaxAgentLen = 1000

func cfgDecodeModels(get func(*Config) *[]string) func(*Config, string, *yaml.Node, *[]ConfigWarning) *ConfigError {
	return func(c *Config, key string, n *yaml.Node, warns *[]ConfigWarning) *ConfigError {
		list, e := cfgStringList(key, n)
		if e != nil {
			return e
		}
		out := make([]string, 0, len(list))
		for i, s := range list {
			s = strings.TrimSpace(s)
			if s == "" {
				return &ConfigError{Key: fmt.Sprintf("%s[%d]", key, i), Value: `""`, Rule: "must be a model name or a meta instruction"}
			}
			if _, isMeta, err := ParseMetaInstruction(s); isMeta && err != nil {
				return &ConfigError{Key: fmt.Sprintf("%s[%d]", key, i), Value: fmt.Sprintf("%q", s), Rule: err.Error()}
			}
			out = append(out, s)
		}
		if len(out) == 0 && (key == "models_to_load" || key == "image_models_to_load") {
			*warns = append(*warns, ConfigWarning{Key: key, Message: `empty list replaced by ["top 2"]`})
			out = []string{"top 2"}
		}
		*get(c) = out
		return nil
	}
}

func cfgDecodeForms(c *Config, key string, n *yaml.Node, _ *[]ConfigWarning) *ConfigError {
	list, e := cfgStringList(key, n)
	if e != nil {
		return e
	}
	if len(list) == 0 {
		list = cfgDefaultForms[:]
	}
	forms, e := cfgExpandForms(list)
	if e != nil {
		e.Key = key + e.Key
		return e
	}
	c.Forms = forms
	return nil
}

// cfgExpandForms maps configured form names onto API forms: analysis forms case-insensitively
// with "-" read as "_", post-processors by their exact name (or case-insensitively), and
// "post-process" (or "post_process") as every post-processor. The error's Key is the index
// suffix ("[2]").
func cfgExpandForms(list []string) ([]params.AlchemyForm, *ConfigError) {
	var out []params.AlchemyForm
	add := func(f params.AlchemyForm) {
		for _, g := range out {
			if g == f {
				return
			}
		}
		out = append(out, f)
	}
	for i, raw := range list {
		s := strings.TrimSpace(raw)
		norm := strings.ReplaceAll(strings.ToLower(s), "-", "_")
		if norm == "post_process" || norm == "post_processing" {
			for _, pp := range params.PostProcessors() {
				add(params.AlchemyForm(pp))
			}
			continue
		}
		var found params.AlchemyForm
		for _, f := range params.AlchemyForms() {
			if string(f) == s || strings.EqualFold(string(f), s) || string(f) == norm {
				found = f
				break
			}
		}
		if found == "" {
			return nil, &ConfigError{Key: fmt.Sprintf("[%d]", i), Value: fmt.Sprintf("%q", raw), Rule: "must be an alchemy form (caption, nsfw, interrogation, post-process, a post-processor name, …)"}
		}
		add(found)
	}
	return out, nil
}

// cfgFieldTable lists every field with its keys, in documentation order. It is built on each
// call: the package keeps no mutable tables.
func cfgFieldTable() []cfgField {
	intField := func(keys []string, get func(*Config) *int, lo, hi int) cfgField {
		return cfgField{keys: keys, decode: cfgInt(get, lo, hi), check: func(c *Config) *ConfigError { return cfgIntRange(keys[0], *get(c), lo, hi) }}
	}
	boolField := func(key string, get func(*Config) *bool) cfgField {
		return cfgField{keys: []string{key}, decode: cfgBool(get)}
	}
	strField := func(keys []string, get func(*Config) *string, validate func(key, s string) (string, *ConfigError)) cfgField {
		f := cfgField{keys: keys, decode: cfgString(get, validate)}
		if validate != nil {
			f.check = func(c *Config) *ConfigError {
				v, e := validate(keys[0], *get(c))
				if e == nil {
					*get(c) = v
				}
				return e
			}
		}
		return f
	}
	listField := func(keys []string, get func(*Config) *[]string, each func(key, s string) *ConfigError) cfgField {
		f := cfgField{keys: keys, decode: cfgStrings(get, each)}
		if each != nil {
			f.check = func(c *Config) *ConfigError {
				for i, s := range *get(c) {
					if e := each(fmt.Sprintf("%s[%d]", keys[0], i), s); e != nil {
						return e
					}
				}
				return nil
			}
		}
		return f
	}
	modelsField := func(keys []string, get func(*Config) *[]string) cfgField {
		return cfgField{keys: keys, decode: cfgDecodeModels(get), check: func(c *Config) *ConfigError {
			for i, s := range *get(c) {
				if _, isMeta, err := ParseMetaInstruction(s); isMeta && err != nil {
					return &ConfigError{Key: fmt.Sprintf("%s[%d]", keys[0], i), Value: fmt.Sprintf("%q", s), Rule: err.Error()}
				}
			}
			return nil
		}}
	}
	return []cfgField{
		{keys: []string{"api_key"}, decode: cfgString(func(c *Config) *string { return &c.APIKey }, func(key, s string) (string, *ConfigError) {
			return s, cfgCheckAPIKey(key, s)
		}), check: func(c *Config) *ConfigError { return cfgCheckAPIKey("api_key", c.APIKey) }},
		strField([]string{"horde_url"}, func(c *Config) *string { return &c.HordeURL }, cfgNormaliseURL),
		strField([]string{"worker_name", "default_worker_name"}, func(c *Config) *string { return &c.WorkerName }, nil),
		strField([]string{"dreamer_name", "dreamer_worker_name"}, func(c *Config) *string { return &c.DreamerName }, nil),
		strField([]string{"scribe_name"}, func(c *Config) *string { return &c.ScribeName }, nil),
		strField([]string{"alchemist_name"}, func(c *Config) *string { return &c.AlchemistName }, nil),
		strField([]string{"bridge_agent"}, func(c *Config) *string { return &c.BridgeAgent }, cfgCheckBridgeAgent),
		listField([]string{"priority_usernames"}, func(c *Config) *[]string { return &c.PriorityUsernames }, cfgCheckPriorityUsername),
		{keys: []string{"stats_output_frequency"}, decode: func(c *Config, key string, n *yaml.Node, _ *[]ConfigWarning) *ConfigError {
			var v int
			if e := cfgScalar(key, "a number of seconds (0 disables)", n, &v); e != nil {
				return e
			}
			if v < 0 || v > 86400 {
				return &ConfigError{Key: key, Value: fmt.Sprint(v), Rule: "must be between 0 and 86400 seconds"}
			}
			c.StatsOutputFrequency = time.Duration(v) * time.Second
			return nil
		}, check: func(c *Config) *ConfigError {
			if c.StatsOutputFrequency < 0 || c.StatsOutputFrequency > 24*time.Hour {
				return &ConfigError{Key: "stats_output_frequency", Value: c.StatsOutputFrequency.String(), Rule: "must be between 0 and 86400 seconds"}
			}
			return nil
		}},
		intField([]string{"max_threads"}, func(c *Config) *int { return &c.MaxThreads }, 1, 16),
		intField([]string{"queue_size"}, func(c *Config) *int { return &c.QueueSize }, 0, 4),
		boolField("suppress_speed_warnings", func(c *Config) *bool { return &c.SuppressSpeedWarnings }),

		modelsField([]string{"models_to_load", "image_models_to_load"}, func(c *Config) *[]string { return &c.ModelsToLoad }),
		modelsField([]string{"models_to_skip", "image_models_to_skip"}, func(c *Config) *[]string { return &c.ModelsToSkip }),
		boolField("load_large_models", func(c *Config) *bool { return &c.LoadLargeModels }),
		boolField("nsfw", func(c *Config) *bool { return &c.NSFW }),
		boolField("censor_nsfw", func(c *Config) *bool { return &c.CensorNSFW }),
		listField([]string{"censorlist"}, func(c *Config) *[]string { return &c.Censorlist }, nil),
		listField([]string{"blacklist"}, func(c *Config) *[]string { return &c.Blacklist }, nil),
		boolField("allow_img2img", func(c *Config) *bool { return &c.AllowImg2Img }),
		{keys: []string{"allow_painting", "allow_inpainting"}, decode: cfgBool(func(c *Config) *bool { return &c.AllowPainting })},
		boolField("allow_unsafe_ip", func(c *Config) *bool { return &c.AllowUnsafeIP }),
		boolField("allow_post_processing", func(c *Config) *bool { return &c.AllowPostProcessing }),
		boolField("allow_controlnet", func(c *Config) *bool { return &c.AllowControlnet }),
		boolField("allow_sdxl_controlnet", func(c *Config) *bool { return &c.AllowSDXLControlnet }),
		boolField("allow_lora", func(c *Config) *bool { return &c.AllowLora }),
		boolField("extra_slow_worker", func(c *Config) *bool { return &c.ExtraSlowWorker }),
		boolField("limit_max_steps", func(c *Config) *bool { return &c.LimitMaxSteps }),
		boolField("require_upfront_kudos", func(c *Config) *bool { return &c.RequireUpfrontKudos }),
		intField([]string{"max_power"}, func(c *Config) *int { return &c.MaxPower }, 1, 512),
		intField([]string{"max_batch"}, func(c *Config) *int { return &c.MaxBatch }, 1, 20),
		intField([]string{"max_lora_cache_size"}, func(c *Config) *int { return &c.MaxLoraCacheSize }, 10, 2048),
		listField([]string{"extra_stable_diffusion_models_folders"}, func(c *Config) *[]string { return &c.ExtraModelsFolders }, nil),
		boolField("dynamic_models", func(c *Config) *bool { return &c.DynamicModels }),
		intField([]string{"max_models_to_download", "max_dynamic_models_to_download"}, func(c *Config) *int { return &c.MaxModelsToDownload }, 0, 1000),
		intField([]string{"number_of_dynamic_models", "number_of_dynamic_models_to_load"}, func(c *Config) *int { return &c.NumberOfDynamicModels }, 0, 1000),

		{keys: []string{"forms"}, decode: cfgDecodeForms, check: func(c *Config) *ConfigError {
			for i, f := range c.Forms {
				if !f.InAPI() {
					return &ConfigError{Key: fmt.Sprintf("forms[%d]", i), Value: fmt.Sprintf("%q", f), Rule: "must be an alchemy form of the API"}
				}
			}
			return nil
		}},

		strField([]string{"kai_url"}, func(c *Config) *string { return &c.TextBackendURL }, cfgNormaliseURL),
		strField([]string{"text_model"}, func(c *Config) *string { return &c.TextModel }, nil),
		intField([]string{"max_length"}, func(c *Config) *int { return &c.MaxLength }, 1, cfgMaxTokens),
		intField([]string{"max_context_length"}, func(c *Config) *int { return &c.MaxContextLength }, 1, cfgMaxTokens),
		boolField("branded_model", func(c *Config) *bool { return &c.BrandedModel }),

		strField([]string{"cache_home", "models_folder_parent"}, func(c *Config) *string { return &c.ModelsFolder }, nil),
		strField([]string{"temp_dir"}, func(c *Config) *string { return &c.TempDir }, nil),
		boolField("always_download", func(c *Config) *bool { return &c.AlwaysDownload }),
		boolField("disable_terminal_ui", func(c *Config) *bool { return &c.DisableTerminalUI }),
		boolField("disable_disk_cache", func(c *Config) *bool { return &c.DisableDiskCache }),
		strField([]string{"ram_to_leave_free"}, func(c *Config) *string { return &c.RAMToLeaveFree }, cfgCheckLeaveFree),
		strField([]string{"vram_to_leave_free"}, func(c *Config) *string { return &c.VRAMToLeaveFree }, cfgCheckLeaveFree),
	}
}

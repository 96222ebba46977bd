package bridgedata

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/horde-go/horde/pkg/params"
	"go.yaml.in/yaml/v4"
)

// The field table: every key of bridgeData.yaml, how its YAML node is decoded into the Config,
// and how a value set in code is checked.

// cfgMaxTokens bounds max_length and max_context_length (horde_sdk's ScribeBridgeData).
const cfgMaxTokens = 16384

// cfgParser decodes the fields of one document.
type cfgParser struct {
	c     *Config
	seen  map[string]string // field id -> key used
	byKey map[string]*cfgField
	warns []Warning
	errs  FieldErrors
}

func (p *cfgParser) field(k, v *yaml.Node) {
	key := k.Value
	if k.Kind != yaml.ScalarNode {
		p.errs = append(p.errs, &FieldError{Key: "(file)", Value: cfgDescribe(k), Rule: "keys must be strings"})
		return
	}
	f, ok := p.byKey[key]
	if !ok {
		if why := cfgIgnoredKey(key); why != "" {
			p.warns = append(p.warns, Warning{Key: key, Message: "upstream setting not used by horde-go (" + why + "); ignored"})
		} else {
			p.warns = append(p.warns, Warning{Key: key, Message: "unknown key; ignored"})
		}
		return
	}
	if prev, dup := p.seen[f.keys[0]]; dup {
		p.errs = append(p.errs, &FieldError{Key: key, Rule: "is given twice (also as " + prev + ")"})
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
	decode func(c *Config, key string, n *yaml.Node, warns *[]Warning) *FieldError
	check  func(c *Config) *FieldError
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
func cfgScalar(key, want string, n *yaml.Node, dst any) *FieldError {
	n = cfgResolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return &FieldError{Key: key, Value: cfgDescribe(n), Rule: "must be " + want}
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
		return &FieldError{Key: key, Value: cfgDescribe(n), Rule: "must be " + want}
	}
	if err := n.Decode(dst); err != nil {
		return &FieldError{Key: key, Value: cfgDescribe(n), Rule: "must be " + want}
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

func cfgBool(get func(*Config) *bool) func(*Config, string, *yaml.Node, *[]Warning) *FieldError {
	return func(c *Config, key string, n *yaml.Node, _ *[]Warning) *FieldError {
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

func cfgIntRange(key string, v, lo, hi int) *FieldError {
	if v < lo || v > hi {
		return &FieldError{Key: key, Value: fmt.Sprint(v), Rule: fmt.Sprintf("must be between %d and %d", lo, hi)}
	}
	return nil
}

func cfgInt(get func(*Config) *int, lo, hi int) func(*Config, string, *yaml.Node, *[]Warning) *FieldError {
	return func(c *Config, key string, n *yaml.Node, _ *[]Warning) *FieldError {
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
func cfgStringList(key string, n *yaml.Node) ([]string, *FieldError) {
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
		return nil, &FieldError{Key: key, Value: cfgDescribe(n), Rule: "must be a list of strings"}
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

func cfgStrings(get func(*Config) *[]string, each func(key string, s string) *FieldError) func(*Config, string, *yaml.Node, *[]Warning) *FieldError {
	return func(c *Config, key string, n *yaml.Node, _ *[]Warning) *FieldError {
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

func cfgString(get func(*Config) *string, validate func(key, s string) (string, *FieldError)) func(*Config, string, *yaml.Node, *[]Warning) *FieldError {
	return func(c *Config, key string, n *yaml.Node, _ *[]Warning) *FieldError {
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

func cfgCheckAPIKey(key, s string) *FieldError {
	if strings.TrimSpace(s) != s || s == "" || strings.ContainsAny(s, " \t\r\n\x00") {
		return &FieldError{Key: key, Value: cfgRedact(s), Rule: "must be a non-empty key without spaces"}
	}
	return nil
}

// cfgRedact shows the shape of a secret without revealing it.
func cfgRedact(s string) string {
	return fmt.Sprintf("a %d-character value", len(s))
}

// cfgNormaliseURL checks an http(s) URL and, for the Horde, appends /api/ to a bare host.
func cfgNormaliseURL(key, s string) (string, *FieldError) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &FieldError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must be an http or https URL with a host"}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", &FieldError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must not carry a query, fragment or user info"}
	}
	if key == "kai_url" || key == "comfyui_url" || key == "vision_url" { // backends: the URL as given
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

func cfgCheckPriorityUsername(key, s string) *FieldError {
	if !cfgPriorityUsername.MatchString(s) {
		return &FieldError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must be a user alias in the form name#id"}
	}
	return nil
}

var cfgLeaveFree = regexp.MustCompile(`^(\d+)%$|^\d+$`)

func cfgCheckLeaveFree(key, s string) (string, *FieldError) {
	m := cfgLeaveFree.FindStringSubmatch(s)
	if m == nil {
		return "", &FieldError{Key: key, Value: fmt.Sprintf("%q", s), Rule: `must be a percentage such as "80%" or a number of megabytes`}
	}
	if m[1] != "" {
		var pct int
		if _, err := fmt.Sscan(m[1], &pct); err != nil || pct > 100 {
			return "", &FieldError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must be a percentage between 0% and 100%"}
		}
	}
	return s, nil
}

func cfgCheckBridgeAgent(key, s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if len(s) > cfgMaxAgentLen || strings.ContainsAny(s, "\r\n\x00") {
		return "", &FieldError{Key: key, Value: fmt.Sprintf("a %d-character value", len(s)), Rule: fmt.Sprintf("must be one line of at most %d characters", cfgMaxAgentLen)}
	}
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "", &FieldError{Key: key, Value: fmt.Sprintf("%q", s), Rule: "must be name:version:url"}
	}
	return s, nil
}

// cfgMaxAgentLen is the server's limit on bridge_agent.
const cfgMaxAgentLen = 1000

func cfgDecodeModels(get func(*Config) *[]string) func(*Config, string, *yaml.Node, *[]Warning) *FieldError {
	return func(c *Config, key string, n *yaml.Node, warns *[]Warning) *FieldError {
		list, e := cfgStringList(key, n)
		if e != nil {
			return e
		}
		out := make([]string, 0, len(list))
		for i, s := range list {
			s = strings.TrimSpace(s)
			if s == "" {
				return &FieldError{Key: fmt.Sprintf("%s[%d]", key, i), Value: `""`, Rule: "must be a model name or a meta instruction"}
			}
			if _, isMeta, err := ParseMetaInstruction(s); isMeta && err != nil {
				return &FieldError{Key: fmt.Sprintf("%s[%d]", key, i), Value: fmt.Sprintf("%q", s), Rule: err.Error()}
			}
			out = append(out, s)
		}
		if len(out) == 0 && (key == "models_to_load" || key == "image_models_to_load") {
			*warns = append(*warns, Warning{Key: key, Message: `empty list replaced by ["top 2"]`})
			out = []string{"top 2"}
		}
		*get(c) = out
		return nil
	}
}

func cfgDecodeForms(c *Config, key string, n *yaml.Node, _ *[]Warning) *FieldError {
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
func cfgExpandForms(list []string) ([]params.AlchemyForm, *FieldError) {
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
			return nil, &FieldError{Key: fmt.Sprintf("[%d]", i), Value: fmt.Sprintf("%q", raw), Rule: "must be an alchemy form (caption, nsfw, interrogation, post-process, a post-processor name, …)"}
		}
		add(found)
	}
	return out, nil
}

// cfgFieldTable lists every field with its keys, in documentation order. It is built on each
// call: the package keeps no mutable tables.
func cfgFieldTable() []cfgField {
	intField := func(keys []string, get func(*Config) *int, lo, hi int) cfgField {
		return cfgField{keys: keys, decode: cfgInt(get, lo, hi), check: func(c *Config) *FieldError { return cfgIntRange(keys[0], *get(c), lo, hi) }}
	}
	boolField := func(key string, get func(*Config) *bool) cfgField {
		return cfgField{keys: []string{key}, decode: cfgBool(get)}
	}
	strField := func(keys []string, get func(*Config) *string, validate func(key, s string) (string, *FieldError)) cfgField {
		f := cfgField{keys: keys, decode: cfgString(get, validate)}
		if validate != nil {
			f.check = func(c *Config) *FieldError {
				v, e := validate(keys[0], *get(c))
				if e == nil {
					*get(c) = v
				}
				return e
			}
		}
		return f
	}
	listField := func(keys []string, get func(*Config) *[]string, each func(key, s string) *FieldError) cfgField {
		f := cfgField{keys: keys, decode: cfgStrings(get, each)}
		if each != nil {
			f.check = func(c *Config) *FieldError {
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
		return cfgField{keys: keys, decode: cfgDecodeModels(get), check: func(c *Config) *FieldError {
			for i, s := range *get(c) {
				if _, isMeta, err := ParseMetaInstruction(s); isMeta && err != nil {
					return &FieldError{Key: fmt.Sprintf("%s[%d]", keys[0], i), Value: fmt.Sprintf("%q", s), Rule: err.Error()}
				}
			}
			return nil
		}}
	}
	return []cfgField{
		{keys: []string{"api_key"}, decode: cfgString(func(c *Config) *string { return &c.APIKey }, func(key, s string) (string, *FieldError) {
			return s, cfgCheckAPIKey(key, s)
		}), check: func(c *Config) *FieldError { return cfgCheckAPIKey("api_key", c.APIKey) }},
		strField([]string{"horde_url"}, func(c *Config) *string { return &c.HordeURL }, cfgNormaliseURL),
		strField([]string{"worker_name", "default_worker_name"}, func(c *Config) *string { return &c.WorkerName }, nil),
		strField([]string{"dreamer_name", "dreamer_worker_name"}, func(c *Config) *string { return &c.DreamerName }, nil),
		strField([]string{"scribe_name"}, func(c *Config) *string { return &c.ScribeName }, nil),
		strField([]string{"alchemist_name"}, func(c *Config) *string { return &c.AlchemistName }, nil),
		strField([]string{"bridge_agent"}, func(c *Config) *string { return &c.BridgeAgent }, cfgCheckBridgeAgent),
		listField([]string{"priority_usernames"}, func(c *Config) *[]string { return &c.PriorityUsernames }, cfgCheckPriorityUsername),
		{keys: []string{"stats_output_frequency"}, decode: func(c *Config, key string, n *yaml.Node, _ *[]Warning) *FieldError {
			var v int
			if e := cfgScalar(key, "a number of seconds (0 disables)", n, &v); e != nil {
				return e
			}
			if v < 0 || v > 86400 {
				return &FieldError{Key: key, Value: fmt.Sprint(v), Rule: "must be between 0 and 86400 seconds"}
			}
			c.StatsOutputFrequency = time.Duration(v) * time.Second
			return nil
		}, check: func(c *Config) *FieldError {
			if c.StatsOutputFrequency < 0 || c.StatsOutputFrequency > 24*time.Hour {
				return &FieldError{Key: "stats_output_frequency", Value: c.StatsOutputFrequency.String(), Rule: "must be between 0 and 86400 seconds"}
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

		{keys: []string{"forms"}, decode: cfgDecodeForms, check: func(c *Config) *FieldError {
			for i, f := range c.Forms {
				if !f.InAPI() {
					return &FieldError{Key: fmt.Sprintf("forms[%d]", i), Value: fmt.Sprintf("%q", f), Rule: "must be an alchemy form of the API"}
				}
			}
			return nil
		}},

		strField([]string{"kai_url"}, func(c *Config) *string { return &c.TextBackendURL }, cfgNormaliseURL),
		strField([]string{"comfyui_url"}, func(c *Config) *string { return &c.ComfyUIURL }, cfgNormaliseURL),
		strField([]string{"comfyui_safety_node"}, func(c *Config) *string { return &c.ComfyUISafetyNode }, nil),
		strField([]string{"comfyui_background_node"}, func(c *Config) *string { return &c.ComfyUIBackgroundNode }, nil),
		strField([]string{"vision_url"}, func(c *Config) *string { return &c.VisionURL }, cfgOptionalURL),
		strField([]string{"vision_model"}, func(c *Config) *string { return &c.VisionModel }, nil),
		strField([]string{"vision_caption_prompt"}, func(c *Config) *string { return &c.VisionCaptionPrompt }, nil),
		{keys: []string{"comfyui_model_files"}, decode: cfgDecodeModelFiles},
		{keys: []string{"comfyui_image_timeout"}, decode: func(c *Config, key string, n *yaml.Node, _ *[]Warning) *FieldError {
			var v int
			if e := cfgScalar(key, "a number of seconds", n, &v); e != nil {
				return e
			}
			if v < 0 || v > 86400 {
				return &FieldError{Key: key, Value: fmt.Sprint(v), Rule: "must be between 0 and 86400 seconds"}
			}
			c.ComfyUIImageTimeout = time.Duration(v) * time.Second
			return nil
		}},
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

// cfgDecodeModelFiles reads comfyui_model_files: a map of Horde model names to checkpoint files.
func cfgDecodeModelFiles(c *Config, key string, n *yaml.Node, _ *[]Warning) *FieldError {
	n = cfgResolve(n)
	if n.Kind != yaml.MappingNode {
		return &FieldError{Key: key, Value: cfgDescribe(n), Rule: "must be a map of model names to checkpoint files"}
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := cfgResolve(n.Content[i]), cfgResolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" || strings.TrimSpace(v.Value) == "" {
			return &FieldError{Key: key + "." + k.Value, Value: cfgDescribe(v), Rule: "must map a model name to a file name"}
		}
		out[strings.TrimSpace(k.Value)] = strings.TrimSpace(v.Value)
	}
	c.ComfyUIModelFiles = out
	return nil
}

// cfgOptionalURL is cfgNormaliseURL for a URL that may be left empty.
func cfgOptionalURL(key, s string) (string, *FieldError) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	return cfgNormaliseURL(key, s)
}

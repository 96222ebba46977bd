package params

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
)

// Upstream locations of the model reference files the Horde uses.
const (
	ImageModelReferenceURL = "https://raw.githubusercontent.com/Haidra-Org/AI-Horde-image-model-reference/main/stable_diffusion.json"
	TextModelReferenceURL  = "https://raw.githubusercontent.com/Haidra-Org/AI-Horde-text-model-reference/main/db.json"
)

// maxReferenceSize bounds a downloaded reference (the text file is ~1 MB).
const maxReferenceSize = 64 << 20

// ImageModelRecord is one image model of the reference.
type ImageModelRecord struct {
	// Name is the model name requests use.
	Name string `json:"name"`
	// Baseline is the parsed baseline (see [ParseBaseline]); RawBaseline is
	// the reference's own spelling ("stable diffusion 1", ...).
	Baseline Baseline `json:"-"`
	// RawBaseline is the baseline as the reference spells it.
	RawBaseline string `json:"baseline"`
	// Type is the file type ("ckpt").
	Type string `json:"type"`
	// Inpainting marks inpainting models.
	Inpainting bool `json:"inpainting"`
	// Description is free text.
	Description string `json:"description"`
	// Version is the model version.
	Version string `json:"version"`
	// Style is the model style (anime, realistic, generalist, ...).
	Style string `json:"style"`
	// NSFW marks models meant for NSFW content.
	NSFW bool `json:"nsfw"`
	// DownloadAll says workers download it with "all models".
	DownloadAll bool `json:"download_all"`
	// Available is the reference's availability flag; nil when absent.
	Available *bool `json:"available"`
	// SizeOnDiskBytes is the size of the model files.
	SizeOnDiskBytes int64 `json:"size_on_disk_bytes"`
	// Homepage is the model's page.
	Homepage string `json:"homepage"`
	// Showcases are example image URLs.
	Showcases []string `json:"showcases"`
	// Tags are free-form tags.
	Tags []string `json:"tags"`
	// Triggers are the model's trigger words.
	Triggers []string `json:"trigger"`
	// FeaturesNotSupported lists hires_fix, loras, inpainting or controlnet.
	FeaturesNotSupported []string `json:"features_not_supported"`
	// Requirements are the settings the model needs.
	Requirements ModelRequirements `json:"requirements"`
	// Optimization names a speed-up (such as "lightning").
	Optimization string `json:"optimization"`
	// Config lists the files and downloads.
	Config ModelConfig `json:"config"`
}

// Supports reports whether the model supports feature (hires_fix, loras,
// inpainting, controlnet): it is not listed in FeaturesNotSupported.
func (r *ImageModelRecord) Supports(feature string) bool {
	return !slices.Contains(r.FeaturesNotSupported, feature)
}

// ModelRequirements are the settings a model needs; the server warns when
// a request does not meet them.
type ModelRequirements struct {
	// ClipSkip is the clip skip the model needs.
	ClipSkip *int `json:"clip_skip,omitempty"`
	// MinSteps is the fewest steps that work.
	MinSteps *int `json:"min_steps,omitempty"`
	// MaxSteps is the most steps that make sense.
	MaxSteps *int `json:"max_steps,omitempty"`
	// CFGScale is the cfg scale the model needs.
	CFGScale *float64 `json:"cfg_scale,omitempty"`
	// MinCFGScale is the lowest cfg scale that works.
	MinCFGScale *float64 `json:"min_cfg_scale,omitempty"`
	// MaxCFGScale is the highest cfg scale that works.
	MaxCFGScale *float64 `json:"max_cfg_scale,omitempty"`
	// Samplers are the samplers that work.
	Samplers []Sampler `json:"samplers,omitempty"`
	// Schedulers are the schedulers that work.
	Schedulers []Scheduler `json:"schedulers,omitempty"`
}

// ModelConfig lists a model's files and where to download them.
type ModelConfig struct {
	// Files are the model files with their checksums.
	Files []struct {
		Path      string `json:"path"`
		MD5Sum    string `json:"md5sum,omitempty"`
		SHA256Sum string `json:"sha256sum,omitempty"`
	} `json:"files"`
	// Download says where each file is downloaded from.
	Download []struct {
		FileName string `json:"file_name"`
		FilePath string `json:"file_path"`
		FileURL  string `json:"file_url"`
	} `json:"download"`
}

// TextModelRecord is one text model of the reference.
type TextModelRecord struct {
	// Name is the full name, backend prefix included.
	Name string `json:"name"`
	// ModelName is the name without backend prefix (aphrodite/, koboldcpp/).
	ModelName string `json:"model_name"`
	// Baseline is the base model ("" when the reference does not say).
	Baseline string `json:"baseline"`
	// Parameters is the parameter count.
	Parameters int64 `json:"parameters"`
	// Description is free text.
	Description string `json:"description"`
	// Version is the model version.
	Version string `json:"version"`
	// Style is the model style.
	Style string `json:"style"`
	// NSFW marks models meant for NSFW content.
	NSFW bool `json:"nsfw"`
	// DisplayName is a human-friendly name.
	DisplayName string `json:"display_name"`
	// URL is the model's page.
	URL string `json:"url"`
	// Tags are free-form tags (sizes such as "3B").
	Tags []string `json:"tags"`
	// InstructFormat names the prompt format (ChatML, Alpaca, ...).
	InstructFormat string `json:"instruct_format"`
	// Settings are recommended sampling settings (temperature, top_p, ...).
	Settings map[string]float64 `json:"settings"`
}

// ModelReference is a loaded reference: records by name. It is read-only
// after loading and safe for concurrent use; treat the returned records'
// slices and maps as read-only too.
type ModelReference[R any] struct {
	records  map[string]R
	names    []string
	baseline func(*R) string
}

// ImageModelReference is the image model reference.
type ImageModelReference = ModelReference[ImageModelRecord]

// TextModelReference is the text model reference.
type TextModelReference = ModelReference[TextModelRecord]

// Len returns the number of models.
func (m *ModelReference[R]) Len() int { return len(m.records) }

// Names returns the model names, sorted.
func (m *ModelReference[R]) Names() []string { return slices.Clone(m.names) }

// Get returns the record of a model by exact name.
func (m *ModelReference[R]) Get(name string) (R, bool) {
	r, ok := m.records[name]
	return r, ok
}

// ByBaseline returns the records whose baseline is b, sorted by name. For
// the image reference b is a [Baseline] value such as "stable_diffusion_xl"
// (legacy spellings are parsed); for the text reference it is the base
// model name.
func (m *ModelReference[R]) ByBaseline(b string) []R {
	var out []R
	for _, n := range m.names {
		r := m.records[n]
		if m.baseline(&r) == b {
			out = append(out, r)
		}
	}
	return out
}

// BaselineOf returns the baseline of an image model, or "" when the model
// is unknown. It has the signature of adapters.BaselineLookup.
func BaselineOf(ref *ImageModelReference) func(model string) Baseline {
	return func(model string) Baseline {
		if ref == nil {
			return ""
		}
		r, ok := ref.records[model]
		if !ok {
			return ""
		}
		return r.Baseline
	}
}

func build[R any](records map[string]R, setName func(*R, string), baseline func(*R) string) *ModelReference[R] {
	m := &ModelReference[R]{records: make(map[string]R, len(records)), baseline: baseline}
	for key, r := range records {
		setName(&r, key)
		m.records[key] = r
		m.names = append(m.names, key)
	}
	sort.Strings(m.names)
	return m
}

// LoadImageModelReference reads the image reference (stable_diffusion.json,
// an object of records keyed by model name). Unknown fields are ignored; a
// record without a name takes its key.
func LoadImageModelReference(r io.Reader) (*ImageModelReference, error) {
	var raw map[string]ImageModelRecord
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("image model reference: %w", err)
	}
	return build(raw, func(r *ImageModelRecord, key string) {
		if r.Name == "" {
			r.Name = key
		}
		r.Baseline = ParseBaseline(r.RawBaseline)
	}, func(r *ImageModelRecord) string { return string(r.Baseline) }), nil
}

// LoadTextModelReference reads the text reference (an object of records
// keyed by model name).
func LoadTextModelReference(r io.Reader) (*TextModelReference, error) {
	var raw map[string]TextModelRecord
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("text model reference: %w", err)
	}
	return build(raw, func(r *TextModelRecord, key string) {
		if r.Name == "" {
			r.Name = key
		}
	}, func(r *TextModelRecord) string { return r.Baseline }), nil
}

// LoadImageModelReferenceFile reads the image reference from a file.
func LoadImageModelReferenceFile(path string) (*ImageModelReference, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadImageModelReference(f)
}

// LoadTextModelReferenceFile reads the text reference from a file.
func LoadTextModelReferenceFile(path string) (*TextModelReference, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadTextModelReference(f)
}

// FetchImageModelReference downloads the image reference from url
// ([ImageModelReferenceURL] when empty) with client (http.DefaultClient
// when nil).
func FetchImageModelReference(ctx context.Context, client *http.Client, url string) (*ImageModelReference, error) {
	if url == "" {
		url = ImageModelReferenceURL
	}
	body, err := fetch(ctx, client, url)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return LoadImageModelReference(body)
}

// FetchTextModelReference downloads the text reference from url
// ([TextModelReferenceURL] when empty) with client (http.DefaultClient
// when nil).
func FetchTextModelReference(ctx context.Context, client *http.Client, url string) (*TextModelReference, error) {
	if url == "" {
		url = TextModelReferenceURL
	}
	body, err := fetch(ctx, client, url)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return LoadTextModelReference(body)
}

type limitedBody struct {
	io.Reader
	io.Closer
}

func fetch(ctx context.Context, client *http.Client, url string) (io.ReadCloser, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("model reference: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("model reference: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("model reference: GET %s: %s", url, resp.Status)
	}
	return limitedBody{io.LimitReader(resp.Body, maxReferenceSize), resp.Body}, nil
}

package params

// Text is a complete description of one KoboldAI-style text generation
// request or job. Every sampling field the API carries is here; nil means
// "not set" (the server or backend default applies).
type Text struct {
	// Prompt is the full prompt.
	Prompt string `json:"prompt"`
	// Model is the model name. For requests, see also RequestOptions.Models.
	Model string `json:"model,omitempty"`
	// SoftPrompt is accepted by the API but cleared by the server (quirk).
	SoftPrompt string `json:"soft_prompt,omitempty"`
	// N is the number of generations (1..20).
	N *int `json:"n,omitempty"`

	MaxContextLength *int `json:"max_context_length,omitempty"` // 80..1048576, server default 2048
	MaxLength        *int `json:"max_length,omitempty"`         // 16..4096, server default 80

	Temperature         *float64 `json:"temperature,omitempty"`       // 0..5
	DynamicTempExponent *float64 `json:"dynatemp_exponent,omitempty"` // 0..5, default 1
	DynamicTempRange    *float64 `json:"dynatemp_range,omitempty"`    // 0..5, default 0
	SmoothingFactor     *float64 `json:"smoothing_factor,omitempty"`  // 0..10, default 0
	TopP                *float64 `json:"top_p,omitempty"`             // 0.001..1
	TopK                *int     `json:"top_k,omitempty"`             // 0..200
	TopA                *float64 `json:"top_a,omitempty"`             // 0..1
	MinP                *float64 `json:"min_p,omitempty"`             // 0..1, default 0
	Typical             *float64 `json:"typical,omitempty"`           // 0..1
	TFS                 *float64 `json:"tfs,omitempty"`               // 0..1
	RepPen              *float64 `json:"rep_pen,omitempty"`           // 1..3
	RepPenRange         *int     `json:"rep_pen_range,omitempty"`     // 0..4096
	RepPenSlope         *float64 `json:"rep_pen_slope,omitempty"`     // 0..10
	// SamplerOrder lists sampler indexes; the server wants at least 7
	// distinct values when it is given.
	SamplerOrder []int `json:"sampler_order,omitempty"`
	// StopSequences: at most 128, 2000 characters in total.
	StopSequences []string `json:"stop_sequence,omitempty"`
	// UseDefaultBadWordsIDs uses KoboldAI's default bad word ids.
	UseDefaultBadWordsIDs *bool `json:"use_default_badwordsids,omitempty"`

	// Format holds the output formatting flags.
	Format TextFormat `json:"format,omitzero"`
}

// TextFormat holds the KoboldAI formatting flags (API names in comments).
type TextFormat struct {
	AddLeadingSpace    *bool `json:"frmtadsnsp,omitempty"`  // frmtadsnsp
	RemoveBlankLines   *bool `json:"frmtrmblln,omitempty"`  // frmtrmblln
	RemoveSpecialChars *bool `json:"frmtrmspch,omitempty"`  // frmtrmspch
	TrimIncomplete     *bool `json:"frmttriminc,omitempty"` // frmttriminc
	SingleLine         *bool `json:"singleline,omitempty"`  // singleline
}

// Text limits enforced by the server beyond the schema.
const (
	MaxStopSequences       = 128
	MaxStopSequenceChars   = 2000
	MinSamplerOrderEntries = 7
)

// NumResults is the number of texts the generation produces.
func (t *Text) NumResults() int {
	if t.N == nil || *t.N < 1 {
		return 1
	}
	return *t.N
}

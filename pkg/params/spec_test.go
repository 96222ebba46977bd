package params_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/horde-go/horde/api"
	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/require"
)

// probe sets one API property on an otherwise valid value and validates it.
// Exactly one of num, str is set; field is the violation field name.
type probe struct {
	field string
	num   func(v float64) error
	str   func(v string) error
	// unique validates a list holding a duplicate (uniqueItems).
	unique func() error
	// items validates a list of n elements (minItems, maxItems).
	items func(n int) error
}

func validImage() *params.Image { return &params.Image{Prompt: "a cat"} }
func validText() *params.Text   { return &params.Text{Prompt: "once"} }

func imgNum(field string, set func(*params.Image, float64)) probe {
	return probe{field: field, num: func(v float64) error { i := validImage(); set(i, v); return i.Validate() }}
}
func imgStr(field string, set func(*params.Image, string)) probe {
	return probe{field: field, str: func(v string) error { i := validImage(); set(i, v); return i.Validate() }}
}
func txtNum(field string, set func(*params.Text, float64)) probe {
	return probe{field: field, num: func(v float64) error { t := validText(); set(t, v); return t.Validate() }}
}
func optStr(field string, set func(*params.RequestOptions, string)) probe {
	return probe{field: field, str: func(v string) error { o := &params.RequestOptions{}; set(o, v); return o.Validate(true) }}
}

func ip(v float64) *int     { n := int(v); return &n }
func fp(v float64) *float64 { return &v }
func withCN(i *params.Image) {
	i.ControlNet = &params.ControlNet{Type: params.ControlCanny, ControlMap: &params.ImageData{Data: []byte{1}}}
}
func withQR(i *params.Image, texts ...params.ExtraText) {
	i.Workflow = &params.CustomWorkflow{Name: params.WorkflowQRCode, ExtraTexts: append(texts, params.ExtraText{Text: "x", Reference: "qr_code"})}
}

// probes maps "Schema.property" to a probe. Every bounded property of the
// schemas in boundedSchemas must appear here.
var probes = map[string]probe{
	"ModelPayloadStyleStable.cfg_scale":          imgNum("cfg_scale", func(i *params.Image, v float64) { i.CFGScale = fp(v) }),
	"ModelPayloadStyleStable.clip_skip":          imgNum("clip_skip", func(i *params.Image, v float64) { i.ClipSkip = ip(v) }),
	"ModelPayloadStyleStable.denoising_strength": imgNum("denoising_strength", func(i *params.Image, v float64) { i.DenoisingStrength = fp(v) }),
	"ModelPayloadStyleStable.facefixer_strength": imgNum("facefixer_strength", func(i *params.Image, v float64) { i.FacefixerStrength = fp(v) }),
	"ModelPayloadStyleStable.height":             imgNum("height", func(i *params.Image, v float64) { i.Height = ip(v) }),
	"ModelPayloadStyleStable.width":              imgNum("width", func(i *params.Image, v float64) { i.Width = ip(v) }),
	"ModelPayloadStyleStable.hires_fix_denoising_strength": imgNum("hires_fix_denoising_strength", func(i *params.Image, v float64) {
		i.HiresFix = &params.HiresFix{DenoisingStrength: fp(v)}
	}),
	"ModelPayloadStyleStable.sampler_name": imgStr("sampler_name", func(i *params.Image, v string) { i.Sampler = params.Sampler(v) }),
	"ModelPayloadStyleStable.workflow":     imgStr("workflow", func(i *params.Image, v string) { withQR(i); i.Workflow.Name = params.Workflow(v) }),
	"ModelPayloadStyleStable.post_processing": {field: "post_processing[1]",
		str: func(v string) error {
			i := validImage()
			i.PostProcessing = []params.PostProcessor{params.PPStripBackground, params.PostProcessor(v)}
			if v == string(params.PPStripBackground) {
				i.PostProcessing = i.PostProcessing[1:]
			}
			return i.Validate()
		},
		unique: func() error {
			i := validImage()
			i.PostProcessing = []params.PostProcessor{params.PPGFPGAN, params.PPGFPGAN}
			return i.Validate()
		}},
	"ModelPayloadRootStable.control_type":   imgStr("control_type", func(i *params.Image, v string) { withCN(i); i.ControlNet.Type = params.ControlType(v) }),
	"ModelPayloadRootStable.seed_variation": imgNum("seed_variation", func(i *params.Image, v float64) { i.SeedVariation = ip(v) }),
	"ModelGenerationInputStable.n":          imgNum("n", func(i *params.Image, v float64) { i.BatchSize = ip(v) }),
	"ModelGenerationInputStable.steps":      imgNum("steps", func(i *params.Image, v float64) { i.Steps = ip(v) }),
	"GenerationInputStable.prompt":          imgStr("prompt", func(i *params.Image, v string) { i.Prompt = v }),
	"GenerationInputStable.source_processing": imgStr("source_processing", func(i *params.Image, v string) {
		i.Source = &params.SourceImage{Image: params.ImageData{Data: []byte{1}}}
		i.SourceProcessing = params.SourceProcessing(v)
		if v == "remix" {
			i.Remix = []params.RemixImage{{Image: params.ImageData{Data: []byte{1}}}}
		}
	}),
	"GenerationInputStable.webhook":                 optStr("webhook", func(o *params.RequestOptions, v string) { o.Webhook = "https://" + v[min(len(v), 8):] }),
	"GenerationInputStable.style":                   optStr("style", func(o *params.RequestOptions, v string) { o.Style = v }),
	"ModelPayloadLorasStable.clip":                  imgNum("loras[0].clip", func(i *params.Image, v float64) { i.LoRAs = []params.LoRA{{Name: "x", Clip: fp(v)}} }),
	"ModelPayloadLorasStable.model":                 imgNum("loras[0].model", func(i *params.Image, v float64) { i.LoRAs = []params.LoRA{{Name: "x", Model: fp(v)}} }),
	"ModelPayloadLorasStable.name":                  imgStr("loras[0].name", func(i *params.Image, v string) { i.LoRAs = []params.LoRA{{Name: v}} }),
	"ModelPayloadLorasStable.inject_trigger":        imgStr("loras[0].inject_trigger", func(i *params.Image, v string) { i.LoRAs = []params.LoRA{{Name: "x", InjectTrigger: v}} }),
	"ModelPayloadTextualInversionsStable.name":      imgStr("tis[0].name", func(i *params.Image, v string) { i.TIs = []params.TI{{Name: v}} }),
	"ModelPayloadTextualInversionsStable.strength":  imgNum("tis[0].strength", func(i *params.Image, v float64) { i.TIs = []params.TI{{Name: "x", Strength: fp(v)}} }),
	"ModelPayloadTextualInversionsStable.inject_ti": imgStr("tis[0].inject_ti", func(i *params.Image, v string) { i.TIs = []params.TI{{Name: "x", Inject: params.TIInject(v)}} }),
	"ExtraText.text":                                imgStr("extra_texts[0].text", func(i *params.Image, v string) { withQR(i, params.ExtraText{Text: v, Reference: "abc"}) }),
	"ExtraText.reference":                           imgStr("extra_texts[0].reference", func(i *params.Image, v string) { withQR(i, params.ExtraText{Text: "t", Reference: v}) }),
	"ExtraSourceImage.image": imgStr("extra_source_images[0].image", func(i *params.Image, v string) {
		i.Source = &params.SourceImage{Image: params.ImageData{Data: []byte{1}}}
		i.SourceProcessing = params.SourceRemix
		i.Remix = []params.RemixImage{{Image: params.ImageData{Data: []byte(v)}}}
	}),
	"ModelPayloadStyleKobold.dynatemp_exponent": txtNum("dynatemp_exponent", func(t *params.Text, v float64) { t.DynamicTempExponent = fp(v) }),
	"ModelPayloadStyleKobold.dynatemp_range":    txtNum("dynatemp_range", func(t *params.Text, v float64) { t.DynamicTempRange = fp(v) }),
	"ModelPayloadStyleKobold.min_p":             txtNum("min_p", func(t *params.Text, v float64) { t.MinP = fp(v) }),
	"ModelPayloadStyleKobold.rep_pen":           txtNum("rep_pen", func(t *params.Text, v float64) { t.RepPen = fp(v) }),
	"ModelPayloadStyleKobold.rep_pen_range":     txtNum("rep_pen_range", func(t *params.Text, v float64) { t.RepPenRange = ip(v) }),
	"ModelPayloadStyleKobold.rep_pen_slope":     txtNum("rep_pen_slope", func(t *params.Text, v float64) { t.RepPenSlope = fp(v) }),
	"ModelPayloadStyleKobold.smoothing_factor":  txtNum("smoothing_factor", func(t *params.Text, v float64) { t.SmoothingFactor = fp(v) }),
	"ModelPayloadStyleKobold.temperature":       txtNum("temperature", func(t *params.Text, v float64) { t.Temperature = fp(v) }),
	"ModelPayloadStyleKobold.tfs":               txtNum("tfs", func(t *params.Text, v float64) { t.TFS = fp(v) }),
	"ModelPayloadStyleKobold.top_a":             txtNum("top_a", func(t *params.Text, v float64) { t.TopA = fp(v) }),
	"ModelPayloadStyleKobold.top_k":             txtNum("top_k", func(t *params.Text, v float64) { t.TopK = ip(v) }),
	"ModelPayloadStyleKobold.top_p":             txtNum("top_p", func(t *params.Text, v float64) { t.TopP = fp(v) }),
	"ModelPayloadStyleKobold.typical":           txtNum("typical", func(t *params.Text, v float64) { t.Typical = fp(v) }),
	"ModelPayloadRootKobold.max_context_length": txtNum("max_context_length", func(t *params.Text, v float64) {
		t.MaxContextLength = ip(v)
		t.MaxLength = ip(16)
	}),
	"ModelPayloadRootKobold.max_length": txtNum("max_length", func(t *params.Text, v float64) {
		t.MaxLength = ip(v)
		t.MaxContextLength = ip(1048576)
	}),
	"ModelPayloadRootKobold.n": txtNum("n", func(t *params.Text, v float64) { t.N = ip(v) }),
	"GenerationInputKobold.softprompt": {field: "softprompt", str: func(v string) error {
		t := validText()
		t.SoftPrompt = v
		if v == "" { // "" means unset; probe minLength 1 through a set value
			return nil
		}
		return t.Validate()
	}},
	"GenerationInputKobold.style":           optStr("style", func(o *params.RequestOptions, v string) { o.Style = v }),
	"ModelInterrogationInputStable.webhook": optStr("webhook", func(o *params.RequestOptions, v string) { o.Webhook = "https://" + v[min(len(v), 8):] }),
	"ModelInterrogationFormStable.name": {field: "forms[0].name", str: func(v string) error {
		a := &params.Alchemy{Source: params.ImageData{URL: "https://x/y.png"}, Ops: []params.AlchemyOp{{Form: params.AlchemyForm(v)}}}
		return a.Validate()
	}},
}

// boundedSchemas are the request schemas whose bounds validation mirrors.
var boundedSchemas = []string{
	"ModelPayloadStyleStable", "ModelPayloadRootStable", "ModelGenerationInputStable",
	"GenerationInputStable", "ModelPayloadLorasStable", "ModelPayloadTextualInversionsStable",
	"ExtraText", "ExtraSourceImage", "ModelPayloadStyleKobold", "ModelPayloadRootKobold",
	"GenerationInputKobold", "ModelInterrogationInputStable", "ModelInterrogationFormStable",
}

// notModelled lists bounded properties validation deliberately leaves out.
var notModelled = map[string]string{
	"GenerationInputKobold.webhook": "no bound in the text schema",
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background(), openapi3.DisableExamplesValidation()))
	return doc
}

// ownProperties returns the properties a schema declares itself (in its
// body or in inline allOf members, not through $ref'd parents).
func ownProperties(s *openapi3.Schema) openapi3.Schemas {
	out := openapi3.Schemas{}
	for k, v := range s.Properties {
		out[k] = v
	}
	for _, a := range s.AllOf {
		if a.Ref == "" {
			for k, v := range a.Value.Properties {
				out[k] = v
			}
		}
	}
	return out
}

func bounded(s *openapi3.Schema) bool {
	if s.Items != nil && s.Items.Value != nil && len(s.Items.Value.Enum) > 0 {
		return true
	}
	return s.Min != nil || s.Max != nil || s.MaxLength != nil || s.MinLength > 0 || s.MaxItems != nil ||
		s.MultipleOf != nil || len(s.Enum) > 0 || s.UniqueItems
}

func hasViolation(err error, field string) bool {
	if err == nil {
		return false
	}
	var vs params.Violations
	if !errors.As(err, &vs) {
		return false
	}
	return vs.Has(field)
}

func TestValidationAgreesWithSpecBounds(t *testing.T) {
	doc := loadSpec(t)
	seen := 0
	for _, name := range boundedSchemas {
		ref := doc.Components.Schemas[name]
		require.NotNil(t, ref, name)
		props := ownProperties(ref.Value)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, prop := range keys {
			s := props[prop].Value
			key := name + "." + prop
			if !bounded(s) {
				continue
			}
			if _, skip := notModelled[key]; skip {
				continue
			}
			p, ok := probes[key]
			if !ok {
				t.Errorf("%s has bounds in the spec but no validation probe (spec drift?)", key)
				continue
			}
			seen++
			t.Run(key, func(t *testing.T) { checkProbe(t, p, s) })
		}
	}
	require.Equal(t, len(probes), seen, "every probe must match a bounded spec property")
}

func checkProbe(t *testing.T, p probe, s *openapi3.Schema) {
	pass := func(err error, what string) {
		t.Helper()
		if hasViolation(err, p.field) {
			t.Errorf("%s: expected no %s violation, got %v", what, p.field, err)
		}
	}
	fail := func(err error, what string) {
		t.Helper()
		if !hasViolation(err, p.field) {
			t.Errorf("%s: expected a %s violation, got %v", what, p.field, err)
		}
	}
	if (s.Min != nil || s.Max != nil || s.MultipleOf != nil) && p.num == nil {
		t.Fatalf("the spec bounds a number; the probe needs a numeric check")
	}
	if (s.MinLength > 0 || s.MaxLength != nil || len(s.Enum) > 0 || (s.Items != nil && s.Items.Value != nil && len(s.Items.Value.Enum) > 0)) && p.str == nil {
		t.Fatalf("the spec bounds a string; the probe needs a string check")
	}
	if s.UniqueItems && p.unique == nil {
		t.Fatalf("the spec wants unique items; the probe needs a uniqueness check")
	}
	isInt := s.Type.Is("integer")
	step := 0.001
	if isInt {
		step = 1
	}
	if s.Min != nil {
		pass(p.num(*s.Min), fmt.Sprintf("minimum %v", *s.Min))
		fail(p.num(*s.Min-step), fmt.Sprintf("below minimum %v", *s.Min))
	}
	if s.Max != nil {
		v := *s.Max
		if s.MultipleOf != nil {
			v = math.Floor(v / *s.MultipleOf) * *s.MultipleOf
		}
		pass(p.num(v), fmt.Sprintf("maximum %v", *s.Max))
		fail(p.num(*s.Max+step), fmt.Sprintf("above maximum %v", *s.Max))
	}
	if m := s.MultipleOf; m != nil {
		base := *m
		if s.Min != nil {
			base = math.Ceil(*s.Min / *m) * *m
		}
		pass(p.num(base+*m), fmt.Sprintf("multiple of %v", *m))
		fail(p.num(base+1), fmt.Sprintf("not a multiple of %v", *m))
	}
	if s.MinLength > 0 {
		pass(p.str(strings.Repeat("a", int(s.MinLength))), "minLength")
		if s.MinLength > 1 {
			fail(p.str(strings.Repeat("a", int(s.MinLength)-1)), "below minLength")
		} else {
			// length 0 means unset for optional strings; required ones
			// (prompt, names, image) must still fail.
			err := p.str("")
			if p.field == "prompt" || strings.HasSuffix(p.field, "name") || strings.HasSuffix(p.field, "image") || strings.HasSuffix(p.field, "text") {
				fail(err, "empty")
			}
		}
	}
	if s.MaxLength != nil {
		pass(p.str(strings.Repeat("a", int(*s.MaxLength))), "maxLength")
		fail(p.str(strings.Repeat("a", int(*s.MaxLength)+1)), "above maxLength")
	}
	enum := s.Enum
	if s.Items != nil && s.Items.Value != nil {
		enum = s.Items.Value.Enum
	}
	if len(enum) > 0 {
		for _, e := range enum {
			pass(p.str(e.(string)), fmt.Sprintf("enum value %q", e))
		}
		fail(p.str("not_a_real_value"), "value outside the enum")
	}
	if s.UniqueItems {
		fail(p.unique(), "duplicate items")
	}
	if s.MaxItems != nil || s.MinItems > 0 {
		if p.items == nil {
			t.Fatalf("the spec bounds the number of items; the probe needs an items check")
		}
		if s.MaxItems != nil {
			pass(p.items(int(*s.MaxItems)), "maxItems")
			fail(p.items(int(*s.MaxItems)+1), "above maxItems")
		}
		if s.MinItems > 0 {
			pass(p.items(int(s.MinItems)), "minItems")
			fail(p.items(int(s.MinItems)-1), "below minItems")
		}
	}
}

// TestEnumsMatchSpec checks that each typed enum has exactly the value list
// of the current spec.
func TestEnumsMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	str := func(vs ...[]string) []string { return slices.Sorted(slices.Values(slices.Concat(vs...))) }
	conv := func(xs any) []string {
		var out []string
		switch v := xs.(type) {
		case []params.Sampler:
			for _, x := range v {
				out = append(out, string(x))
			}
		case []params.ControlType:
			for _, x := range v {
				out = append(out, string(x))
			}
		case []params.SourceProcessing:
			for _, x := range v {
				out = append(out, string(x))
			}
		case []params.PostProcessor:
			for _, x := range v {
				out = append(out, string(x))
			}
		case []params.AlchemyForm:
			for _, x := range v {
				out = append(out, string(x))
			}
		case []params.Workflow:
			for _, x := range v {
				out = append(out, string(x))
			}
		}
		return out
	}
	tests := []struct {
		schema string
		got    []string
	}{
		{"SamplerName", conv(params.Samplers())},
		{"ControlType", conv(params.ControlTypes())},
		{"SourceProcessing", conv(params.SourceProcessings())},
		{"PostProcessor", conv(params.PostProcessors())},
		{"InterrogationFormName", conv(params.AlchemyForms())},
		{"Workflow", conv(params.Workflows())},
		{"TIInjection", []string{string(params.TIInjectPositive), string(params.TIInjectNegative)}},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			var want []string
			for _, e := range doc.Components.Schemas[tt.schema].Value.Enum {
				want = append(want, e.(string))
			}
			require.NotEmpty(t, want)
			require.Equal(t, str(want), str(tt.got))
		})
	}
}

package hordetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/horde-go/horde/gen"
)

// validateStyleSchema applies the style models' schema: post selects the creation model
// (name required, info at least 10 characters).
func validateStyleSchema(kind string, in *styleInput, raw []byte, post bool) *apiError {
	if post && !hasKey(raw, "name") {
		return validationErr("name", "'name' is a required property")
	}
	infoMin, promptMin := 1, 7
	if post {
		infoMin = 10
		if kind == kindText {
			promptMin = 3
		}
	}
	for _, c := range []struct {
		f        string
		v        *string
		min, max int
	}{{"name", in.Name, 1, 100}, {"info", in.Info, infoMin, 1000}, {"prompt", in.Prompt, promptMin, 0}} {
		if e := strLen(c.f, c.v, c.min, c.max); e != nil {
			return e
		}
	}
	if kind == kindImage {
		if e := strLen("sharedkey", in.Sharedkey, 36, 36); e != nil {
			return e
		}
	}
	for i, t := range in.Tags {
		if e := strLen(fmt.Sprintf("tags.%d", i), &t, 1, 25); e != nil {
			return e
		}
	}
	for i, m := range in.Models {
		if e := strLen(fmt.Sprintf("models.%d", i), &m, 1, 0); e != nil {
			return e
		}
	}
	if in.Params == nil {
		return nil
	}
	pr, _ := json.Marshal(in.Params)
	if kind == kindImage {
		var p gen.ModelGenerationInputStable
		if err := json.Unmarshal(pr, &p); err != nil {
			return validationErr("params", "invalid params")
		}
		p.N = nil // not a style field: the request's n always wins
		return validateStableParamsSchema(&p)
	}
	var p gen.ModelPayloadStyleKobold
	if err := json.Unmarshal(pr, &p); err != nil {
		return validationErr("params", "invalid params")
	}
	return validateKoboldStyleParams(&p)
}

func floatRange(field string, v *float64, min, max float64) *apiError {
	if v == nil {
		return nil
	}
	if *v < min {
		return validationErr(field, fmt.Sprintf("%v is less than the minimum of %v", *v, min))
	}
	if *v > max {
		return validationErr(field, fmt.Sprintf("%v is greater than the maximum of %v", *v, max))
	}
	return nil
}

func validateKoboldStyleParams(p *gen.ModelPayloadStyleKobold) *apiError {
	for _, c := range []struct {
		f        string
		v        *float64
		min, max float64
	}{{"dynatemp_exponent", p.DynatempExponent, 0, 5}, {"dynatemp_range", p.DynatempRange, 0, 5},
		{"min_p", p.MinP, 0, 1}, {"rep_pen", p.RepPen, 1, 3}, {"rep_pen_slope", p.RepPenSlope, 0, 10},
		{"smoothing_factor", p.SmoothingFactor, 0, 10}, {"temperature", p.Temperature, 0, 5}, {"tfs", p.Tfs, 0, 1},
		{"top_a", p.TopA, 0, 1}, {"top_p", p.TopP, 0.001, 1}, {"typical", p.Typical, 0, 1}} {
		if e := floatRange("params."+c.f, c.v, c.min, c.max); e != nil {
			return e
		}
	}
	if e := optRange("params.rep_pen_range", p.RepPenRange, 0, 4096); e != nil {
		return e
	}
	return optRange("params.top_k", p.TopK, 0, 200)
}

// styleParamRules applies the server's ParamValidator to a style's prompt, models and params
// and returns its warnings.
func (s *Server) styleParamRules(kind, prompt string, models []string, params map[string]json.RawMessage) ([]gen.RequestSingleWarning, *apiError) {
	raw, _ := json.Marshal(params)
	var warnings []gen.RequestSingleWarning
	bad := func(msg string) *apiError { return herr(http.StatusBadRequest, "BadRequest", msg) }
	if kind == kindImage {
		var p gen.ModelGenerationInputStable
		_ = json.Unmarshal(raw, &p)
		if e := s.validateImageParams(prompt, models, &p); e != nil {
			return nil, e
		}
		warnings = s.imageWarnings(models, &p)
	} else {
		var p gen.ModelGenerationInputKobold
		_ = json.Unmarshal(raw, &p)
		if e := validateTextParams(&p); e != nil {
			return nil, e
		}
	}
	for _, m := range models {
		if strings.Contains(m, "horde_special") {
			return nil, herr(http.StatusForbidden, "Forbidden", "Only special users can request a special model.")
		}
	}
	if !strings.Contains(prompt, "{p}") {
		return nil, bad("A style prompt must include a dedicated spot where the user's positive prompt will be added, signified with '{p}'")
	}
	if kind == kindImage && !strings.Contains(prompt, "{np}") {
		return nil, bad("A style prompt must include a dedicated spot where the user's negative prompt will be added, signified with '{np}'")
	}
	return warnings, nil
}

// validateTextParams is the server's text ParamValidator (also used by text requests).
func validateTextParams(p *gen.ModelGenerationInputKobold) *apiError {
	if deref(p.MaxContextLength, 2048) < deref(p.MaxLength, 80) {
		return herr(http.StatusBadRequest, "TokenOverflow", "You cannot request more tokens than your context length.")
	}
	if p.SamplerOrder != nil {
		d := map[int]bool{}
		for _, x := range p.SamplerOrder {
			d[x] = true
		}
		if len(d) < 7 {
			return herr(http.StatusBadRequest, "MissingFullSamplerOrder", "When sending a custom sampler order, you need to specify all possible samplers in the order")
		}
	}
	seqs := map[string]bool{}
	total := 0
	for _, st := range p.StopSequence {
		if !seqs[st] {
			seqs[st] = true
			total += len([]rune(st))
		}
	}
	if len(seqs) > 128 {
		return herr(http.StatusBadRequest, "TooManyStopSequences", "Too many stop sequences specified (max allowed is 128).")
	}
	if total > 2000 {
		return herr(http.StatusBadRequest, "ExcessiveStopSequence", "Your total stop sequence length exceeds the allowed limit (2000 chars).")
	}
	return nil
}

// cleanList reproduces the server's set_models/set_tags: each entry cut to 100 characters,
// at most keep entries, duplicates dropped.
func cleanList(xs []string, keep int) []string {
	if len(xs) > keep {
		xs = xs[:keep]
	}
	out := []string{}
	seen := map[string]bool{}
	for _, x := range xs {
		if r := []rune(x); len(r) > 100 {
			x = string(r[:100])
		}
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

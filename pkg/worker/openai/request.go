package openai

import (
	"math"
	"time"
	"unicode/utf8"

	"github.com/horde-go/horde/pkg/worker"
)

// Horde defaults of a text job when the payload leaves a length out.
const (
	hordeDefaultMaxLength        = 80
	hordeDefaultMaxContextLength = 2048
	// strictMaxStops and strictMaxTemperature are the OpenAI API's limits.
	strictMaxStops       = 4
	strictMaxTemperature = 2.0
)

// limits are the token limits of one job after the caps.
type limits struct {
	maxTokens, context int
	// promptChars is the prompt budget in characters.
	promptChars int
}

// jobLimits takes the job's limits (the worker's, else the payload's, else the Horde defaults),
// caps them with the server's, and keeps room for the prompt: when max_tokens would fill the
// context, it is halved to ctx/2.
func (b *Backend) jobLimits(job *worker.TextJob) limits {
	maxTokens := firstPositive(job.MaxLength, deref(job.Params.MaxLength), hordeDefaultMaxLength)
	ctx := firstPositive(job.MaxContextLength, deref(job.Params.MaxContextLength), hordeDefaultMaxContextLength)
	maxTokens = min(maxTokens, b.cfg.MaxLength)
	ctx = min(ctx, b.cfg.MaxContextLength)
	if maxTokens >= ctx {
		maxTokens = max(1, ctx/2)
	}
	budget := float64(ctx-maxTokens) * b.cfg.CharsPerToken
	return limits{maxTokens: maxTokens, context: ctx, promptChars: int(math.Floor(budget))}
}

// timeout is the time allowed for one generation.
func (b *Backend) timeout(l limits) time.Duration {
	if b.cfg.Timeout > 0 {
		return b.cfg.Timeout
	}
	return time.Duration(l.maxTokens)*time.Second/2 + 10*time.Second
}

// truncateLeft keeps the last n characters (runes) of s.
func truncateLeft(s string, n int) string {
	excess := utf8.RuneCountInString(s) - n
	if excess <= 0 {
		return s
	}
	i := 0
	for range excess {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[i:]
}

// buildRequest maps a job onto a /v1/completions body. See [Backend.GenerateText] for the
// mapping.
func (b *Backend) buildRequest(job *worker.TextJob, l limits) map[string]any {
	p := &job.Params
	f := b.cfg.Flavour
	req := map[string]any{
		"prompt":     truncateLeft(p.Prompt, l.promptChars),
		"max_tokens": l.maxTokens,
	}
	if b.cfg.Model != "" {
		req["model"] = b.cfg.Model
	}
	if b.cfg.Seed != nil {
		req["seed"] = *b.cfg.Seed
	}
	if p.Temperature != nil {
		t := *p.Temperature
		if f == Strict {
			t = min(t, strictMaxTemperature)
		}
		req["temperature"] = t
	}
	setF(req, "top_p", p.TopP)
	if stops := nonEmpty(p.StopSequences); len(stops) > 0 {
		if f == Strict && len(stops) > strictMaxStops {
			stops = stops[:strictMaxStops]
		}
		req["stop"] = stops
	}
	if f == Strict {
		return req
	}

	// top_k: the Horde's 0 means off.
	if p.TopK != nil {
		switch k := *p.TopK; {
		case k > 0:
			req["top_k"] = k
		case f == VLLM || f == Aphrodite:
			req["top_k"] = -1
		case f == LlamaCpp || f == KoboldCpp:
			req["top_k"] = 0
		}
	}
	setF(req, "min_p", p.MinP)

	switch f {
	case Generic:
		setF(req, "typical_p", p.Typical)
		setF(req, "tfs", p.TFS)
		setF(req, "top_a", p.TopA)
		setF(req, "repetition_penalty", p.RepPen)
	case LlamaCpp:
		setF(req, "typical_p", p.Typical)
		setF(req, "tfs_z", p.TFS)
		setF(req, "repeat_penalty", p.RepPen)
		setI(req, "repeat_last_n", p.RepPenRange)
		setF(req, "dynatemp_range", p.DynamicTempRange)
		setF(req, "dynatemp_exponent", p.DynamicTempExponent)
		setB(req, "ignore_eos", p.UseDefaultBadWordsIDs)
	case VLLM, Aphrodite:
		setF(req, "repetition_penalty", p.RepPen)
		setB(req, "ignore_eos", p.UseDefaultBadWordsIDs)
		req["include_stop_str_in_output"] = true
		req["truncate_prompt_tokens"] = max(1, l.context-l.maxTokens)
		if f == Aphrodite {
			setF(req, "typical_p", p.Typical)
			setF(req, "tfs", p.TFS)
			setF(req, "top_a", p.TopA)
			setF(req, "smoothing_factor", p.SmoothingFactor)
			if p.DynamicTempRange != nil && *p.DynamicTempRange > 0 {
				t := 1.0
				if p.Temperature != nil {
					t = *p.Temperature
				}
				req["dynatemp_min"] = max(0, t-*p.DynamicTempRange)
				req["dynatemp_max"] = t + *p.DynamicTempRange
				setF(req, "dynatemp_exponent", p.DynamicTempExponent)
			}
		}
	case KoboldCpp:
		// KoboldCpp's OpenAI route reads the KoboldAI names from the same body, but sets
		// rep_pen from presence_penalty + 1: send both.
		setF(req, "typical", p.Typical)
		setF(req, "tfs", p.TFS)
		setF(req, "top_a", p.TopA)
		if p.RepPen != nil {
			req["rep_pen"] = *p.RepPen
			req["presence_penalty"] = *p.RepPen - 1
		}
		setI(req, "rep_pen_range", p.RepPenRange)
		setF(req, "rep_pen_slope", p.RepPenSlope)
		if len(p.SamplerOrder) > 0 {
			req["sampler_order"] = p.SamplerOrder
		}
		setF(req, "dynatemp_range", p.DynamicTempRange)
		setF(req, "dynatemp_exponent", p.DynamicTempExponent)
		setF(req, "smoothing_factor", p.SmoothingFactor)
		setB(req, "use_default_badwordsids", p.UseDefaultBadWordsIDs)
		req["max_context_length"] = l.context
	}
	return req
}

func setF(m map[string]any, k string, v *float64) {
	if v != nil {
		m[k] = *v
	}
}

func setI(m map[string]any, k string, v *int) {
	if v != nil {
		m[k] = *v
	}
}

func setB(m map[string]any, k string, v *bool) {
	if v != nil {
		m[k] = *v
	}
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

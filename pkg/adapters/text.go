package adapters

import (
	"fmt"
	"reflect"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/params"
)

// TextRequest validates t and opts and builds the body of
// POST /v2/generate/text/async.
func TextRequest(t *params.Text, opts *params.RequestOptions) (gen.GenerationInputKobold, error) {
	if opts == nil {
		opts = &params.RequestOptions{}
	}
	if err := params.ValidateTextRequest(t, opts); err != nil {
		return gen.GenerationInputKobold{}, err
	}
	prompt := t.Prompt
	req := gen.GenerationInputKobold{
		Prompt:            &prompt,
		Models:            models(opts.Models, t.Model),
		Softprompt:        strPtr(t.SoftPrompt),
		TrustedWorkers:    cp(opts.TrustedWorkers),
		ValidatedBackends: cp(opts.ValidatedBackends),
		SlowWorkers:       cp(opts.SlowWorkers),
		ExtraSlowWorkers:  cp(opts.ExtraSlowWorkers),
		Workers:           clone(opts.Workers),
		WorkerBlacklist:   cp(opts.WorkerBlacklist),
		DryRun:            cp(opts.DryRun),
		DisableBatching:   cp(opts.DisableBatching),
		AllowDowngrade:    cp(opts.AllowDowngrade),
		Webhook:           strPtr(opts.Webhook),
		Style:             strPtr(opts.Style),
		ProxiedAccount:    strPtr(opts.ProxiedAccount),
	}
	req.Params = &gen.ModelGenerationInputKobold{
		N:                     cp(t.N),
		MaxContextLength:      cp(t.MaxContextLength),
		MaxLength:             cp(t.MaxLength),
		Temperature:           cp(t.Temperature),
		DynatempExponent:      cp(t.DynamicTempExponent),
		DynatempRange:         cp(t.DynamicTempRange),
		SmoothingFactor:       cp(t.SmoothingFactor),
		TopP:                  cp(t.TopP),
		TopK:                  cp(t.TopK),
		TopA:                  cp(t.TopA),
		MinP:                  cp(t.MinP),
		Typical:               cp(t.Typical),
		Tfs:                   cp(t.TFS),
		RepPen:                cp(t.RepPen),
		RepPenRange:           cp(t.RepPenRange),
		RepPenSlope:           cp(t.RepPenSlope),
		SamplerOrder:          clone(t.SamplerOrder),
		StopSequence:          clone(t.StopSequences),
		UseDefaultBadwordsids: cp(t.UseDefaultBadWordsIDs),
		Frmtadsnsp:            cp(t.Format.AddLeadingSpace),
		Frmtrmblln:            cp(t.Format.RemoveBlankLines),
		Frmtrmspch:            cp(t.Format.RemoveSpecialChars),
		Frmttriminc:           cp(t.Format.TrimIncomplete),
		Singleline:            cp(t.Format.SingleLine),
	}
	if reflect.ValueOf(*req.Params).IsZero() {
		req.Params = nil
	}
	return req, nil
}

// TextFromRequest is the inverse of [TextRequest].
func TextFromRequest(req *gen.GenerationInputKobold) (params.Text, params.RequestOptions) {
	t := params.Text{Prompt: deref(req.Prompt), SoftPrompt: deref(req.Softprompt)}
	opts := params.RequestOptions{
		TrustedWorkers:    cp(req.TrustedWorkers),
		ValidatedBackends: cp(req.ValidatedBackends),
		SlowWorkers:       cp(req.SlowWorkers),
		ExtraSlowWorkers:  cp(req.ExtraSlowWorkers),
		Workers:           clone(req.Workers),
		WorkerBlacklist:   cp(req.WorkerBlacklist),
		DryRun:            cp(req.DryRun),
		DisableBatching:   cp(req.DisableBatching),
		AllowDowngrade:    cp(req.AllowDowngrade),
		Webhook:           deref(req.Webhook),
		Style:             deref(req.Style),
		ProxiedAccount:    deref(req.ProxiedAccount),
	}
	if len(req.Models) == 1 {
		t.Model = req.Models[0]
	} else {
		opts.Models = clone(req.Models)
	}
	if p := req.Params; p != nil {
		t.N = cp(p.N)
		fillText(&t, p.MaxContextLength, p.MaxLength, p.Temperature, p.DynatempExponent, p.DynatempRange,
			p.SmoothingFactor, p.TopP, p.TopK, p.TopA, p.MinP, p.Typical, p.Tfs, p.RepPen, p.RepPenRange, p.RepPenSlope,
			p.SamplerOrder, p.StopSequence, p.UseDefaultBadwordsids, p.Frmtadsnsp, p.Frmtrmblln, p.Frmtrmspch, p.Frmttriminc, p.Singleline)
	}
	return t, opts
}

func fillText(t *params.Text, ctx, length *int, temp, dexp, drange, smooth, topP *float64, topK *int, topA, minP, typical, tfs,
	rep *float64, repRange *int, repSlope *float64, order []int, stops []string, bad, f1, f2, f3, f4, f5 *bool) {
	t.MaxContextLength = cp(ctx)
	t.MaxLength = cp(length)
	t.Temperature = cp(temp)
	t.DynamicTempExponent = cp(dexp)
	t.DynamicTempRange = cp(drange)
	t.SmoothingFactor = cp(smooth)
	t.TopP = cp(topP)
	t.TopK = cp(topK)
	t.TopA = cp(topA)
	t.MinP = cp(minP)
	t.Typical = cp(typical)
	t.TFS = cp(tfs)
	t.RepPen = cp(rep)
	t.RepPenRange = cp(repRange)
	t.RepPenSlope = cp(repSlope)
	t.SamplerOrder = clone(order)
	t.StopSequences = clone(stops)
	t.UseDefaultBadWordsIDs = cp(bad)
	t.Format = params.TextFormat{AddLeadingSpace: cp(f1), RemoveBlankLines: cp(f2), RemoveSpecialChars: cp(f3), TrimIncomplete: cp(f4), SingleLine: cp(f5)}
}

// TextPop is a popped text job.
type TextPop struct {
	// Params is the generation to run.
	Params params.Text
	// Dispatch holds ids, TTL and skipped counts.
	Dispatch Dispatch
}

// TextFromPop converts a POST /v2/generate/text/pop response. A pop without
// a job returns Dispatch.HasJob false and no error. The payload's n is kept
// in Params.N; the server always sends n = 1 with one id per job. Text
// results are always returned inline (there is no R2 path for text).
func TextFromPop(pop *gen.GenerationPayloadKobold) (TextPop, error) {
	job := TextPop{Dispatch: Dispatch{
		IDs:      popIDs(pop.ID, pop.Ids),
		Skipped:  skippedKobold(pop.Skipped),
		Messages: pop.Messages,
	}}
	if pop.TTL != nil {
		job.Dispatch.TTL = time.Duration(*pop.TTL) * time.Second
	}
	if !job.Dispatch.HasJob() {
		return job, nil
	}
	p := pop.Payload
	if p == nil {
		return job, fmt.Errorf("pop %s: payload: missing", job.Dispatch.IDs[0])
	}
	t := &job.Params
	t.Model = deref(pop.Model)
	t.Prompt = deref(p.Prompt)
	t.SoftPrompt = deref(pop.Softprompt)
	t.N = cp(p.N)
	fillText(t, p.MaxContextLength, p.MaxLength, p.Temperature, p.DynatempExponent, p.DynatempRange,
		p.SmoothingFactor, p.TopP, p.TopK, p.TopA, p.MinP, p.Typical, p.Tfs, p.RepPen, p.RepPenRange, p.RepPenSlope,
		p.SamplerOrder, p.StopSequence, p.UseDefaultBadwordsids, p.Frmtadsnsp, p.Frmtrmblln, p.Frmtrmspch, p.Frmttriminc, p.Singleline)
	return job, nil
}

func skippedKobold(s *gen.NoValidRequestFoundKobold) map[string]int {
	if s == nil {
		return nil
	}
	m := map[string]int{}
	put := func(k string, v *int) {
		if v != nil {
			m[k] = *v
		}
	}
	put("blacklist", s.Blacklist)
	put("bridge_version", s.BridgeVersion)
	put("kudos", s.Kudos)
	put("matching_softprompt", s.MatchingSoftprompt)
	put("max_context_length", s.MaxContextLength)
	put("max_length", s.MaxLength)
	put("models", s.Models)
	put("nsfw", s.NSFW)
	put("performance", s.Performance)
	put("untrusted", s.Untrusted)
	put("worker_id", s.WorkerID)
	return m
}

package adapters

import (
	"maps"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/params"
)

// AlchemyRequest validates a and builds the body of POST /v2/interrogate/async.
// Of the options, only SlowWorkers and Webhook exist for alchemy; the others
// are ignored. (TrustedWorkers is accepted by the server but absent from the
// spec and the generated model.)
func AlchemyRequest(a *params.Alchemy, opts *params.RequestOptions) (gen.ModelInterrogationInputStable, error) {
	if opts == nil {
		opts = &params.RequestOptions{}
	}
	var vs params.Violations
	if err := a.Validate(); err != nil {
		vs = append(vs, err.(params.Violations)...)
	}
	if err := opts.Validate(false); err != nil {
		vs = append(vs, err.(params.Violations)...)
	}
	if len(vs) > 0 {
		return gen.ModelInterrogationInputStable{}, vs
	}
	req := gen.ModelInterrogationInputStable{
		SourceImage: encodeImage(a.Source),
		SlowWorkers: cp(opts.SlowWorkers),
		Webhook:     strPtr(opts.Webhook),
		Forms:       make([]gen.ModelInterrogationFormStable, len(a.Ops)),
	}
	for i, op := range a.Ops {
		req.Forms[i] = gen.ModelInterrogationFormStable{Name: gen.InterrogationFormName(op.Form)}
		if op.Payload != nil {
			pl := gen.ModelInterrogationFormPayloadStable(maps.Clone(op.Payload))
			req.Forms[i].Payload = &pl
		}
	}
	return req, nil
}

// AlchemyFromRequest is the inverse of [AlchemyRequest].
func AlchemyFromRequest(req *gen.ModelInterrogationInputStable) (params.Alchemy, params.RequestOptions, error) {
	var errs params.Violations
	a := params.Alchemy{Source: imageFromRequestString("source_image", req.SourceImage, &errs)}
	for _, f := range req.Forms {
		op := params.AlchemyOp{Form: params.AlchemyForm(f.Name)}
		if f.Payload != nil {
			op.Payload = maps.Clone(map[string]string(*f.Payload))
		}
		a.Ops = append(a.Ops, op)
	}
	opts := params.RequestOptions{SlowWorkers: cp(req.SlowWorkers), Webhook: deref(req.Webhook)}
	if len(errs) > 0 {
		return a, opts, errs
	}
	return a, opts, nil
}

// AlchemyPopForm is one popped alchemy form.
type AlchemyPopForm struct {
	// Op carries the form, its result id (the form id), payload and source.
	Op params.AlchemyOp
	// R2Upload is the presigned URL for an image result; "" for text
	// results (caption, nsfw, interrogation, ...) and for the inline path.
	R2Upload string
	// Faults lists conversion problems; a job with a source_image fault
	// cannot run and should be reported as faulted.
	Faults []gen.GenerationMetadataStable
}

// AlchemyPop is a converted POST /v2/interrogate/pop response.
type AlchemyPop struct {
	// Jobs holds one job per form, in the API's order (not regrouped by
	// kind as upstream did).
	Jobs []AlchemyPopForm
	// Skipped counts the forms the worker could not take, by reason.
	Skipped map[string]int
}

// AlchemyFromPop converts an alchemy pop. Each form's source_image is
// documented as a download URL; a URL is kept as a URL (*upstream
// base64-decoded it), other strings are base64-decoded, and an empty or
// undecodable source records a source_image fault on that job instead of
// failing the whole pop. A pop without forms is not an error: it has no
// jobs. Every form is kept, unknown ones included (Op.Kind tells what runs
// it).
func AlchemyFromPop(pop *gen.InterrogationPopPayload) AlchemyPop {
	out := AlchemyPop{Jobs: make([]AlchemyPopForm, 0, len(pop.Forms))}
	if s := pop.Skipped; s != nil {
		out.Skipped = map[string]int{}
		for k, v := range map[string]*int{"bridge_version": s.BridgeVersion, "untrusted": s.Untrusted, "worker_id": s.WorkerID} {
			if v != nil {
				out.Skipped[k] = *v
			}
		}
	}
	for _, f := range pop.Forms {
		job := AlchemyPopForm{
			Op: params.AlchemyOp{
				ResultID: deref(f.ID),
				Form:     params.AlchemyForm(deref(f.Form)),
			},
			R2Upload: deref(f.R2Upload),
		}
		if f.Payload != nil {
			job.Op.Payload = maps.Clone(map[string]string(*f.Payload))
		}
		if d, _, ok := decodeImage(f.SourceImage); ok {
			job.Op.Source = d
		} else {
			job.Faults = append(job.Faults, metadata(gen.MetadataTypeSourceImage, gen.MetadataValueParseFailed, ""))
		}
		out.Jobs = append(out.Jobs, job)
	}
	return out
}

package adapters

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/params"
)

// ImageRequest validates img and opts and builds the body of
// POST /v2/generate/async.
//
// The API cannot carry img.Baseline (the server knows each model's
// baseline) nor computed hires-fix passes; they are not sent. Schedulers
// other than karras and normal are rejected by validation.
func ImageRequest(img *params.Image, opts *params.RequestOptions) (gen.GenerationInputStable, error) {
	if opts == nil {
		opts = &params.RequestOptions{}
	}
	if err := params.ValidateImageRequest(img, opts); err != nil {
		return gen.GenerationInputStable{}, err
	}
	req := gen.GenerationInputStable{
		Prompt:            img.APIPrompt(),
		Models:            imageModels(opts.Models, img.Model),
		NSFW:              cp(opts.NSFW),
		CensorNSFW:        cp(opts.CensorNSFW),
		R2:                cp(opts.R2),
		Shared:            cp(opts.Shared),
		ReplacementFilter: cp(opts.ReplacementFilter),
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
	p := &gen.ModelGenerationInputStable{
		Seed:              strPtr(img.Seed),
		SeedVariation:     cp(img.SeedVariation),
		Width:             cp(img.Width),
		Height:            cp(img.Height),
		Steps:             cp(img.Steps),
		CFGScale:          cp(img.CFGScale),
		ClipSkip:          cp(img.ClipSkip),
		DenoisingStrength: cp(img.DenoisingStrength),
		Tiling:            cp(img.Tiling),
		Transparent:       cp(img.Transparent),
		N:                 cp(img.BatchSize),
		FacefixerStrength: cp(img.FacefixerStrength),
	}
	if img.Sampler != "" {
		s := gen.SamplerName(img.Sampler)
		p.SamplerName = &s
	}
	switch img.Scheduler {
	case params.SchedulerKarras:
		p.Karras = truePtr(true)
	case params.SchedulerNormal:
		f := false
		p.Karras = &f
	}
	if img.SourceProcessing != "" && img.SourceProcessing != params.SourceTxt2Img {
		sp := gen.SourceProcessing(img.SourceProcessing)
		req.SourceProcessing = &sp
	}
	if img.Source != nil {
		req.SourceImage = encodeImage(img.Source.Image)
		req.SourceMask = encodeImage(img.Source.Mask)
	}
	for _, r := range img.Remix {
		req.ExtraSourceImages = append(req.ExtraSourceImages, gen.ExtraSourceImage{Image: encodeImage(r.Image), Strength: cp(r.Strength)})
	}
	if cn := img.ControlNet; cn != nil {
		ct := gen.ControlType(cn.Type)
		p.ControlType = &ct
		if cn.ControlMap != nil && !cn.ControlMap.IsZero() {
			req.SourceImage = encodeImage(*cn.ControlMap)
			p.ImageIsControl = truePtr(true)
		}
		p.ReturnControlMap = truePtr(cn.ReturnControlMap)
	}
	if h := img.HiresFix; h != nil {
		p.HiresFix = truePtr(true)
		p.HiresFixDenoisingStrength = cp(h.DenoisingStrength)
	}
	p.Loras = lorasToAPI(img.LoRAs)
	p.Tis = tisToAPI(img.TIs)
	if w := img.Workflow; w != nil {
		wf := gen.Workflow(w.Name)
		p.Workflow = &wf
		p.ExtraTexts = extraTextsToAPI(w.ExtraTexts)
	}
	if len(img.PostProcessing) > 0 {
		p.PostProcessing = make([]gen.PostProcessor, len(img.PostProcessing))
		for i, pp := range img.PostProcessing {
			p.PostProcessing[i] = gen.PostProcessor(pp)
		}
	}
	if !reflect.ValueOf(*p).IsZero() {
		req.Params = p
	}
	return req, nil
}

// ImageFromRequest is the inverse of [ImageRequest]: it rebuilds the
// parameter set and options from a request body. A single model becomes
// Image.Model; several stay in RequestOptions.Models. Image strings that
// are neither URLs nor base64 are reported as violations.
func ImageFromRequest(req *gen.GenerationInputStable) (params.Image, params.RequestOptions, error) {
	var errs params.Violations
	img := params.Image{}
	img.Prompt, img.NegativePrompt = params.SplitPrompt(req.Prompt)
	opts := params.RequestOptions{
		NSFW:              cp(req.NSFW),
		CensorNSFW:        cp(req.CensorNSFW),
		R2:                cp(req.R2),
		Shared:            cp(req.Shared),
		ReplacementFilter: cp(req.ReplacementFilter),
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
	if req.Models != nil {
		if ms := *req.Models; len(ms) == 1 {
			img.Model = ms[0]
		} else {
			opts.Models = append(make([]string, 0, len(ms)), ms...) // [] stays non-nil: any model
		}
	}
	if req.SourceProcessing != nil {
		img.SourceProcessing = params.SourceProcessing(*req.SourceProcessing)
	}
	p := req.Params
	if p == nil {
		p = &gen.ModelGenerationInputStable{}
	}
	src := imageFromRequestString("source_image", req.SourceImage, &errs)
	mask := imageFromRequestString("source_mask", req.SourceMask, &errs)
	if p.ControlType != nil {
		img.ControlNet = &params.ControlNet{Type: params.ControlType(*p.ControlType), ReturnControlMap: deref(p.ReturnControlMap)}
		if deref(p.ImageIsControl) && !src.IsZero() {
			m := src
			img.ControlNet.ControlMap = &m
			src = params.ImageData{}
		}
	}
	if !src.IsZero() || !mask.IsZero() {
		img.Source = &params.SourceImage{Image: src, Mask: mask}
	}
	for i, e := range req.ExtraSourceImages {
		img.Remix = append(img.Remix, params.RemixImage{
			Image:    imageFromRequestString(fmt.Sprintf("extra_source_images[%d].image", i), e.Image, &errs),
			Strength: cp(e.Strength),
		})
	}
	fillImageCommon(&img, p.Seed, p.SeedVariation, p.Width, p.Height, p.CFGScale, p.ClipSkip, p.DenoisingStrength,
		p.Tiling, p.Transparent, p.FacefixerStrength, p.SamplerName, p.Karras)
	img.Steps = cp(p.Steps)
	img.BatchSize = cp(p.N)
	fillImageComponents(&img, p.HiresFix, p.HiresFixDenoisingStrength, p.Loras, p.Tis, p.Workflow, p.ExtraTexts, p.PostProcessing)
	if len(errs) > 0 {
		return img, opts, errs
	}
	return img, opts, nil
}

func fillImageCommon(img *params.Image, seed *string, seedVar, w, h *int, cfg *float64, clip *int, denoise *float64,
	tiling, transparent *bool, ffs *float64, sampler *gen.SamplerName, karras *bool) {
	img.Seed = deref(seed)
	img.SeedVariation = cp(seedVar)
	img.Width = cp(w)
	img.Height = cp(h)
	img.CFGScale = cp(cfg)
	img.ClipSkip = cp(clip)
	img.DenoisingStrength = cp(denoise)
	img.Tiling = cp(tiling)
	img.Transparent = cp(transparent)
	img.FacefixerStrength = cp(ffs)
	if sampler != nil {
		img.Sampler = params.Sampler(*sampler)
	}
	if karras != nil {
		if *karras {
			img.Scheduler = params.SchedulerKarras
		} else {
			img.Scheduler = params.SchedulerNormal
		}
	}
}

func fillImageComponents(img *params.Image, hires *bool, hiresDenoise *float64, loras []gen.ModelPayloadLorasStable,
	tis []gen.ModelPayloadTextualInversionsStable, wf *gen.Workflow, texts []gen.ExtraText, pp []gen.PostProcessor) {
	if deref(hires) {
		img.HiresFix = &params.HiresFix{DenoisingStrength: cp(hiresDenoise)}
	}
	if len(loras) > 0 {
		img.LoRAs = make([]params.LoRA, len(loras))
		for i, l := range loras {
			img.LoRAs[i] = params.LoRA{Name: l.Name, IsVersion: deref(l.IsVersion), Model: cp(l.Model), Clip: cp(l.Clip), InjectTrigger: deref(l.InjectTrigger)}
		}
	}
	if len(tis) > 0 {
		img.TIs = make([]params.TI, len(tis))
		for i, t := range tis {
			img.TIs[i] = params.TI{Name: t.Name, Inject: params.TIInject(deref(t.InjectTI)), Strength: cp(t.Strength)}
		}
	}
	// Decision (as upstream): extra texts without a workflow are dropped;
	// the server rejects them anyway (InvalidExtraTexts).
	if wf != nil {
		img.Workflow = &params.CustomWorkflow{Name: params.Workflow(*wf)}
		if len(texts) > 0 {
			img.Workflow.ExtraTexts = make([]params.ExtraText, len(texts))
			for i, t := range texts {
				img.Workflow.ExtraTexts[i] = params.ExtraText{Text: deref(t.Text), Reference: deref(t.Reference)}
			}
		}
	}
	if len(pp) > 0 {
		img.PostProcessing = make([]params.PostProcessor, len(pp))
		for i, p := range pp {
			img.PostProcessing[i] = params.PostProcessor(p)
		}
	}
}

func lorasToAPI(ls []params.LoRA) []gen.ModelPayloadLorasStable {
	if len(ls) == 0 {
		return nil
	}
	out := make([]gen.ModelPayloadLorasStable, len(ls))
	for i, l := range ls {
		out[i] = gen.ModelPayloadLorasStable{Name: l.Name, IsVersion: truePtr(l.IsVersion), Model: cp(l.Model), Clip: cp(l.Clip), InjectTrigger: strPtr(l.InjectTrigger)}
	}
	return out
}

func tisToAPI(ts []params.TI) []gen.ModelPayloadTextualInversionsStable {
	if len(ts) == 0 {
		return nil
	}
	out := make([]gen.ModelPayloadTextualInversionsStable, len(ts))
	for i, t := range ts {
		out[i] = gen.ModelPayloadTextualInversionsStable{Name: t.Name, Strength: cp(t.Strength)}
		if t.Inject != params.TIInjectNone {
			inj := gen.TIInjection(t.Inject)
			out[i].InjectTI = &inj
		}
	}
	return out
}

func extraTextsToAPI(ts []params.ExtraText) []gen.ExtraText {
	if len(ts) == 0 {
		return nil
	}
	out := make([]gen.ExtraText, len(ts))
	for i, t := range ts {
		out[i] = gen.ExtraText{Text: strPtr(t.Text), Reference: strPtr(t.Reference)}
	}
	return out
}

func models(list []string, model string) []string {
	if list != nil {
		return clone(list)
	}
	if model != "" {
		return []string{model}
	}
	return nil
}

// imageModels is the image request's models: absent when nothing was chosen (the server then
// uses stable_diffusion), and an explicit [] when opts.Models is empty but not nil (any model).
func imageModels(list []string, model string) *[]string {
	if ms := models(list, model); ms != nil {
		return &ms
	}
	return nil
}

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// BaselineLookup returns the baseline of a model name, or "" when unknown.
// (*params.ModelReference).BaselineOf is one; nil means "always unknown".
type BaselineLookup func(model string) params.Baseline

// Dispatch is what a worker needs besides the parameters to run a popped
// job and return its results.
type Dispatch struct {
	// IDs are the result ids, one per image (or text) of the job.
	IDs []string
	// R2Uploads maps a result id to its presigned upload URL. An id without
	// a URL is returned inline (base64 in the submit body).
	R2Uploads map[string]string
	// TTL is how long the job may run before the server considers it stale;
	// 0 when the server did not say.
	TTL time.Duration
	// Skipped counts the queued requests the worker could not take, by
	// reason (the API's field names). It is set on every pop, job or not.
	Skipped map[string]int
	// Messages are the worker messages delivered with the pop.
	Messages []gen.ResponseModelMessagePop
}

// HasJob reports whether the pop carried a job (the server answers
// "no job" with id null and ids []).
func (d *Dispatch) HasJob() bool { return len(d.IDs) > 0 }

// UploadURL returns the R2 upload URL of id, or "" for the base64 path.
func (d *Dispatch) UploadURL(id string) string { return d.R2Uploads[id] }

// ImagePop is a popped image job.
type ImagePop struct {
	// Params is the generation to run.
	Params params.Image
	// Dispatch holds ids, upload URLs, TTL and skipped counts.
	Dispatch Dispatch
	// UseNSFWCensor asks the worker to censor NSFW results.
	UseNSFWCensor bool
	// Faults lists the problems found while converting; report them as
	// gen_metadata with each result.
	Faults []gen.GenerationMetadataStable
}

// ImageFromPop converts a POST /v2/generate/pop response. A pop without a
// job returns an ImagePop whose Dispatch.HasJob is false (with Skipped set)
// and no error. baselineOf resolves the model's baseline (may be nil).
//
// Conversion rules (horde_sdk's, with deliberate deviations marked *):
//   - the prompt is split at the first "###" into prompt and negative prompt;
//   - karras true → scheduler karras, false → normal, absent → unset;
//   - ddim_steps → Steps, n_iter → BatchSize;
//   - source images: an http(s) URL stays a URL (*upstream base64-decoded
//     it); other strings are strictly base64-decoded (*upstream accepted
//     anything Python's lenient decoder swallows, "" included);
//   - *an img2img job whose source_image is absent is plain txt2img without
//     a fault: the server labels every job "img2img" by default (read
//     literally, upstream's rule would fault every txt2img job); an absent
//     source for
//     inpainting, outpainting, remix or ControlNet, or a source image that
//     is present but unusable (empty or undecodable) turns an img2img,
//     inpainting, outpainting, remix or ControlNet job into txt2img and
//     records a source_image/parse_failed fault (once); an undecodable mask
//     is dropped with a source_mask fault;
//   - *an undecodable remix image is skipped with an extra_source_images
//     fault whose ref is its index (upstream crashed);
//   - image_is_control: the image becomes ControlNet.ControlMap and the
//     job is not an img2img;
//   - hires fix: HiresFix is set when requested and its passes are computed
//     by params.ComputeHiresFix when the fix applies (nil passes mean the
//     backend must not run it);
//   - LoRAs, TIs, workflow (+ extra texts; texts without a workflow are
//     dropped) and post-processors (in the API's order) are copied;
//   - R2: one URL per id from r2_uploads (by position), or the obsolete
//     r2_upload for the single id; *an id without a (non-empty) URL takes
//     the base64 return path (upstream refused the job);
//   - *a missing model or prompt is not a conversion error (upstream
//     raised): the job converts and params.Image.Validate reports it; only
//     a job without a payload is an error;
//   - not mapped: special (a moderator-only payload); messages are kept in
//     Dispatch.
func ImageFromPop(pop *gen.GenerationPayloadStable, baselineOf BaselineLookup) (ImagePop, error) {
	job := ImagePop{}
	job.Dispatch = Dispatch{
		IDs:      popIDs(pop.ID, pop.Ids),
		Skipped:  skippedStable(pop.Skipped),
		Messages: pop.Messages,
	}
	if pop.TTL != nil {
		job.Dispatch.TTL = time.Duration(*pop.TTL) * time.Second
	}
	if !job.Dispatch.HasJob() {
		return job, nil
	}
	job.Dispatch.R2Uploads = r2Map(job.Dispatch.IDs, pop.R2Upload, pop.R2Uploads)
	p := pop.Payload
	if p == nil {
		return job, fmt.Errorf("pop %s: payload: missing", job.Dispatch.IDs[0])
	}
	img := &job.Params
	img.Model = deref(pop.Model)
	if baselineOf != nil && img.Model != "" {
		img.Baseline = baselineOf(img.Model)
	}
	img.Prompt, img.NegativePrompt = params.SplitPrompt(deref(p.Prompt))
	fillImageCommon(img, p.Seed, p.SeedVariation, p.Width, p.Height, p.CFGScale, p.ClipSkip, p.DenoisingStrength,
		p.Tiling, p.Transparent, p.FacefixerStrength, p.SamplerName, p.Karras)
	img.Steps = cp(p.DdimSteps)
	img.BatchSize = cp(p.NIter)
	job.UseNSFWCensor = deref(p.UseNSFWCensor)

	sp := params.SourceProcessing("")
	if pop.SourceProcessing != nil {
		sp = params.SourceProcessing(*pop.SourceProcessing)
	}
	src, srcPresent, srcOK := decodeImage(pop.SourceImage)
	var cn *params.ControlNet
	if p.ControlType != nil {
		cn = &params.ControlNet{Type: params.ControlType(*p.ControlType), ReturnControlMap: deref(p.ReturnControlMap)}
	}
	needsSource := sp.NeedsSourceImage() || cn != nil
	switch {
	case !srcPresent:
		// Absent: the server's default label "img2img" means nothing here.
		if sp.NeedsSourceImage() && sp != params.SourceImg2Img || cn != nil {
			job.Faults = append(job.Faults, metadata(gen.MetadataTypeSourceImage, gen.MetadataValueParseFailed, ""))
		}
		sp, cn = params.SourceTxt2Img, nil
	case !srcOK:
		job.Faults = append(job.Faults, metadata(gen.MetadataTypeSourceImage, gen.MetadataValueParseFailed, ""))
		if needsSource {
			sp, cn = params.SourceTxt2Img, nil
		}
	case cn != nil && deref(p.ImageIsControl):
		cn.ControlMap = &src
		sp = params.SourceTxt2Img
	default:
		img.Source = &params.SourceImage{Image: src}
		if mask, present, ok := decodeImage(pop.SourceMask); ok {
			img.Source.Mask = mask
		} else if present && deref(pop.SourceMask) != "" {
			job.Faults = append(job.Faults, metadata(gen.MetadataTypeSourceMask, gen.MetadataValueParseFailed, ""))
		}
	}
	img.ControlNet = cn
	if sp == params.SourceRemix {
		for i, e := range pop.ExtraSourceImages {
			d, _, ok := decodeImage(e.Image)
			if !ok {
				job.Faults = append(job.Faults, metadata(gen.MetadataTypeExtraSourceImages, gen.MetadataValueParseFailed, strconv.Itoa(i)))
				continue
			}
			img.Remix = append(img.Remix, params.RemixImage{Image: d, Strength: cp(e.Strength)})
		}
	}
	img.SourceProcessing = sp
	fillImageComponents(img, p.HiresFix, p.HiresFixDenoisingStrength, p.Loras, p.Tis, p.Workflow, p.ExtraTexts, p.PostProcessing)
	params.ComputeHiresFix(img)
	return job, nil
}

func popIDs(id *string, ids []string) []string {
	if len(ids) > 0 {
		return clone(ids)
	}
	if id != nil && *id != "" {
		return []string{*id}
	}
	return nil
}

func r2Map(ids []string, single *string, many []string) map[string]string {
	m := make(map[string]string, len(ids))
	for i, id := range ids {
		if i < len(many) && many[i] != "" {
			m[id] = many[i]
		}
	}
	if len(many) == 0 && single != nil && *single != "" && len(ids) == 1 {
		m[ids[0]] = *single
	}
	return m
}

func skippedStable(s *gen.NoValidRequestFoundStable) map[string]int {
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
	put("controlnet", s.Controlnet)
	put("img2img", s.Img2Img)
	put("kudos", s.Kudos)
	put("lora", s.Lora)
	put("max_pixels", s.MaxPixels)
	put("models", s.Models)
	put("nsfw", s.NSFW)
	put("painting", s.Painting)
	put("performance", s.Performance)
	put("post-processing", s.PostProcessing)
	put("step_count", s.StepCount)
	put("unsafe_ip", s.UnsafeIP)
	put("untrusted", s.Untrusted)
	put("worker_id", s.WorkerID)
	return m
}

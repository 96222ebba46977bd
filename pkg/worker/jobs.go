package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/adapters"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker/internal/lifecycle"
)

// job is one popped job of any kind, from preparation to its submit bodies.
type job interface {
	kind() horde.Kind
	// model is the job's model (the form's name for alchemy), for metrics.
	model() string
	id() string
	popped() time.Time
	ttl(def time.Duration) time.Duration
	generation() *lifecycle.Generation
	// prepare downloads what the job needs; a failure it can work around is recorded as
	// metadata, not returned.
	prepare(ctx context.Context, w *Worker) error
	// execute runs the job on its backend and stores the results.
	execute(ctx context.Context, w *Worker) error
	// fault marks the job failed: every result is submitted as faulted.
	fault(err error)
	// submissions returns one submission per result id.
	submissions(w *Worker) []*submission
}

// base holds what every kind of job has.
type base struct {
	machine  *lifecycle.Generation
	poppedAt time.Time
	ttlDur   time.Duration
	mu       sync.Mutex
	faulted  error
}

func (b *base) generation() *lifecycle.Generation { return b.machine }
func (b *base) id() string                        { return b.machine.ID() }
func (b *base) popped() time.Time                 { return b.poppedAt }

func (b *base) ttl(def time.Duration) time.Duration {
	if b.ttlDur > 0 {
		return b.ttlDur
	}
	return def
}

func (b *base) fault(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.faulted == nil {
		b.faulted = err
	}
	if !b.machine.State().Final() && b.machine.State() != lifecycle.StateAborted {
		_ = b.machine.Abort(err)
	}
}

func (b *base) faultErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faulted
}

// init makes the generation of a job: black-box mode (the backend is one call), the
// default error limits, except that submitting is bounded by the job's expiry instead (see
// Settings.SubmitAttempts).
func (b *base) init(kind horde.Kind, ids []string, ttl time.Duration) error {
	limits := lifecycle.DefaultErrorLimits()
	delete(limits, lifecycle.StateSubmitting)
	g, err := lifecycle.NewGeneration(ids[0], kind, ids, lifecycle.GenerationOptions{BlackBox: true, ErrorLimits: limits})
	if err != nil {
		return err
	}
	b.machine, b.poppedAt, b.ttlDur = g, time.Now(), ttl
	return nil
}

// runBackend moves the generation through GENERATING around call.
func (b *base) runBackend(call func() error) error {
	if err := b.machine.To(lifecycle.StateGenerating); err != nil {
		return err
	}
	if err := call(); err != nil {
		_ = b.machine.Fail(err)
		return err
	}
	return nil
}

// toPendingSubmit finishes the work stage: through the safety check when there was one.
func (b *base) toPendingSubmit(checked bool) error {
	if checked {
		if err := b.machine.To(lifecycle.StatePendingSafetyCheck); err != nil {
			return err
		}
		if err := b.machine.To(lifecycle.StateSafetyChecking); err != nil {
			return err
		}
	}
	return b.machine.To(lifecycle.StatePendingSubmit)
}

// ---- image ----

type imageWork struct {
	base
	job  adapters.ImagePop
	seed int
	out  map[string]ImageOutput
	// metadata per result id, on top of the job's conversion faults
	meta map[string][]gen.GenerationMetadataStable
}

func newImageWork(pop *gen.GenerationPayloadStable, lookup adapters.BaselineLookup) (*imageWork, error) {
	aj, err := adapters.ImageFromPop(pop, lookup)
	if err != nil {
		return nil, err
	}
	if !aj.Dispatch.HasJob() {
		return nil, nil
	}
	seed, _ := strconv.Atoi(aj.Params.Seed)
	j := &imageWork{job: aj, seed: seed, out: map[string]ImageOutput{}, meta: map[string][]gen.GenerationMetadataStable{}}
	if err := j.init(horde.KindImage, aj.Dispatch.IDs, aj.Dispatch.TTL); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *imageWork) kind() horde.Kind { return horde.KindImage }
func (j *imageWork) model() string    { return j.job.Params.Model }

// prepare downloads the source image, mask, remix images and control map given by URL. A
// failed download does not fail the job: it is recorded (download_failed) and the job runs
// without that image, falling back to txt2img when the source image itself is missing.
func (j *imageWork) prepare(ctx context.Context, w *Worker) error {
	p := &j.job.Params
	fetch := func(d *params.ImageData, typ gen.MetadataType, ref string) bool {
		if d == nil || !d.IsURL() {
			return true
		}
		data, err := w.c.Download(ctx, d.URL)
		if err != nil {
			j.job.Faults = append(j.job.Faults, gen.GenerationMetadataStable{
				Type: typ, Value: gen.MetadataValueDownloadFailed, Ref: &ref})
			w.s.Logger.Warn("worker: source download failed", "id", j.id(), "ref", ref, "error", err)
			return false
		}
		*d = params.ImageData{Data: data}
		return true
	}
	if p.Source != nil {
		if !fetch(&p.Source.Image, gen.MetadataTypeSourceImage, "source_image") {
			p.Source, p.SourceProcessing = nil, ""
			p.DenoisingStrength = nil
		} else if !fetch(&p.Source.Mask, gen.MetadataTypeSourceMask, "source_mask") {
			p.Source.Mask = params.ImageData{}
		}
	}
	kept := p.Remix[:0]
	for i := range p.Remix {
		if fetch(&p.Remix[i].Image, gen.MetadataTypeExtraSourceImages, strconv.Itoa(i)) {
			kept = append(kept, p.Remix[i])
		}
	}
	p.Remix = kept
	if p.ControlNet != nil && p.ControlNet.ControlMap != nil && !fetch(p.ControlNet.ControlMap, gen.MetadataTypeSourceImage, "control_map") {
		p.ControlNet = nil
	}
	return nil
}

func (j *imageWork) execute(ctx context.Context, w *Worker) error {
	return j.runBackend(func() error {
		outs, err := w.b.Image.GenerateImages(ctx, &ImageJob{
			ID: j.id(), Params: j.job.Params, ResultIDs: j.machine.ResultIDs(), UseNSFWCensor: j.job.UseNSFWCensor})
		if err != nil {
			return fmt.Errorf("image backend: %w", err)
		}
		ids := j.machine.ResultIDs()
		if len(outs) != len(ids) {
			return fmt.Errorf("image backend returned %d images for %d ids", len(outs), len(ids))
		}
		for i, id := range ids {
			if len(outs[i].Data) == 0 {
				return fmt.Errorf("image backend returned an empty image %d", i)
			}
			j.out[id] = outs[i]
			if err := j.machine.SetResult(id, outs[i].Data); err != nil {
				return err
			}
			verdict, err := w.verdict(ctx, outs[i], j.job.UseNSFWCensor)
			if err != nil {
				return fmt.Errorf("image %d: %w", i, err)
			}
			censor := verdict.CSAM || (verdict.NSFW && (!w.s.ServeNSFW || j.job.UseNSFWCensor))
			if err := j.machine.SetSafety(id, lifecycle.Safety{NSFW: verdict.NSFW, CSAM: verdict.CSAM, Censored: censor}); err != nil {
				return err
			}
			md := apiMetadata(outs[i].Metadata)
			switch {
			case verdict.CSAM:
				md = append(md, gen.GenerationMetadataStable{Type: gen.MetadataTypeCensorship, Value: gen.MetadataValueCSAM})
			case censor:
				md = append(md, gen.GenerationMetadataStable{Type: gen.MetadataTypeCensorship, Value: gen.MetadataValueNSFW})
			}
			j.meta[id] = md
		}
		w.st.imageSteps.Add(int64(derefInt(j.job.Params.Steps, defaultImageSteps) * len(ids)))
		return j.toPendingSubmit(true)
	})
}

func (j *imageWork) submissions(w *Worker) []*submission {
	faultErr := j.faultErr()
	var subs []*submission
	for _, id := range j.machine.ResultIDs() {
		res := adapters.ImageResult{ID: id, Seed: j.seed, Metadata: j.meta[id]}
		safety, _ := j.machine.Safety(id)
		data, _ := j.machine.Result(id)
		switch {
		case faultErr != nil:
			res.State = gen.SubmitStateFaulted
		case safety.CSAM:
			res.State, res.Censored, res.Image = gen.SubmitStateCSAM, true, censoredImage()
		case safety.Censored:
			res.State, res.Censored, res.Image = gen.SubmitStateCensored, true, censoredImage()
		default:
			res.State, res.Image = gen.SubmitStateOk, data
		}
		body, uploadURL := adapters.ImageSubmit(&j.job, res)
		s := &submission{resultID: id, faulted: faultErr != nil, uploadURL: uploadURL, upload: res.Image}
		s.send = func(ctx context.Context) (float64, error) {
			return reward(w.c.SubmitImageJob(ctx, body))
		}
		subs = append(subs, s)
	}
	return subs
}

// ---- text ----

type textWork struct {
	base
	job  adapters.TextPop
	text string
}

func newTextWork(pop *gen.GenerationPayloadKobold) (*textWork, error) {
	tj, err := adapters.TextFromPop(pop)
	if err != nil {
		return nil, err
	}
	if !tj.Dispatch.HasJob() {
		return nil, nil
	}
	j := &textWork{job: tj}
	if err := j.init(horde.KindText, tj.Dispatch.IDs, tj.Dispatch.TTL); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *textWork) kind() horde.Kind                       { return horde.KindText }
func (j *textWork) model() string                          { return j.job.Params.Model }
func (j *textWork) prepare(context.Context, *Worker) error { return nil }

func (j *textWork) execute(ctx context.Context, w *Worker) error {
	return j.runBackend(func() error {
		tj := &TextJob{ID: j.id(), Params: j.job.Params}
		// The Horde's defaults for a request that names none, capped by what the worker offers
		// (the backend may have narrowed the offer to the served model's context).
		tj.MaxLength = min(derefInt(j.job.Params.MaxLength, 80), w.s.Text.MaxLength)
		tj.MaxContextLength = min(derefInt(j.job.Params.MaxContextLength, 2048), w.s.Text.MaxContextLength)
		out, err := w.b.Text.GenerateText(ctx, tj)
		if err != nil {
			return fmt.Errorf("text backend: %w", err)
		}
		j.text = out.Text
		for _, id := range j.machine.ResultIDs() {
			if err := j.machine.SetResult(id, []byte(out.Text)); err != nil {
				return err
			}
		}
		return j.toPendingSubmit(false)
	})
}

// defaultImageSteps is the server's step count for a job that does not say.
const defaultImageSteps = 30

func derefInt(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func (j *textWork) submissions(w *Worker) []*submission {
	faultErr := j.faultErr()
	var subs []*submission
	for _, id := range j.machine.ResultIDs() {
		state, text := gen.SubmitStateOk, j.text
		if faultErr != nil {
			state, text = gen.SubmitStateFaulted, "faulted"
		}
		body := gen.SubmitInputKobold{ID: id, Generation: &text, State: &state}
		s := &submission{resultID: id, faulted: faultErr != nil}
		s.send = func(ctx context.Context) (float64, error) {
			return reward(w.c.SubmitTextJob(ctx, body))
		}
		subs = append(subs, s)
	}
	return subs
}

// ---- alchemy ----

type alchemyWork struct {
	base
	job adapters.AlchemyPopForm
	out AlchemyOutput
}

// alchemyFormTTL is how long a popped form lives on the server (3 minutes).
const alchemyFormTTL = 3 * time.Minute

func newAlchemyWork(pop *gen.InterrogationPopPayload) ([]*alchemyWork, error) {
	ap := adapters.AlchemyFromPop(pop)
	var out []*alchemyWork
	for _, aj := range ap.Jobs {
		if aj.Op.ResultID == "" {
			return nil, errors.New("an alchemy form without an id")
		}
		j := &alchemyWork{job: aj}
		if err := j.init(horde.KindAlchemy, []string{aj.Op.ResultID}, alchemyFormTTL); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func (j *alchemyWork) kind() horde.Kind { return horde.KindAlchemy }
func (j *alchemyWork) model() string    { return string(j.job.Op.Form) }

func (j *alchemyWork) prepare(ctx context.Context, w *Worker) error {
	if len(j.job.Faults) > 0 {
		return errors.New("the form's source image is unusable")
	}
	src := &j.job.Op.Source
	if src.IsURL() {
		data, err := w.c.Download(ctx, src.URL)
		if err != nil {
			return fmt.Errorf("downloading the source image: %w", err)
		}
		*src = params.ImageData{Data: data}
	}
	if len(src.Data) == 0 {
		return errors.New("the form has no source image")
	}
	return nil
}

func (j *alchemyWork) execute(ctx context.Context, w *Worker) error {
	return j.runBackend(func() error {
		out, err := w.b.Alchemy.Alchemy(ctx, &AlchemyJob{ID: j.id(), Op: j.job.Op})
		if err != nil {
			return fmt.Errorf("alchemy backend: %w", err)
		}
		if out.Result == nil && len(out.Image) == 0 {
			return errors.New("alchemy backend returned nothing")
		}
		j.out = out
		data := out.Image
		if data == nil {
			data = []byte{}
		}
		if err := j.machine.SetResult(j.id(), data); err != nil {
			return err
		}
		return j.toPendingSubmit(false)
	})
}

func (j *alchemyWork) submissions(w *Worker) []*submission {
	faultErr := j.faultErr()
	form := string(j.job.Op.Form)
	state := "ok"
	result := map[string]any{}
	s := &submission{resultID: j.id(), faulted: faultErr != nil}
	switch {
	case faultErr != nil:
		// The server requires a result even for a faulted form; an empty object would be
		// dropped from the body (omitempty), so the form's name carries an empty result.
		state = string(gen.SubmitStateFaulted)
		result[form] = ""
	case len(j.out.Image) > 0 && j.job.R2Upload != "":
		result[form] = "R2"
		s.uploadURL, s.upload = j.job.R2Upload, j.out.Image
	case len(j.out.Image) > 0:
		result[form] = j.out.Image // inline: the server stores what it is given
	default:
		for k, v := range j.out.Result {
			result[k] = v
		}
	}
	id := j.id()
	body := gen.PostInterrogateSubmitJSONRequestBody{ID: &id, Result: result, State: &state}
	s.send = func(ctx context.Context) (float64, error) {
		return reward(w.c.SubmitAlchemyForm(ctx, body))
	}
	return []*submission{s}
}

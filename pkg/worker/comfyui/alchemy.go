package comfyui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

var (
	_ worker.AlchemyBackend      = (*Backend)(nil)
	_ worker.AlchemyOfferLimiter = (*Backend)(nil)
)

// LimitAlchemyOffer reads GET /object_info and keeps of the offer the forms this ComfyUI can
// run: the post-processors it has nodes and model files for (see LimitImageOffer); an offer
// naming no form gets every post-processor it can run. Captions,
// interrogation and NSFW checks are not ComfyUI's: another backend serves them (the vision
// backend, combined with worker.AlchemyByForm).
func (b *Backend) LimitAlchemyOffer(ctx context.Context, o *worker.AlchemyOffer) ([]string, error) {
	oi, err := b.client.ObjectInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading what ComfyUI at %s can run: %w", b.cfg.URL, err)
	}
	if !oi.Has("LoadImage") || !oi.Has("SaveImage") {
		return nil, fmt.Errorf("ComfyUI at %s has no LoadImage or SaveImage node: it cannot post-process", b.cfg.URL)
	}
	pp, missing := findPostProcessors(oi, b.cfg.ModelFiles, b.cfg.BackgroundNode)
	var notes []string
	kept := o.Forms[:0:0]
	for _, f := range o.Forms {
		if _, ok := pp[params.PostProcessor(f)]; ok {
			kept = append(kept, f)
			continue
		}
		why := "ComfyUI does not run it (not a post-processor)"
		if m, ok := missing[params.PostProcessor(f)]; ok {
			why = "ComfyUI cannot run it: " + m
		}
		notes = append(notes, fmt.Sprintf("form %q dropped: %s", f, why))
	}
	if len(o.Forms) == 0 { // no forms named: every post-processor this ComfyUI runs
		for _, p := range params.PostProcessors() {
			if _, ok := pp[p]; ok {
				kept = append(kept, params.AlchemyForm(p))
			}
		}
	}
	o.Forms = kept
	b.mu.Lock()
	if b.oi == nil {
		b.oi = oi
	}
	b.pp = pp
	b.mu.Unlock()
	return notes, nil
}

// Alchemy runs one post-processing form on its source image: LoadImage, the upscaler or face
// fixer, SaveImage; the result is the image as WebP, which the worker uploads as the form's R2
// result. The face fixers take the payload's facefixer_strength (0..1) as their fidelity.
func (b *Backend) Alchemy(ctx context.Context, job *worker.AlchemyJob) (worker.AlchemyOutput, error) {
	if job == nil {
		return worker.AlchemyOutput{}, errors.New("comfyui: nil alchemy job")
	}
	b.mu.Lock()
	oi, pp := b.oi, b.pp
	b.seq++
	prefix := fmt.Sprintf("horde-go-%s-%d", job.ID, b.seq)
	b.mu.Unlock()
	if oi == nil {
		return worker.AlchemyOutput{}, errors.New("comfyui: the backend was not started (LimitAlchemyOffer reads the server first)")
	}
	form := params.PostProcessor(job.Op.Form)
	if _, ok := pp[form]; !ok {
		return worker.AlchemyOutput{}, fmt.Errorf("comfyui: form %q: this ComfyUI cannot run it", job.Op.Form)
	}
	if len(job.Op.Source.Data) == 0 {
		return worker.AlchemyOutput{}, fmt.Errorf("comfyui: form %q: source image not downloaded", job.Op.Form)
	}
	strength := defaultFidelity
	if s, ok := job.Op.Payload["facefixer_strength"]; ok {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 1 {
			return worker.AlchemyOutput{}, fmt.Errorf("comfyui: form %q: payload facefixer_strength %q: want a number in 0..1", job.Op.Form, s)
		}
		strength = v
	}
	name, err := b.client.Upload(ctx, prefix+"-source.png", job.Op.Source.Data)
	if err != nil {
		return worker.AlchemyOutput{}, err
	}
	g, err := postProcessGraph(oi, name, form, pp, strength, prefix)
	if err != nil {
		return worker.AlchemyOutput{}, err
	}
	img, err := b.execute(ctx, g)
	if err != nil {
		return worker.AlchemyOutput{}, fmt.Errorf("form %q: %w", job.Op.Form, err)
	}
	return worker.AlchemyOutput{Image: img}, nil
}

// postProcessGraph is the graph of one alchemy form: the uploaded source through the
// post-processor, saved.
func postProcessGraph(oi ObjectInfo, source string, form params.PostProcessor, pp map[params.PostProcessor]string, strength float64, prefix string) (Graph, error) {
	b := newBuilder()
	image := out(b.add("LoadImage", map[string]any{"image": source}), 0)
	image, err := postProcess(b, image, []params.PostProcessor{form}, pp, oi, strength)
	if err != nil {
		return nil, err
	}
	b.add("SaveImage", map[string]any{"images": image, "filename_prefix": prefix})
	return b.g, nil
}

// PostProcessorsFound returns the post-processors this ComfyUI can run, sorted, as the last
// LimitImageOffer or LimitAlchemyOffer found them.
func (b *Backend) PostProcessorsFound() []params.PostProcessor {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]params.PostProcessor, 0, len(b.pp))
	for p := range b.pp {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

package horde

import (
	"context"
	"fmt"

	"github.com/horde-go/horde/gen"
)

// Image is one generated image.
type Image struct {
	// ID is the generation's id (the job's, not the request's).
	ID string
	// Data is the image file (WebP unless the worker sent another format).
	Data []byte
	// URL is where Data was downloaded from, when the Horde sent a link (R2).
	URL                  string
	Seed                 string
	Model                string
	WorkerID, WorkerName string
	// Censored is true when the worker's safety check replaced the image.
	Censored bool
	Metadata []gen.GenerationMetadataStable
	State    gen.GenerationState
}

// ImageResult is what GenerateImage returns: the images that finished and what the request cost.
type ImageResult struct {
	// ID is the request's id on the Horde.
	ID       string
	Images   []Image
	Kudos    float64
	Message  string
	Warnings []gen.RequestSingleWarning
}

// GenerateImageBody submits an image request body as it is, waits for it (checking at most once a second and
// reading the full status once at the end) and returns the images, downloaded or decoded.
//
// Errors: a refused request gives the *APIError (its RC and Message say why); after the Horde
// accepted it, a *GenerationError wrapping ErrFaulted, ErrNotPossible or the context's error,
// returned with a result that holds whatever finished. When the context ends, the request is
// cancelled on the Horde before GenerateImageBody returns.
func (c *Client) GenerateImageBody(ctx context.Context, req gen.GenerationInputStable, opts ...GenerateOption) (*ImageResult, error) {
	return c.generateImage(ctx, noTracker{}, req, opts)
}

func (c *Client) generateImage(ctx context.Context, tr tracker, req gen.GenerationInputStable, opts []GenerateOption) (*ImageResult, error) {
	cfg := newGenerateConfig(opts)
	r, err := c.raw.PostImageAsyncGenerateWithResponse(ctx, req)
	var body *gen.RequestAsync
	if r != nil {
		body = r.JSON202
	}
	acc, err := accepted(KindImage, r, err, body)
	if err != nil {
		return nil, err
	}
	res := &ImageResult{ID: *acc.ID, Kudos: deref(acc.Kudos), Message: deref(acc.Message), Warnings: acc.Warnings}
	collect := func(ctx context.Context, st *gen.RequestStatusStable) error {
		res.Kudos = deref(st.Kudos)
		images, err := c.images(ctx, st.Generations)
		res.Images = images
		return err
	}
	err = run(ctx, cfg, tr, KindImage, acc,
		func(ctx context.Context) (Progress, error) {
			r, err := c.raw.GetImageAsyncCheckWithResponse(ctx, res.ID)
			st, err := decoded(r, err, func(r *gen.GetImageAsyncCheckResponse) *gen.RequestStatusCheck { return r.JSON200 })
			if err != nil {
				return Progress{}, err
			}
			return checkProgress(KindImage, res.ID, *st), nil
		},
		func(ctx context.Context) error {
			r, err := c.raw.GetImageAsyncStatusWithResponse(ctx, res.ID)
			st, err := decoded(r, err, func(r *gen.GetImageAsyncStatusResponse) *gen.RequestStatusStable { return r.JSON200 })
			if err != nil {
				return fmt.Errorf("reading the results: %w", err)
			}
			return collect(ctx, st)
		},
		func(ctx context.Context) error {
			r, err := c.raw.DeleteImageAsyncStatusWithResponse(ctx, res.ID)
			st, err := decoded(r, err, func(r *gen.DeleteImageAsyncStatusResponse) *gen.RequestStatusStable { return r.JSON200 })
			if err != nil {
				return err
			}
			return collect(ctx, st)
		})
	return res, err
}

// images turns the generations of a status into Images, downloading or decoding each.
func (c *Client) images(ctx context.Context, gens []gen.GenerationStable) ([]Image, error) {
	out := make([]Image, 0, len(gens))
	for i, g := range gens {
		img := Image{
			ID: deref(g.ID), Seed: deref(g.Seed), Model: deref(g.Model),
			WorkerID: deref(g.WorkerID), WorkerName: deref(g.WorkerName),
			Censored: deref(g.Censored), Metadata: g.GenMetadata, State: g.State,
		}
		data, url, err := c.imageData(ctx, deref(g.Img))
		if err != nil {
			return out, fmt.Errorf("image %d (%s): %w", i, img.ID, err)
		}
		img.Data, img.URL = data, url
		out = append(out, img)
	}
	return out, nil
}

// Text is one generated text.
type Text struct {
	Text                 string
	Seed                 int
	Model                string
	WorkerID, WorkerName string
	Metadata             []gen.GenerationMetadataKobold
	State                gen.GenerationState
}

// TextResult is what GenerateText returns.
type TextResult struct {
	ID       string
	Texts    []Text
	Kudos    float64
	Message  string
	Warnings []gen.RequestSingleWarning
}

// GenerateTextBody submits a text request body as it is and waits for it. The text API has no check endpoint: the
// status is polled within its limit (60 a minute per request). Errors as for GenerateImageBody.
func (c *Client) GenerateTextBody(ctx context.Context, req gen.GenerationInputKobold, opts ...GenerateOption) (*TextResult, error) {
	return c.generateText(ctx, noTracker{}, req, opts)
}

func (c *Client) generateText(ctx context.Context, tr tracker, req gen.GenerationInputKobold, opts []GenerateOption) (*TextResult, error) {
	cfg := newGenerateConfig(opts)
	r, err := c.raw.PostTextAsyncGenerateWithResponse(ctx, req)
	var body *gen.RequestAsync
	if r != nil {
		body = r.JSON202
	}
	acc, err := accepted(KindText, r, err, body)
	if err != nil {
		return nil, err
	}
	res := &TextResult{ID: *acc.ID, Kudos: deref(acc.Kudos), Message: deref(acc.Message), Warnings: acc.Warnings}
	var last *gen.RequestStatusKobold
	collect := func(st *gen.RequestStatusKobold) {
		res.Kudos = deref(st.Kudos)
		res.Texts = res.Texts[:0]
		for _, g := range st.Generations {
			res.Texts = append(res.Texts, Text{
				Text: deref(g.Text), Seed: deref(g.Seed), Model: deref(g.Model),
				WorkerID: deref(g.WorkerID), WorkerName: deref(g.WorkerName),
				Metadata: g.GenMetadata, State: g.State,
			})
		}
	}
	err = run(ctx, cfg, tr, KindText, acc,
		func(ctx context.Context) (Progress, error) {
			r, err := c.raw.GetTextAsyncStatusWithResponse(ctx, res.ID)
			st, err := decoded(r, err, func(r *gen.GetTextAsyncStatusResponse) *gen.RequestStatusKobold { return r.JSON200 })
			if err != nil {
				return Progress{}, err
			}
			last = st
			return checkProgress(KindText, res.ID, gen.RequestStatusCheck{
				Done: st.Done, Faulted: st.Faulted, Finished: st.Finished, IsPossible: st.IsPossible,
				Kudos: st.Kudos, Processing: st.Processing, QueuePosition: st.QueuePosition,
				Restarted: st.Restarted, WaitTime: st.WaitTime, Waiting: st.Waiting,
			}), nil
		},
		func(context.Context) error {
			collect(last)
			return nil
		},
		func(ctx context.Context) error {
			r, err := c.raw.DeleteTextAsyncStatusWithResponse(ctx, res.ID)
			st, err := decoded(r, err, func(r *gen.DeleteTextAsyncStatusResponse) *gen.RequestStatusKobold { return r.JSON200 })
			if err != nil {
				return err
			}
			collect(st)
			return nil
		})
	return res, err
}

// FormResult is the outcome of one form of an alchemy request.
type FormResult struct {
	// Form is the form's name (caption, interrogation, nsfw, an upscaler, …).
	Form string
	// State is waiting, processing, done, faulted or cancelled.
	State string
	// Result is the form's result: for example {"caption": "…"}, {"nsfw": true}, or for
	// post-processors a URL to the processed image under the form's name.
	Result map[string]any
}

// AlchemyResult is what Interrogate returns.
type AlchemyResult struct {
	ID      string
	State   string
	Forms   []FormResult
	Message string
}

// InterrogateBody submits an alchemy request body as it is (captioning, interrogation, NSFW check, upscaling,
// face fixing, …) and waits for every form. Its status is polled once a second. A request whose
// forms all faulted gives ErrFaulted; errors otherwise as for GenerateImageBody.
func (c *Client) InterrogateBody(ctx context.Context, req gen.ModelInterrogationInputStable, opts ...GenerateOption) (*AlchemyResult, error) {
	return c.interrogate(ctx, noTracker{}, req, opts)
}

func (c *Client) interrogate(ctx context.Context, tr tracker, req gen.ModelInterrogationInputStable, opts []GenerateOption) (*AlchemyResult, error) {
	cfg := newGenerateConfig(opts)
	r, err := c.raw.PostInterrogateWithResponse(ctx, req)
	var body *gen.RequestAsync
	if r != nil && r.JSON202 != nil {
		body = &gen.RequestAsync{ID: r.JSON202.ID, Message: r.JSON202.Message}
	}
	acc, err := accepted(KindAlchemy, r, err, body)
	if err != nil {
		return nil, err
	}
	res := &AlchemyResult{ID: *acc.ID, Message: deref(acc.Message)}
	collect := func(st *gen.InterrogationStatus) {
		res.State = deref(st.State)
		res.Forms = res.Forms[:0]
		for _, f := range st.Forms {
			form := FormResult{Form: deref(f.Form), State: deref(f.State)}
			if f.Result != nil {
				form.Result = map[string]any(*f.Result)
			}
			res.Forms = append(res.Forms, form)
		}
	}
	var last *gen.InterrogationStatus
	err = run(ctx, cfg, tr, KindAlchemy, acc,
		func(ctx context.Context) (Progress, error) {
			r, err := c.raw.GetInterrogationStatusWithResponse(ctx, res.ID)
			st, err := decoded(r, err, func(r *gen.GetInterrogationStatusResponse) *gen.InterrogationStatus { return r.JSON200 })
			if err != nil {
				return Progress{}, err
			}
			last = st
			return alchemyProgress(res.ID, st), nil
		},
		func(context.Context) error {
			collect(last)
			return nil
		},
		func(ctx context.Context) error {
			r, err := c.raw.DeleteInterrogationStatusWithResponse(ctx, res.ID)
			st, err := decoded(r, err, func(r *gen.DeleteInterrogationStatusResponse) *gen.InterrogationStatus { return r.JSON200 })
			if err != nil {
				return err
			}
			collect(st)
			return nil
		})
	return res, err
}

// alchemyProgress counts an alchemy request's forms by state. The overall state is done or
// faulted only when no form waits or runs; partial means some forms faulted or were cancelled.
func alchemyProgress(id string, st *gen.InterrogationStatus) Progress {
	p := Progress{Kind: KindAlchemy, ID: id, State: deref(st.State), Possible: true}
	for _, f := range st.Forms {
		switch deref(f.State) {
		case "waiting":
			p.Waiting++
		case "processing":
			p.Processing++
		case "done":
			p.Finished++
		case "faulted":
			p.Restarted++
		}
	}
	switch p.State {
	case "done", "partial":
		p.Done = p.Waiting == 0 && p.Processing == 0
	case "faulted":
		p.Done, p.Faulted = true, true
	}
	return p
}

// EstimateImageKudosBody asks the Horde what an image request body would cost, without queueing it
// (dry_run). Should a server queue it anyway, the request is cancelled at once.
func (c *Client) EstimateImageKudosBody(ctx context.Context, req gen.GenerationInputStable) (float64, error) {
	req.DryRun = ptr(true)
	r, err := c.raw.PostImageAsyncGenerateWithResponse(ctx, req)
	if err == nil && r.JSON202 != nil && r.JSON202.ID != nil {
		_ = c.Cancel(context.WithoutCancel(ctx), KindImage, *r.JSON202.ID)
	}
	est, err := decoded(r, err, func(r *gen.PostImageAsyncGenerateResponse) *gen.DryRunKudos { return r.JSON200 })
	if err != nil {
		return 0, fmt.Errorf("horde: estimating the image request: %w", err)
	}
	return est.Kudos, nil
}

// EstimateTextKudosBody asks the Horde what a text request body would cost, without queueing it.
func (c *Client) EstimateTextKudosBody(ctx context.Context, req gen.GenerationInputKobold) (float64, error) {
	req.DryRun = ptr(true)
	r, err := c.raw.PostTextAsyncGenerateWithResponse(ctx, req)
	if err == nil && r.JSON202 != nil && r.JSON202.ID != nil {
		_ = c.Cancel(context.WithoutCancel(ctx), KindText, *r.JSON202.ID)
	}
	est, err := decoded(r, err, func(r *gen.PostTextAsyncGenerateResponse) *gen.DryRunKudos { return r.JSON200 })
	if err != nil {
		return 0, fmt.Errorf("horde: estimating the text request: %w", err)
	}
	return est.Kudos, nil
}

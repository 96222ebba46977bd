package comfyui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // source images and ComfyUI outputs
	_ "image/png"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/HugoSmits86/nativewebp"
	_ "golang.org/x/image/webp" // source images the Horde sends as WebP

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// DefaultURL is where ComfyUI listens by default.
const DefaultURL = "http://127.0.0.1:8188"

// Config configures a Backend.
type Config struct {
	// URL is the ComfyUI server (default DefaultURL).
	URL string
	// ModelFiles maps Horde model names to checkpoint files ComfyUI has
	// ("AlbedoBase XL (SDXL)" → "albedobaseXL_v21.safetensors"). Models of the reference are
	// also found by the file names it lists, when ModelReference is set.
	ModelFiles map[string]string
	// ModelReference is the Horde's image model reference (for its file names).
	ModelReference *params.ImageModelReference
	// BackgroundNode is the class of a background-removal node for strip_background
	// (comfyui_background_node); empty: the first known pack's node the server has.
	BackgroundNode string
	// ImageTimeout bounds one image on ComfyUI (default 10 minutes; the job's ttl also does).
	ImageTimeout time.Duration
	// HTTPClient carries the requests (default a new client).
	HTTPClient *http.Client
	// Logger receives the backend's events (default: discard).
	Logger *slog.Logger
}

// Validate checks the configuration; every error names the field and the rule.
func (c *Config) Validate() error {
	var errs []error
	if c.URL != "" {
		if _, err := NewClient(c.URL, nil); err != nil {
			errs = append(errs, fmt.Errorf("comfyui_url: %w", err))
		}
	}
	for name, file := range c.ModelFiles {
		if strings.TrimSpace(name) == "" || strings.TrimSpace(file) == "" {
			errs = append(errs, fmt.Errorf("comfyui_model_files: %q → %q: both the model name and the file are required", name, file))
		}
	}
	if c.ImageTimeout < 0 {
		errs = append(errs, fmt.Errorf("comfyui_image_timeout: must not be negative, got %v", c.ImageTimeout))
	}
	return errors.Join(errs...)
}

// Backend serves image jobs through a ComfyUI server: it implements worker.ImageBackend and
// worker.ImageOfferLimiter. It has no safety classifier of its own: its images carry no
// verdict (give the worker a worker.SafetyChecker to serve requests that ask for censorship).
type Backend struct {
	cfg    Config
	client *Client
	log    *slog.Logger

	mu         sync.Mutex
	oi         ObjectInfo
	ckpts      map[string]string // Horde model → checkpoint file, of the files ComfyUI has
	stageB     map[string]string // Stable Cascade model → its stage B checkpoint
	flags      params.WorkerFeatureFlags
	embeddings []string
	pp         map[params.PostProcessor]string // post-processor → model file
	cns        map[params.ControlType]controlSupport
	seq        int
}

var (
	_ worker.ImageBackend      = (*Backend)(nil)
	_ worker.ImageOfferLimiter = (*Backend)(nil)
)

// New returns a backend for the configured ComfyUI. It does not connect: LimitImageOffer (at the
// worker's start) reads what the server has.
func New(cfg Config) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.ImageTimeout == 0 {
		cfg.ImageTimeout = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := NewClient(cfg.URL, cfg.HTTPClient)
	if err != nil {
		return nil, err
	}
	return &Backend{cfg: cfg, client: c, log: cfg.Logger}, nil
}

// Client returns the ComfyUI client the backend uses.
func (b *Backend) Client() *Client { return b.client }

// LimitImageOffer reads GET /object_info and narrows the offer to what this ComfyUI can run:
// the models whose checkpoint file it has, img2img and inpainting when its loader and encoder
// nodes exist, LoRAs when it has LoraLoader and LoRA files, post-processing when it can run at
// least one post-processor (upscalers with UpscaleModelLoader and the model file, face fixers
// with the facerestore_cf nodes; a job asking for one it cannot run is refused), ControlNet for
// the control types whose model file it has (SD 1.5 models; the map computed by the type's
// preprocessor node when it has one, else only ready control maps).
func (b *Backend) LimitImageOffer(ctx context.Context, o *worker.ImageOffer) ([]string, error) {
	oi, err := b.client.ObjectInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading what ComfyUI at %s can run: %w", b.cfg.URL, err)
	}
	for _, class := range []string{"CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "VAEDecode", "SaveImage"} {
		if !oi.Has(class) {
			return nil, fmt.Errorf("ComfyUI at %s has no %s node: it cannot run txt2img", b.cfg.URL, class)
		}
	}
	files := oi.Choices("CheckpointLoaderSimple", "ckpt_name")
	ckpts := map[string]string{}
	var notes []string
	if st, err := b.client.SystemStats(ctx); err == nil {
		notes = append(notes, describeSystem(st))
	} // an older ComfyUI without the route says nothing of itself
	kept := o.Models[:0:0]
	stageB := map[string]string{}
	for _, m := range o.Models {
		if b.isCascade(m) {
			if c, bb := b.cascadeFiles(m, files); c != "" && bb != "" {
				ckpts[m], stageB[m] = c, bb
				kept = append(kept, m)
			} else {
				notes = append(notes, fmt.Sprintf("model %q dropped: ComfyUI lacks its stage C or stage B checkpoint (map the stage C file with comfyui_model_files)", m))
			}
			continue
		}
		if f := b.checkpointFor(m, files); f != "" {
			ckpts[m] = f
			kept = append(kept, m)
		} else {
			notes = append(notes, fmt.Sprintf("model %q dropped: ComfyUI has no checkpoint file for it (map it with comfyui_model_files)", m))
		}
	}
	o.Models = kept
	drop := func(on *bool, why string) {
		if *on {
			*on = false
			notes = append(notes, why)
		}
	}
	if !(oi.Has("LoadImage") && oi.Has("VAEEncode") && oi.Has("ImageScale")) {
		drop(&o.AllowImg2Img, "img2img dropped: ComfyUI lacks LoadImage, VAEEncode or ImageScale")
	}
	if !(oi.Has("LoadImage") && oi.Has("LoadImageMask") && oi.Has("VAEEncodeForInpaint")) {
		drop(&o.AllowPainting, "inpainting dropped: ComfyUI lacks LoadImageMask or VAEEncodeForInpaint")
	}
	if !oi.Has("LoraLoader") || len(oi.Choices("LoraLoader", "lora_name")) == 0 {
		drop(&o.AllowLoRA, "LoRAs dropped: ComfyUI has no LoraLoader or no LoRA file")
	}
	embeddings, _ := b.client.Embeddings(ctx) // an older ComfyUI without the route has none
	flags := params.WorkerFeatureFlags{
		Kinds: []string{"image"},
		// One KSampler graph serves these; Flux and Stable Cascade have graphs of their own.
		Baselines: []params.Baseline{params.BaselineSD1, params.BaselineSD2_512, params.BaselineSD2_768, params.BaselineSDXL},
		ClipSkip:  oi.Has("CLIPSetLastLayer"),
		HiresFix:  oi.Has("LatentUpscale"),
		Tiling:    canTile(oi),
		LoRAs:     o.AllowLoRA,
		TIs:       len(embeddings) > 0,
		MaxPixels: o.MaxPixels,
	}
	if hasAll(oi, "BasicScheduler", "KSamplerSelect", "RandomNoise", "CFGGuider", "SamplerCustomAdvanced") {
		flags.Baselines = append(flags.Baselines, params.BaselineFlux1, params.BaselineFluxSchnell, params.BaselineFluxDev)
	}
	if hasAll(oi, "StableCascade_EmptyLatentImage", "StableCascade_StageB_Conditioning", "ConditioningZeroOut") {
		flags.Baselines = append(flags.Baselines, params.BaselineCascade)
	}
	for s := range samplerNames {
		if n, err := samplerName(oi, s); err == nil && n != "" {
			flags.Samplers = append(flags.Samplers, s)
		}
	}
	for _, s := range oi.Choices("KSampler", "scheduler") {
		flags.Schedulers = append(flags.Schedulers, params.Scheduler(s))
	}
	if o.AllowImg2Img {
		flags.SourceProcessing = append(flags.SourceProcessing, params.SourceImg2Img)
	}
	if o.AllowPainting {
		flags.SourceProcessing = append(flags.SourceProcessing, params.SourceInpainting, params.SourceOutpainting)
	}
	if ref := b.cfg.ModelReference; ref != nil {
		kept := o.Models[:0:0]
		for _, m := range o.Models {
			if rec, ok := ref.Get(m); ok && rec.Baseline != "" && !slices.Contains(flags.Baselines, rec.Baseline) {
				notes = append(notes, fmt.Sprintf("model %q dropped: its baseline %s needs a graph this backend does not build yet", m, rec.Baseline))
				delete(ckpts, m)
				continue
			}
			kept = append(kept, m)
		}
		o.Models = kept
	}
	cns, noControl := findControlNets(oi, b.cfg.ModelFiles)
	if len(cns) == 0 {
		drop(&o.AllowControlNet, "ControlNet dropped: ComfyUI can run no control type: "+whyNoControl(noControl))
	} else if o.AllowControlNet {
		for ct, sup := range cns {
			flags.ControlTypes = append(flags.ControlTypes, ct)
			flags.ReturnControlMap = flags.ReturnControlMap || sup.preprocessor != ""
		}
		slices.Sort(flags.ControlTypes)
		flags.ImageIsControl = true
		notes = append(notes, "ControlNet offered for "+controlTypeNames(cns)+" (a type without a preprocessor node takes ready control maps only)")
	}
	drop(&o.AllowSDXLControlNet, "SDXL ControlNet dropped: the ComfyUI backend maps the SD 1.5 control models only")
	pp, missing := findPostProcessors(oi, b.cfg.ModelFiles, b.cfg.BackgroundNode)
	if len(pp) == 0 {
		drop(&o.AllowPostProcessing, "post-processing dropped: ComfyUI can run no post-processor: "+whyMissing(missing))
	} else if o.AllowPostProcessing {
		for p := range pp {
			flags.PostProcessors = append(flags.PostProcessors, p)
		}
		slices.Sort(flags.PostProcessors)
		if len(missing) > 0 {
			notes = append(notes, "post-processing offered with "+postProcessorNames(pp)+"; jobs asking for another are refused: "+whyMissing(missing))
		}
	}
	b.mu.Lock()
	b.oi, b.ckpts, b.stageB, b.flags, b.embeddings, b.pp, b.cns = oi, ckpts, stageB, flags, embeddings, pp, cns
	b.mu.Unlock()
	return notes, nil
}

// checkpointFor finds a model's checkpoint among ComfyUI's files: the configured file, else a
// file the model reference lists for it, else a file named like the model.
func (b *Backend) checkpointFor(model string, files []string) string {
	if f, ok := b.cfg.ModelFiles[model]; ok {
		return matchFile(files, f)
	}
	if b.cfg.ModelReference != nil {
		if rec, ok := b.cfg.ModelReference.Get(model); ok {
			for _, f := range rec.Config.Files {
				if got := matchFile(files, path.Base(f.Path)); got != "" {
					return got
				}
			}
		}
	}
	return matchFile(files, model)
}

// GenerateImages runs one job: one ComfyUI prompt per image, seeds seed, seed+variation, …
// (the Horde's seed_variation), each image re-encoded to lossless WebP.
func (b *Backend) GenerateImages(ctx context.Context, job *worker.ImageJob) ([]worker.ImageOutput, error) {
	img := &job.Params
	b.mu.Lock()
	oi, ckpt, stageB, flags, embeddings, pp, cns := b.oi, b.ckpts[img.Model], b.stageB[img.Model], b.flags, b.embeddings, b.pp, b.cns
	b.seq++
	prefix := fmt.Sprintf("horde-go-%s-%d", job.ID, b.seq)
	b.mu.Unlock()
	if oi == nil {
		return nil, errors.New("comfyui: the backend was not started (LimitImageOffer reads the server first)")
	}
	// A job the backend cannot run is refused before anything is queued, with every reason.
	if ok, reasons := flags.Supports(img.FeatureFlags()); !ok {
		msgs := make([]string, len(reasons))
		for i, r := range reasons {
			msgs[i] = r.String()
		}
		return nil, fmt.Errorf("comfyui: this backend cannot run the job: %s", strings.Join(msgs, "; "))
	}
	if ckpt == "" {
		return nil, fmt.Errorf("comfyui: model %q is not served by this ComfyUI", img.Model)
	}
	r := request{img: img, checkpoint: ckpt, stageB: stageB, prefix: prefix, embeddings: embeddings, postProcessors: pp, controlNets: cns}
	if img.Source != nil && len(img.Source.Image.Data) > 0 {
		var err error
		if r.source, err = b.client.Upload(ctx, prefix+"-source.png", img.Source.Image.Data); err != nil {
			return nil, err
		}
		if len(img.Source.Mask.Data) > 0 {
			if r.mask, err = b.client.Upload(ctx, prefix+"-mask.png", img.Source.Mask.Data); err != nil {
				return nil, err
			}
		}
	}
	if cn := img.ControlNet; cn != nil {
		r.control = r.source // the source, preprocessed
		if cn.ControlMap != nil && len(cn.ControlMap.Data) > 0 {
			var err error
			if r.control, err = b.client.Upload(ctx, prefix+"-control.png", cn.ControlMap.Data); err != nil {
				return nil, err
			}
		}
	}
	seed := seedOf(img.Seed)
	variation := uint64(derefInt(img.SeedVariation, 1))
	outs := make([]worker.ImageOutput, len(job.ResultIDs))
	for i := range job.ResultIDs {
		r.seed = seed + uint64(i)*variation
		data, notes, err := b.run(ctx, oi, r)
		if err != nil {
			return nil, fmt.Errorf("image %d of %d: %w", i+1, len(outs), err)
		}
		outs[i] = worker.ImageOutput{Data: data, Metadata: notes}
	}
	return outs, nil
}

// run generates one image and returns it as WebP.
func (b *Backend) run(ctx context.Context, oi ObjectInfo, r request) ([]byte, []worker.Metadata, error) {
	g, notes, err := buildGraph(oi, r)
	if err != nil {
		return nil, nil, err
	}
	webp, err := b.execute(ctx, g)
	return webp, notes, err
}

// execute runs a graph that saves one image and returns the image as WebP. A cancelled or
// timed-out run is interrupted on ComfyUI.
func (b *Backend) execute(ctx context.Context, g Graph) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.ImageTimeout)
	defer cancel()
	id, h, err := b.client.Execute(ctx, g, nil)
	if err != nil {
		if id != "" && ctx.Err() != nil {
			// The job was cancelled or ran out of time: stop ComfyUI's work on it.
			ictx, icancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer icancel()
			if ierr := b.client.Interrupt(ictx, id); ierr != nil {
				b.log.Warn("comfyui: could not interrupt the prompt", "prompt_id", id, "error", ierr)
			}
		}
		return nil, err
	}
	if len(h.Images) == 0 {
		return nil, errors.New("comfyui: the prompt saved no image")
	}
	png, err := b.client.View(ctx, h.Images[0])
	if err != nil {
		return nil, err
	}
	webp, err := toWebP(png)
	if err != nil {
		return nil, err
	}
	return webp, nil
}

// toWebP re-encodes ComfyUI's PNG as lossless WebP, the format the Horde stores.
func toWebP(data []byte) ([]byte, error) {
	im, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("comfyui: decoding the output image: %w", err)
	}
	var buf bytes.Buffer
	if err := nativewebp.Encode(&buf, im, nil); err != nil {
		return nil, fmt.Errorf("comfyui: encoding WebP: %w", err)
	}
	return buf.Bytes(), nil
}

// ModelFilesFound returns the Horde models this ComfyUI serves and their checkpoint files,
// as LimitImageOffer found them.
func (b *Backend) ModelFilesFound() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]string, len(b.ckpts))
	for k, v := range b.ckpts {
		out[k] = v
	}
	return out
}

// hasAll reports whether the server has every node class.
func hasAll(oi ObjectInfo, classes ...string) bool {
	for _, c := range classes {
		if !oi.Has(c) {
			return false
		}
	}
	return true
}

// describeSystem says which ComfyUI runs on which device, for the start-up log.
func describeSystem(st SystemStats) string {
	desc := "ComfyUI " + st.System.ComfyUIVersion
	if desc == "ComfyUI " {
		desc = "ComfyUI (version not reported)"
	}
	for _, d := range st.Devices {
		desc += fmt.Sprintf(", device %s (%s, %.1f of %.1f GiB free)", d.Name, d.Type, float64(d.VRAMFree)/(1<<30), float64(d.VRAMTotal)/(1<<30))
		if d.Type == "cpu" {
			desc += ": no GPU, every job will be slow"
		}
	}
	return desc
}

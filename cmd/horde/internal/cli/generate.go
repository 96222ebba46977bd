package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// genFlags are the flags every generation command has.
type genFlags struct {
	out    string
	dryRun bool
	wait   bool
	json   bool
}

func (g *genFlags) register(cmd *cobra.Command, dryRun bool) {
	f := cmd.Flags()
	f.StringVarP(&g.out, "out", "o", ".", "directory to save the results in")
	if dryRun {
		f.BoolVar(&g.dryRun, "dry-run", false, "print the kudos cost and do not queue the request")
	}
	f.BoolVar(&g.wait, "wait", false, "keep waiting when no worker can serve the request (instead of cancelling it)")
	f.BoolVar(&g.json, "json", false, "print the result as JSON")
}

func (g *genFlags) options(p *progress) []horde.GenerateOption {
	opts := []horde.GenerateOption{horde.OnProgress(p.update)}
	if g.wait {
		opts = append(opts, horde.WaitWhenImpossible())
	}
	return opts
}

// prompt joins the arguments, so that quoting the prompt is optional.
func prompt(a []string) string { return strings.Join(a, " ") }

func ptrIf[T any](cmd *cobra.Command, name string, v T) *T {
	if cmd.Flags().Changed(name) {
		return &v
	}
	return nil
}

// readImage reads an image file, or keeps an http(s) URL as a URL.
func readImage(what, path string) (params.ImageData, error) {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return params.ImageData{URL: path}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return params.ImageData{}, usagef("reading the %s: %v", what, err)
	}
	return params.ImageData{Data: data}, nil
}

// imageExt names an image file by its content.
func imageExt(data []byte) string {
	switch http.DetectContentType(data) {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	}
	return ".webp"
}

func writeFile(dir, name string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating the output directory: %w", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("saving a result: %w", err)
	}
	return path, nil
}

func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// imageOpts are the flags of the image command.
type imageOpts struct {
	genFlags
	models             []string
	negative           string
	width, height      int
	steps, n, clipSkip int
	sampler, scheduler string
	cfg, denoise       float64
	seed               string
	nsfw, r2, tiling   bool
	hiresFix           bool
	source, mask       string
	sourceProcessing   string
	postProcessing     []string
	loras              []string
	workers            []string
	trusted            bool
}

func (a *app) imageCommand() *cobra.Command {
	var o imageOpts
	cmd := &cobra.Command{
		Use:   "image PROMPT",
		Short: "Generate images",
		Long: `Generate images from PROMPT (text after "###" is the negative prompt), show the request's
progress, and save the images in the output directory. Ctrl-C cancels the request on the Horde.`,
		Example: `  horde image "a lighthouse at dusk ### blurry" -m "AlbedoBase XL (SDXL)" --width 1024 --height 1024
  horde image "a cat" --source cat.png --denoise 0.6 -o out
  horde image "a castle" --dry-run`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error { return a.runImage(cmd, argv, &o) },
	}
	o.genFlags.register(cmd, true)
	f := cmd.Flags()
	f.StringSliceVarP(&o.models, "model", "m", nil, "model(s) to use (repeatable; default: any)")
	f.StringVar(&o.negative, "negative", "", "negative prompt (or put it after ### in PROMPT)")
	f.IntVar(&o.width, "width", 512, "width in pixels (multiple of 64)")
	f.IntVar(&o.height, "height", 512, "height in pixels (multiple of 64)")
	f.IntVar(&o.steps, "steps", 0, "sampling steps (default: the Horde's)")
	f.StringVar(&o.sampler, "sampler", "", "sampler, such as k_euler_a (default: the Horde's)")
	f.StringVar(&o.scheduler, "scheduler", "", "scheduler: karras or normal")
	f.Float64Var(&o.cfg, "cfg", 0, "classifier-free guidance scale (default: the Horde's)")
	f.StringVar(&o.seed, "seed", "", "seed (default: random)")
	f.IntVarP(&o.n, "n", "n", 1, "number of images")
	f.IntVar(&o.clipSkip, "clip-skip", 0, "CLIP layers to skip (1 = none)")
	f.BoolVar(&o.nsfw, "nsfw", false, "allow NSFW results (default: the Horde's)")
	f.BoolVar(&o.r2, "r2", true, "let the Horde deliver images through R2 links")
	f.BoolVar(&o.tiling, "tiling", false, "make a seamlessly tiling image")
	f.BoolVar(&o.hiresFix, "hires-fix", false, "use the two-pass high-resolution fix")
	f.StringVar(&o.source, "source", "", "source image file or URL (img2img, inpainting)")
	f.StringVar(&o.mask, "mask", "", "mask image file or URL (inpainting)")
	f.StringVar(&o.sourceProcessing, "source-processing", "", "img2img, inpainting, outpainting or remix")
	f.Float64Var(&o.denoise, "denoise", 0, "denoising strength for img2img (0.01..1)")
	f.StringSliceVar(&o.postProcessing, "post-processing", nil, "post-processors in order, such as RealESRGAN_x2plus,GFPGAN")
	f.StringSliceVar(&o.loras, "lora", nil, "LoRA as NAME[:STRENGTH] (repeatable)")
	f.StringSliceVar(&o.workers, "worker", nil, "only these worker ids (repeatable)")
	f.BoolVar(&o.trusted, "trusted-workers", false, "only trusted workers")
	return cmd
}

// request builds and validates the image generation the flags describe.
func (o *imageOpts) request(cmd *cobra.Command, argv []string) (params.Image, params.RequestOptions, error) {
	img, opts, err := o.build(cmd, argv)
	if err != nil {
		return img, opts, err
	}
	return img, opts, paramsError(params.ValidateImageRequest(&img, &opts))
}

func (o *imageOpts) build(cmd *cobra.Command, argv []string) (params.Image, params.RequestOptions, error) {
	pos, neg := params.SplitPrompt(prompt(argv))
	if o.negative != "" {
		if neg != "" {
			return params.Image{}, params.RequestOptions{}, usagef("give the negative prompt either after ### or with --negative, not both")
		}
		neg = o.negative
	}
	img := params.Image{
		Prompt: pos, NegativePrompt: neg, Seed: o.seed,
		Width: &o.width, Height: &o.height, BatchSize: &o.n,
		Steps:             ptrIf(cmd, "steps", o.steps),
		CFGScale:          ptrIf(cmd, "cfg", o.cfg),
		ClipSkip:          ptrIf(cmd, "clip-skip", o.clipSkip),
		DenoisingStrength: ptrIf(cmd, "denoise", o.denoise),
		Tiling:            ptrIf(cmd, "tiling", o.tiling),
		Sampler:           params.Sampler(o.sampler),
		Scheduler:         params.Scheduler(o.scheduler),
		SourceProcessing:  params.SourceProcessing(o.sourceProcessing),
	}
	if o.hiresFix {
		img.HiresFix = &params.HiresFix{}
	}
	for _, p := range o.postProcessing {
		img.PostProcessing = append(img.PostProcessing, params.PostProcessor(p))
	}
	for _, l := range o.loras {
		name, strength, found := strings.Cut(l, ":")
		lora := params.LoRA{Name: name}
		if found {
			s, err := strconv.ParseFloat(strength, 64)
			if err != nil {
				return params.Image{}, params.RequestOptions{}, usagef("--lora %q: the strength must be a number", l)
			}
			lora.Model = &s
		}
		img.LoRAs = append(img.LoRAs, lora)
	}
	if o.source != "" {
		src, err := readImage("source image", o.source)
		if err != nil {
			return params.Image{}, params.RequestOptions{}, err
		}
		img.Source = &params.SourceImage{Image: src}
		if o.mask != "" {
			if img.Source.Mask, err = readImage("mask", o.mask); err != nil {
				return params.Image{}, params.RequestOptions{}, err
			}
		}
	} else if o.mask != "" {
		return params.Image{}, params.RequestOptions{}, usagef("--mask needs --source")
	}
	opts := params.RequestOptions{
		Models: o.models, NSFW: ptrIf(cmd, "nsfw", o.nsfw), R2: ptrIf(cmd, "r2", o.r2),
		TrustedWorkers: ptrIf(cmd, "trusted-workers", o.trusted), Workers: o.workers,
	}
	return img, opts, nil
}

// imageSummary is the JSON output of the image command.
type imageSummary struct {
	ID     string          `json:"id"`
	Kudos  float64         `json:"kudos"`
	Images []imageSummary1 `json:"images"`
}

type imageSummary1 struct {
	File     string `json:"file"`
	ID       string `json:"id"`
	Seed     string `json:"seed"`
	Model    string `json:"model"`
	Worker   string `json:"worker"`
	Censored bool   `json:"censored"`
}

func (a *app) runImage(cmd *cobra.Command, argv []string, o *imageOpts) error {
	img, ro, err := o.request(cmd, argv)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if o.dryRun {
		k, err := c.EstimateImageKudos(ctx, img, &ro)
		if err != nil {
			return err
		}
		return dryRunOutput(cmd, o.json, k)
	}
	p := newProgress(a.env, "image", o.n)
	res, genErr := c.GenerateImage(ctx, img, &ro, o.options(p)...)
	p.finish()
	if res == nil || (genErr != nil && len(res.Images) == 0) {
		return genErr
	}
	sum := imageSummary{ID: res.ID, Kudos: res.Kudos, Images: []imageSummary1{}}
	for i, im := range res.Images {
		path, err := writeFile(o.out, fmt.Sprintf("%s-%d%s", res.ID, i, imageExt(im.Data)), im.Data)
		if err != nil {
			return err
		}
		sum.Images = append(sum.Images, imageSummary1{File: path, ID: im.ID, Seed: im.Seed, Model: im.Model, Worker: im.WorkerName, Censored: im.Censored})
	}
	if o.json {
		if err := printJSON(cmd, sum); err != nil {
			return err
		}
	} else {
		for _, im := range sum.Images {
			censored := ""
			if im.Censored {
				censored = ", censored by the worker"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %s (model %s, seed %s, worker %s%s)\n", im.File, im.Model, im.Seed, im.Worker, censored)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "request %s: %d image(s), %.2f kudos\n", res.ID, len(res.Images), res.Kudos)
	}
	return genErr
}

func dryRunOutput(cmd *cobra.Command, asJSON bool, kudos float64) error {
	if asJSON {
		return printJSON(cmd, map[string]float64{"kudos": kudos})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "this request would cost %.2f kudos (nothing was queued)\n", kudos)
	return nil
}

// textOpts are the flags of the text command.
type textOpts struct {
	genFlags
	models            []string
	maxLength, maxCtx int
	n, topK           int
	temperature, topP float64
	stop              []string
	workers           []string
	trusted           bool
	anyBackend        bool
}

func (a *app) textCommand() *cobra.Command {
	var o textOpts
	cmd := &cobra.Command{
		Use:   "text PROMPT",
		Short: "Generate text",
		Long: `Generate text from PROMPT with a text model, show the request's progress, print the text and
save it in the output directory. Ctrl-C cancels the request on the Horde.`,
		Example: `  horde text "Once upon a time" -m koboldcpp/LLaMA2-13B-Psyfighter2 --max-length 200`,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE:    func(cmd *cobra.Command, argv []string) error { return a.runText(cmd, argv, &o) },
	}
	o.genFlags.register(cmd, true)
	f := cmd.Flags()
	f.StringSliceVarP(&o.models, "model", "m", nil, "model(s) to use (repeatable; default: any)")
	f.IntVar(&o.maxLength, "max-length", 0, "most tokens to generate (default: the Horde's, 80)")
	f.IntVar(&o.maxCtx, "max-context", 0, "context length in tokens (default: the Horde's)")
	f.IntVarP(&o.n, "n", "n", 1, "number of texts")
	f.Float64Var(&o.temperature, "temperature", 0, "sampling temperature")
	f.Float64Var(&o.topP, "top-p", 0, "nucleus sampling")
	f.IntVar(&o.topK, "top-k", 0, "top-k sampling")
	f.StringSliceVar(&o.stop, "stop", nil, "stop sequence (repeatable)")
	f.StringSliceVar(&o.workers, "worker", nil, "only these worker ids (repeatable)")
	f.BoolVar(&o.trusted, "trusted-workers", false, "only trusted workers")
	f.BoolVar(&o.anyBackend, "any-backend", false, "also workers whose backend the Horde has not validated (sends validated_backends: false)")
	return cmd
}

// textSummary is the JSON output of the text command.
type textSummary struct {
	ID    string         `json:"id"`
	Kudos float64        `json:"kudos"`
	Texts []textSummary1 `json:"texts"`
}

type textSummary1 struct {
	File   string `json:"file"`
	Text   string `json:"text"`
	Model  string `json:"model"`
	Worker string `json:"worker"`
}

func (a *app) runText(cmd *cobra.Command, argv []string, o *textOpts) error {
	t := params.Text{
		Prompt:           prompt(argv),
		N:                &o.n,
		MaxLength:        ptrIf(cmd, "max-length", o.maxLength),
		MaxContextLength: ptrIf(cmd, "max-context", o.maxCtx),
		Temperature:      ptrIf(cmd, "temperature", o.temperature),
		TopP:             ptrIf(cmd, "top-p", o.topP),
		TopK:             ptrIf(cmd, "top-k", o.topK),
		StopSequences:    o.stop,
	}
	ro := params.RequestOptions{Models: o.models, Workers: o.workers, TrustedWorkers: ptrIf(cmd, "trusted-workers", o.trusted)}
	if o.anyBackend {
		ro.ValidatedBackends = new(false)
	}
	if err := params.ValidateTextRequest(&t, &ro); err != nil {
		return paramsError(err)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if o.dryRun {
		k, err := c.EstimateTextKudos(ctx, t, &ro)
		if err != nil {
			return err
		}
		return dryRunOutput(cmd, o.json, k)
	}
	p := newProgress(a.env, "text", o.n)
	res, genErr := c.GenerateText(ctx, t, &ro, o.options(p)...)
	p.finish()
	if res == nil || (genErr != nil && len(res.Texts) == 0) {
		return genErr
	}
	sum := textSummary{ID: res.ID, Kudos: res.Kudos, Texts: []textSummary1{}}
	for i, tx := range res.Texts {
		path, err := writeFile(o.out, fmt.Sprintf("%s-%d.txt", res.ID, i), []byte(tx.Text))
		if err != nil {
			return err
		}
		sum.Texts = append(sum.Texts, textSummary1{File: path, Text: tx.Text, Model: tx.Model, Worker: tx.WorkerName})
	}
	if o.json {
		if err := printJSON(cmd, sum); err != nil {
			return err
		}
	} else {
		for _, tx := range sum.Texts {
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n\nsaved %s (model %s, worker %s)\n", tx.Text, tx.File, tx.Model, tx.Worker)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "request %s: %d text(s), %.2f kudos\n", res.ID, len(res.Texts), res.Kudos)
	}
	return genErr
}

func (a *app) interrogateCommand() *cobra.Command {
	var g genFlags
	var forms []string
	cmd := &cobra.Command{
		Use:   "interrogate IMAGE",
		Short: "Run alchemy on an image: caption, interrogation, NSFW check, upscaling, …",
		Long: `Run alchemy forms on IMAGE (a file or an http(s) URL), show the progress, print the results
and save them (result.json, and the processed images) in the output directory.`,
		Example: `  horde interrogate cat.webp --forms caption,nsfw
  horde interrogate https://example.com/cat.png --forms RealESRGAN_x4plus -o out`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error { return a.runInterrogate(cmd, argv[0], forms, &g) },
	}
	g.register(cmd, false)
	cmd.Flags().StringSliceVar(&forms, "forms", []string{"caption"}, "forms to run: caption, interrogation, nsfw, or a post-processor")
	return cmd
}

// alchemySummary is the JSON output of the interrogate command.
type alchemySummary struct {
	ID    string         `json:"id"`
	State string         `json:"state"`
	Forms []alchemyForm1 `json:"forms"`
}

type alchemyForm1 struct {
	Form   string         `json:"form"`
	State  string         `json:"state"`
	Result map[string]any `json:"result,omitempty"`
	File   string         `json:"file,omitempty"`
}

func (a *app) runInterrogate(cmd *cobra.Command, image string, forms []string, g *genFlags) error {
	src, err := readImage("image", image)
	if err != nil {
		return err
	}
	al := params.Alchemy{Source: src}
	for _, f := range forms {
		al.Ops = append(al.Ops, params.AlchemyOp{Form: params.AlchemyForm(f)})
	}
	if err := al.Validate(); err != nil {
		return paramsError(err)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	p := newProgress(a.env, "alchemy", len(forms))
	res, genErr := c.Interrogate(cmd.Context(), al, nil, g.options(p)...)
	p.finish()
	if res == nil {
		return genErr
	}
	sum, err := saveAlchemy(cmd.Context(), c, res, g.out)
	if err != nil {
		return err
	}
	if g.json {
		if err := printJSON(cmd, sum); err != nil {
			return err
		}
	} else {
		for _, f := range sum.Forms {
			fmt.Fprintf(cmd.OutOrStdout(), "%s (%s): %s\n", f.Form, f.State, formResult(f))
		}
		fmt.Fprintf(cmd.OutOrStdout(), "request %s: saved %s\n", res.ID, filepath.Join(g.out, res.ID+".json"))
	}
	return genErr
}

// formResult is a form's result on one line.
func formResult(f alchemyForm1) string {
	if f.File != "" {
		return "saved " + f.File
	}
	if c, ok := f.Result["caption"].(string); ok {
		return c
	}
	b, _ := json.Marshal(f.Result)
	return string(b)
}

// saveAlchemy downloads the image results and saves them, and the whole result as JSON.
func saveAlchemy(ctx context.Context, c *horde.Client, res *horde.AlchemyResult, dir string) (alchemySummary, error) {
	sum := alchemySummary{ID: res.ID, State: res.State, Forms: []alchemyForm1{}}
	for _, f := range res.Forms {
		af := alchemyForm1{Form: f.Form, State: f.State, Result: f.Result}
		if u, ok := f.Result[f.Form].(string); ok && (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
			data, err := c.Download(ctx, u)
			if err != nil {
				return sum, fmt.Errorf("downloading the %s result: %w", f.Form, err)
			}
			if af.File, err = writeFile(dir, fmt.Sprintf("%s-%s%s", res.ID, f.Form, imageExt(data)), data); err != nil {
				return sum, err
			}
		}
		sum.Forms = append(sum.Forms, af)
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return sum, err
	}
	_, err = writeFile(dir, res.ID+".json", append(b, '\n'))
	return sum, err
}

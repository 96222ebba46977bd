package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/bridgedata"
	"github.com/horde-go/horde/pkg/worker/comfyui"
	"github.com/horde-go/horde/pkg/worker/openai"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

// workerOpts are the flags of the worker command.
type workerOpts struct {
	config               string
	image, text, alchemy string
	modelRef             string
	statusEvery          time.Duration
	allowTestBackends    bool
	metricsAddr          string
	comfyURL             string
	allowUnchecked       bool
	visionURL            string
	comfySafetyNode      string
}

func (a *app) workerCommand() *cobra.Command {
	var o workerOpts
	cmd := &cobra.Command{
		Use:   "worker --config bridgeData.yaml",
		Short: "Run a worker that serves the Horde",
		Long: `Run a worker configured by a bridge YAML file (the AI Horde workers' bridgeData.yaml; api_key,
horde_url, worker names, models, forms, kai_url, …; AI_HORDE_API_KEY and AI_HORDE_URL override
it, and so do --api-key and --url). Each kind of work is served by the backend chosen with the
--*-backend flags: "openai" is an OpenAI-compatible text server at kai_url (llama.cpp, vLLM,
KoboldCpp, …); "test" is horde-go's synthetic backends, for trying a worker without a GPU: they
serve only a Horde on this machine or a horde-go simulator (a real Horde flags their instant
results, and real people would receive them) unless --allow-test-backends is given.
A status line shows jobs and kudos. Ctrl-C stops popping and drains the jobs in flight.`,
		Example: `  horde worker --config bridgeData.yaml
  horde worker --config bridgeData.yaml --text-backend test --alchemy-backend test`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runWorker(cmd, &o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "", "the bridge YAML file (required)")
	f.StringVar(&o.image, "image-backend", "none", "image backend: none, comfyui or test")
	f.StringVar(&o.comfyURL, "comfyui-url", "", "the ComfyUI server of the comfyui image backend (default: comfyui_url, else http://127.0.0.1:8188)")
	f.BoolVar(&o.allowUnchecked, "allow-unchecked-images", false, "serve images with no safety checker: jobs that need an NSFW verdict are then faulted")
	f.StringVar(&o.text, "text-backend", "openai", "text backend: openai, test or none")
	f.StringVar(&o.alchemy, "alchemy-backend", "none", "alchemy backends: none, or vision, comfyui or test, several separated by commas (vision,comfyui: captions and NSFW checks from the vision server, post-processing on ComfyUI)")
	f.StringVar(&o.comfySafetyNode, "comfyui-safety-node", "", "a node of your ComfyUI that blacks out unsafe images, to check the generated ones (default: comfyui_safety_node; see docs/comfyui.md)")
	f.StringVar(&o.visionURL, "vision-url", "", "an OpenAI-compatible vision server for captions, NSFW checks and the image safety check (default: vision_url)")
	f.StringVar(&o.modelRef, "model-reference", "", "image model reference JSON file (default: fetched from upstream)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics (/metrics) and health (/healthz) at this address, such as 127.0.0.1:9099")
	f.BoolVar(&o.allowTestBackends, "allow-test-backends", false, "let the test backends serve a Horde that is neither on this machine nor a simulator")
	f.DurationVar(&o.statusEvery, "status-interval", 0, "how often the status line is written (default 1s on a terminal, 30s otherwise)")
	return cmd
}

func (o *workerOpts) backends(cfg *bridgedata.Config) (worker.Backends, error) {
	var b worker.Backends
	switch o.image {
	case "none":
	case "test":
		b.Image = &testbackend.Image{}
	case "comfyui":
		be, err := o.comfyBackend(cfg)
		if err != nil {
			return b, err
		}
		b.Image = be
	default:
		return b, usagef("--image-backend must be none, comfyui or test, not %q", o.image)
	}
	switch o.text {
	case "none":
	case "test":
		b.Text = &testbackend.Text{}
	case "openai":
		be, err := openai.New(openai.Config{BaseURL: cfg.TextBackendURL, Model: cfg.TextModel,
			MaxLength: cfg.MaxLength, MaxContextLength: cfg.MaxContextLength})
		if err != nil {
			return b, fmt.Errorf("the text backend (kai_url in the configuration): %w", err)
		}
		b.Text = be
	default:
		return b, usagef("--text-backend must be openai, test or none, not %q", o.text)
	}
	if o.alchemy != "none" {
		var bs []worker.AlchemyBackend
		for _, name := range strings.Split(o.alchemy, ",") {
			switch name {
			case "test":
				bs = append(bs, &testbackend.Alchemy{})
			case "vision":
				v, err := o.visionBackend(cfg)
				if err != nil {
					return b, err
				}
				if v == nil {
					return b, usagef("--alchemy-backend vision needs vision_url in the configuration or --vision-url")
				}
				bs = append(bs, v)
			case "comfyui":
				// One ComfyUI serves both kinds: the image backend's, when there is one.
				be, ok := b.Image.(*comfyui.Backend)
				if !ok {
					var err error
					if be, err = o.comfyClient(cfg); err != nil {
						return b, err
					}
				}
				bs = append(bs, be)
			default:
				return b, usagef("--alchemy-backend must be none, or vision, comfyui or test separated by commas, not %q", o.alchemy)
			}
		}
		b.Alchemy = bs[0]
		if len(bs) > 1 {
			b.Alchemy = worker.NewAlchemyByForm(bs...)
		}
	}
	if b.Image == nil && b.Text == nil && b.Alchemy == nil {
		return b, usagef("no backend: choose at least one with --image-backend, --text-backend or --alchemy-backend")
	}
	return b, nil
}

func (a *app) runWorker(cmd *cobra.Command, o *workerOpts) error {
	if o.config == "" {
		return usagef("--config is required: the bridge YAML file")
	}
	// Check the backend names before reading the file: they are usage errors.
	for _, c := range []struct{ flag, val, allowed string }{
		{"--image-backend", o.image, "none comfyui test"}, {"--text-backend", o.text, "openai test none"},
	} {
		if !slices.Contains(strings.Fields(c.allowed), c.val) {
			return usagef("%s must be one of %s, not %q", c.flag, strings.Join(strings.Fields(c.allowed), ", "), c.val)
		}
	}
	if o.alchemy != "none" {
		for _, name := range strings.Split(o.alchemy, ",") {
			if !slices.Contains([]string{"vision", "comfyui", "test"}, name) {
				return usagef("--alchemy-backend must be none, or vision, comfyui or test separated by commas (vision,comfyui), not %q", o.alchemy)
			}
		}
	}
	if o.image == "none" && o.text == "none" && o.alchemy == "none" {
		return usagef("no backend: choose at least one with --image-backend, --text-backend or --alchemy-backend")
	}
	cfg, _, err := bridgedata.Load(o.config)
	if err != nil {
		return fmt.Errorf("the configuration %s: %w", o.config, err)
	}
	// The environment, then the flags, override the file; the key is never printed.
	if err := cfg.ApplyEnv(func(k string) (string, bool) { v := a.env.Getenv(k); return v, v != "" }); err != nil {
		return err
	}
	if a.apiKey != "" {
		cfg.APIKey = a.apiKey
	}
	if a.url != "" {
		cfg.HordeURL = a.url
	}
	b, err := o.backends(cfg)
	if err != nil {
		return err
	}
	if (o.image == "test" || o.text == "test" || slices.Contains(strings.Split(o.alchemy, ","), "test")) && !o.allowTestBackends {
		why, err := testBackendTarget(cmd.Context(), http.DefaultClient, cfg.HordeURL)
		if err != nil {
			return usagef("%v", err)
		}
		a.logger().Info("worker: test backends allowed", "why", why)
	}
	opts := bridgedata.Options{Logger: a.logger()}
	if b.Image != nil {
		// A safety node of the user's ComfyUI, or a vision server, checks the images of a backend
		// that gives no verdict.
		checker, err := o.imageSafety(cmd.Context(), cfg, b.Image)
		if err != nil {
			return err
		}
		if checker != nil {
			opts.Tune = func(s *worker.Settings) { s.Safety = checker }
		}
	}
	if a.agent != "" {
		opts.ClientOptions = append(opts.ClientOptions, horde.WithClientAgent(a.agent))
	}
	if a.timeout > 0 {
		opts.ClientOptions = append(opts.ClientOptions, horde.WithRequestTimeout(a.timeout))
	}
	if o.modelRef != "" {
		ref, err := params.LoadImageModelReferenceFile(o.modelRef)
		if err != nil {
			return usagef("--model-reference: %v", err)
		}
		opts.ModelReference = ref
	}
	every := o.statusEvery
	if every <= 0 {
		every = 30 * time.Second
		if a.env.Terminal {
			every = time.Second
		}
	}
	ctx := cmd.Context()
	if o.metricsAddr != "" {
		stop, err := a.serveMetrics(o.metricsAddr, cfg.MaxThreads, &opts)
		if err != nil {
			return err
		}
		defer stop()
	}
	w, err := bridgedata.NewWorker(ctx, cfg, b, opts)
	if err != nil {
		return err
	}
	statusDone := make(chan struct{})
	statusCtx, stopStatus := context.WithCancel(context.Background())
	go func() {
		defer close(statusDone)
		fmt.Fprintf(a.env.Stderr, "worker running against %s; Ctrl-C to stop\n", cfg.HordeURL)
		go func() {
			select {
			case <-a.env.Abort:
				w.Abort()
			case <-statusCtx.Done():
			}
		}()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				writeStatus(a.env.Stderr, a.env.Terminal, w.Stats())
			case <-statusCtx.Done():
				if a.env.Terminal {
					fmt.Fprintln(a.env.Stderr)
				}
				fmt.Fprintln(a.env.Stderr, "worker stopped: "+statusLine(w.Stats()))
				return
			}
		}
	}()
	err = w.Run(ctx)
	stopStatus()
	<-statusDone
	if err != nil {
		return err
	}
	return nil
}

// statusLine summarises a worker's stats on one line.
func statusLine(s worker.Stats) string {
	rate := 0.0
	if m := s.Uptime.Minutes(); m > 0 {
		rate = float64(s.Done) / m
	}
	return fmt.Sprintf("jobs %d done, %d faulted, %d in flight; %.2f kudos; %.1f jobs/min; %.1f it/s; up %s",
		s.Done, s.Faulted, s.InFlight, s.Kudos, rate, s.ItPerSecond(), s.Uptime.Round(time.Second))
}

func writeStatus(w io.Writer, terminal bool, s worker.Stats) {
	if terminal {
		fmt.Fprintf(w, "\r\033[K%s", statusLine(s))
		return
	}
	fmt.Fprintln(w, statusLine(s))
}

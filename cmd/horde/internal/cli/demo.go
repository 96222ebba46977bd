package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png" // the alchemy source may be PNG
	"net/http"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	_ "golang.org/x/image/webp" // decode the image to report its size

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

// The demo's accounts on its private simulator.
const (
	demoUserKey    = "horde-demo-user-key"
	demoOwnerKey   = "horde-demo-worker-key"
	demoImageModel = "stable_diffusion"
	demoTextModel  = "horde-demo/tiny-storyteller"
)

// demoResult is one line of the demo's summary (and of summary.json).
type demoResult struct {
	Kind    string  `json:"kind"`
	ID      string  `json:"id"`
	Kudos   float64 `json:"kudos"`
	Seconds float64 `json:"seconds"`
	File    string  `json:"file"`
	Detail  string  `json:"detail"`
}

func (a *app) demoCommand() *cobra.Command {
	var out, addr string
	var size int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole AI Horde on this machine: a Horde, a worker and a client",
		Long: `Start the AI Horde simulator on a loopback port and a worker with horde-go's synthetic
backends, then generate an image, a text and an alchemy caption of the image through the client,
with live progress. The results go to the output directory. No account or network is needed.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if size < 64 || size > 2048 || size%64 != 0 {
				return usagef("--size must be a multiple of 64 between 64 and 2048, not %d", size)
			}
			return a.runDemo(cmd.Context(), cmd, out, addr, size)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "horde-demo", "directory for the results")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "address of the simulator (port 0: any free port)")
	cmd.Flags().IntVar(&size, "size", 512, "width and height of the image")
	return cmd
}

func (a *app) runDemo(ctx context.Context, cmd *cobra.Command, out, addr string, size int) (err error) {
	stdout := cmd.OutOrStdout()
	begin := time.Now()
	// The demo takes seconds; should something hang, it ends with an error instead.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// 1. The Horde: the simulator, on a loopback port, with a requester and a worker owner.
	sim := hordetest.NewUnstartedServer(
		hordetest.WithUser(hordetest.User{Name: "demo", APIKey: demoUserKey, Kudos: 1e6}),
		hordetest.WithUser(hordetest.User{Name: "demo-worker-owner", APIKey: demoOwnerKey, Trusted: true}),
		hordetest.WithRateLimits(false), hordetest.WithTextModels(demoTextModel), hordetest.WithImageModels(demoImageModel),
	)
	simCtx, stopSim := context.WithCancel(context.WithoutCancel(ctx))
	host, waitSim, err := serve(simCtx, addr, sim.Handler())
	if err != nil {
		stopSim()
		return err
	}
	defer func() {
		stopSim()
		if serr := waitSim(); serr != nil && err == nil {
			err = serr
		}
	}()
	url := "http://" + host + "/api/"
	fmt.Fprintln(stdout, "horde demo: an AI Horde, a worker and a client, all on this machine")
	fmt.Fprintf(stdout, "  Horde   the simulator at %s\n", url)

	// 2. The worker: horde-go's worker loop with the synthetic backends.
	// The clients share a transport whose idle connections are closed before the simulator
	// stops, so that it stops at once.
	transport := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}
	owner, err := horde.NewClient(horde.WithBaseURL(url), horde.WithAPIKey(demoOwnerKey), horde.WithLogger(a.logger()), horde.WithHTTPClient(hc))
	if err != nil {
		return err
	}
	// The worker tells the truth about what it is (worker.DefaultBridgeAgent). The Horde, and
	// the simulator like it, sends R2 uploads and feature-gated jobs only to bridges it knows,
	// so the demo's image request asks for an inline image (r2 false) instead of having the
	// worker impersonate another bridge.
	settings := worker.Settings{
		Image: &worker.ImageOffer{Name: "horde-demo-dreamer", Models: []string{demoImageModel}, MaxPixels: 2048 * 2048},
		Text: &worker.TextOffer{Name: "horde-demo-scribe", Models: []string{demoTextModel},
			MaxLength: 512, MaxContextLength: 4096},
		Alchemy: &worker.AlchemyOffer{Name: "horde-demo-alchemist", Forms: []params.AlchemyForm{params.FormCaption}},
		Threads: 3, QueueSize: 1, ServeNSFW: true,
		PopInterval: 50 * time.Millisecond, PopErrorInterval: 200 * time.Millisecond,
		SubmitBackoff: 50 * time.Millisecond, DrainTimeout: 5 * time.Second,
		Logger: a.logger(),
	}
	w, err := worker.New(owner, settings, worker.Backends{
		Image: &testbackend.Image{}, Text: &testbackend.Text{MaxWords: 60}, Alchemy: &testbackend.Alchemy{},
	})
	if err != nil {
		return err
	}
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan error, 1)
	go func() { workerDone <- w.Run(workerCtx) }()
	workerStopped := false
	stopTheWorker := func() error {
		if workerStopped {
			return nil
		}
		workerStopped = true
		stopWorker()
		return <-workerDone
	}
	defer func() { _ = stopTheWorker() }()
	fmt.Fprintln(stdout, "  worker  horde-demo-dreamer, -scribe and -alchemist, with synthetic backends")
	fmt.Fprintln(stdout, "  client  the 'demo' account")
	fmt.Fprintln(stdout)

	// 3. The client: an image, a text, and a caption of the image.
	client, err := horde.NewClient(horde.WithBaseURL(url), horde.WithAPIKey(demoUserKey), horde.WithLogger(a.logger()), horde.WithHTTPClient(hc))
	if err != nil {
		return err
	}
	var results []demoResult

	img := params.Image{Prompt: "a lighthouse on a cliff at dusk, oil painting", NegativePrompt: "blurry",
		Model: demoImageModel, Width: &size, Height: &size, Steps: ptr(20), Seed: "42"}
	fmt.Fprintf(stdout, "image: %q\n", img.Prompt)
	t0 := time.Now()
	p := newProgress(a.env, "image", 1)
	imgRes, err := client.GenerateImage(ctx, img, &params.RequestOptions{R2: ptr(false)}, waitOpts(p)...)
	p.finish()
	if err != nil {
		return err
	}
	if len(imgRes.Images) == 0 {
		return fmt.Errorf("image request %s finished without an image", imgRes.ID)
	}
	im := imgRes.Images[0]
	imgFile, err := writeFile(out, "image"+imageExt(im.Data), im.Data)
	if err != nil {
		return err
	}
	detail := "an image"
	if cfg, _, derr := image.DecodeConfig(strings.NewReader(string(im.Data))); derr == nil {
		detail = fmt.Sprintf("%d×%d image, seed %s", cfg.Width, cfg.Height, im.Seed)
	}
	results = append(results, demoResult{"image", imgRes.ID, imgRes.Kudos, time.Since(t0).Seconds(), imgFile, detail})

	txt := params.Text{Prompt: "Tell a very short story about a lighthouse keeper.", Model: demoTextModel, MaxLength: ptr(60)}
	fmt.Fprintf(stdout, "text: %q\n", txt.Prompt)
	t0 = time.Now()
	p = newProgress(a.env, "text", 1)
	txtRes, err := client.GenerateText(ctx, txt, nil, waitOpts(p)...)
	p.finish()
	if err != nil {
		return err
	}
	if len(txtRes.Texts) == 0 {
		return fmt.Errorf("text request %s finished without a text", txtRes.ID)
	}
	txtFile, err := writeFile(out, "text.txt", []byte(txtRes.Texts[0].Text+"\n"))
	if err != nil {
		return err
	}
	results = append(results, demoResult{"text", txtRes.ID, txtRes.Kudos, time.Since(t0).Seconds(), txtFile,
		fmt.Sprintf("%d words", len(strings.Fields(txtRes.Texts[0].Text)))})

	al := params.Alchemy{Source: params.ImageData{Data: im.Data}, Ops: []params.AlchemyOp{{Form: params.FormCaption}}}
	fmt.Fprintln(stdout, "alchemy: a caption of the image")
	t0 = time.Now()
	p = newProgress(a.env, "alchemy", 1)
	alRes, err := client.Interrogate(ctx, al, nil, waitOpts(p)...)
	p.finish()
	if err != nil {
		return err
	}
	caption := ""
	for _, f := range alRes.Forms {
		if c, ok := f.Result["caption"].(string); ok {
			caption = c
		}
	}
	capFile, err := writeFile(out, "caption.txt", []byte(caption+"\n"))
	if err != nil {
		return err
	}
	results = append(results, demoResult{"alchemy", alRes.ID, 0, time.Since(t0).Seconds(), capFile, fmt.Sprintf("caption %q", caption)})

	// 4. The summary.
	if err := stopTheWorker(); err != nil {
		return fmt.Errorf("the demo worker: %w", err)
	}
	st := w.Stats()
	sum, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if _, err := writeFile(out, "summary.json", append(sum, '\n')); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tREQUEST\tKUDOS\tTIME\tRESULT")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.1fs\t%s (%s)\n", r.Kind, r.ID, r.Kudos, r.Seconds, r.File, r.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nThe worker did %d jobs (%d faulted) and earned %.2f kudos. Done in %.1fs; results in %s%c\n",
		st.Done, st.Faulted, st.Kudos, time.Since(begin).Seconds(), filepath.Clean(out), filepath.Separator)
	fmt.Fprintln(stdout, "Next: 'horde sim serve' for a Horde of your own, or 'horde image \"a prompt\"' against aihorde.net.")
	return nil
}

// waitOpts show progress and wait while no worker can serve the request: the demo's worker
// becomes known to the Horde at its first pop, which may come after the request.
func waitOpts(p *progress) []horde.GenerateOption {
	return []horde.GenerateOption{horde.OnProgress(p.update), horde.WaitWhenImpossible()}
}

func ptr[T any](v T) *T { return &v }

package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
)

// parseUser reads NAME:KEY[:ROLES][:KUDOS], ROLES a comma-separated list of trusted,
// moderator, customizer and admin; the two optional parts may come in either order.
func parseUser(v string) (hordetest.User, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 4 || parts[0] == "" || parts[1] == "" {
		return hordetest.User{}, usagef("--user %q: want NAME:KEY[:ROLES][:KUDOS]", v)
	}
	u := hordetest.User{Name: parts[0], APIKey: parts[1], Kudos: 1e6}
	for _, p := range parts[2:] {
		if k, err := strconv.ParseFloat(p, 64); err == nil {
			u.Kudos = k
			continue
		}
		for _, role := range strings.Split(p, ",") {
			switch role {
			case "trusted":
				u.Trusted = true
			case "moderator":
				u.Moderator = true
			case "customizer":
				u.Customizer = true
			case "admin":
				u.Admin = true
			case "":
			default:
				return hordetest.User{}, usagef("--user %q: unknown role %q (trusted, moderator, customizer, admin)", v, role)
			}
		}
	}
	return u, nil
}

// parseFault reads ROUTE:SPEC[,SPEC...] with SPEC one of 500=P, 502=P, 503=P, reset=P,
// truncate=P, invalid-json=P (probabilities) or latency=DURATION.
func parseFault(v string) (string, hordetest.Fault, error) {
	route, specs, ok := strings.Cut(v, ":")
	if !ok || route == "" || specs == "" {
		return "", hordetest.Fault{}, usagef("--fault %q: want ROUTE:KIND=VALUE[,KIND=VALUE], such as '*:503=0.1,latency=200ms'", v)
	}
	var f hordetest.Fault
	for _, s := range strings.Split(specs, ",") {
		k, val, ok := strings.Cut(s, "=")
		if !ok {
			return "", f, usagef("--fault %q: %q is not KIND=VALUE", v, s)
		}
		if k == "latency" {
			d, err := time.ParseDuration(val)
			if err != nil {
				return "", f, usagef("--fault %q: latency: %v", v, err)
			}
			f.Latency = d
			continue
		}
		p, err := strconv.ParseFloat(val, 64)
		if err != nil || p < 0 || p > 1 {
			return "", f, usagef("--fault %q: %s wants a probability between 0 and 1", v, k)
		}
		switch k {
		case "500":
			f.Error500 = p
		case "502":
			f.Error502 = p
		case "503":
			f.Error503 = p
		case "reset":
			f.Reset = p
		case "truncate":
			f.Truncate = p
		case "invalid-json":
			f.InvalidJSON = p
		default:
			return "", f, usagef("--fault %q: unknown kind %q (500, 502, 503, reset, truncate, invalid-json, latency)", v, k)
		}
	}
	return route, f, nil
}

// serve serves h on addr until ctx ends; it returns the listener's address at once and a wait
// function that shuts the server down once ctx ended and reports how serving ended.
func serve(ctx context.Context, addr string, h http.Handler) (string, func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("cannot listen on %s: %w (choose another --addr)", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	wait := func() error {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		}
		// Shutdown waits for requests in flight; a connection a client opened but never used
		// counts as busy for 5 s, so after a short grace the rest are closed.
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
			return serr
		}
		return nil
	}
	return ln.Addr().String(), wait, nil
}

func (a *app) simCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "The AI Horde simulator",
		Args:  args(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return usagef("sim needs a sub-command: serve") },
	}
	var (
		addr                    string
		users, faults           []string
		auto, limits, maint     bool
		delay                   time.Duration
		seed                    uint64
		imageModels, textModels []string
		imageRef, textRef       string
	)
	serveCmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the AI Horde simulator, for tests in any language",
		Long: `Serve the simulator of package hordetest: the AI Horde API (v2) with its validation, queues,
kudos, workers and errors, in memory. It prints its URL and the API keys it accepts, and stops
on Ctrl-C. With auto-fulfilment on, a built-in worker finishes every job after --fulfil-delay.`,
		Example: `  horde sim serve --addr 127.0.0.1:7001 --user alice:alice-key:trusted,moderator
  horde sim serve --fault '*:503=0.05' --fault 'post_image_async_generate:latency=500ms'
  AI_HORDE_URL=http://127.0.0.1:7001/api/ AI_HORDE_API_KEY=alice-key horde status`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := []hordetest.Option{hordetest.WithSeed(seed), hordetest.WithRateLimits(limits),
				hordetest.WithMaintenance(maint), hordetest.WithImageModels(imageModels...), hordetest.WithTextModels(textModels...)}
			if auto {
				opts = append(opts, hordetest.WithAutoFulfil(delay))
			}
			if imageRef != "" || textRef != "" {
				img, txt, err := loadReferences(imageRef, textRef)
				if err != nil {
					return err
				}
				opts = append(opts, hordetest.WithModelReference(img, txt))
			}
			if len(users) == 0 {
				users = []string{"sim-user:sim-user-key:trusted:1000000"}
			}
			var parsed []hordetest.User
			for _, u := range users {
				usr, err := parseUser(u)
				if err != nil {
					return err
				}
				parsed = append(parsed, usr)
				opts = append(opts, hordetest.WithUser(usr))
			}
			type routeFault struct {
				route string
				f     hordetest.Fault
			}
			var fs []routeFault
			for _, v := range faults {
				r, f, err := parseFault(v)
				if err != nil {
					return err
				}
				fs = append(fs, routeFault{r, f})
			}
			sim := hordetest.NewUnstartedServer(opts...)
			for _, f := range fs {
				sim.Faults().Set(f.route, f.f)
			}
			host, wait, err := serve(cmd.Context(), addr, sim.Handler())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "AI Horde simulator listening on http://%s/api/\n", host)
			for _, u := range parsed {
				var roles []string
				for _, r := range []struct {
					on   bool
					name string
				}{{u.Trusted, "trusted"}, {u.Moderator, "moderator"}, {u.Customizer, "customizer"}, {u.Admin, "admin"}} {
					if r.on {
						roles = append(roles, r.name)
					}
				}
				fmt.Fprintf(out, "  user %s: API key %s, %.0f kudos, roles [%s]\n", u.Name, u.APIKey, u.Kudos, strings.Join(roles, ","))
			}
			fmt.Fprintf(out, "  anonymous: API key %s\n", hordetest.AnonymousAPIKey)
			if auto {
				fmt.Fprintf(out, "  built-in worker: fulfils image models %v, text models %v and alchemy after %s\n", imageModels, textModels, delay)
			}
			fmt.Fprintln(out, "Press Ctrl-C to stop.")
			if err := wait(); err != nil {
				return err
			}
			fmt.Fprintln(out, "simulator stopped")
			return nil
		},
	}
	f := serveCmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:7001", "address to listen on")
	f.StringArrayVar(&users, "user", nil, "a user as NAME:KEY[:ROLES][:KUDOS], roles trusted,moderator,customizer,admin (repeatable; default sim-user:sim-user-key:trusted:1000000)")
	f.BoolVar(&auto, "auto-fulfil", true, "run the built-in worker, which fulfils every job")
	f.DurationVar(&delay, "fulfil-delay", 2*time.Second, "how long the built-in worker takes per job")
	f.BoolVar(&limits, "rate-limits", false, "enforce the real server's rate limits")
	f.BoolVar(&maint, "maintenance", false, "start in maintenance mode")
	f.StringArrayVar(&faults, "fault", nil, "inject faults as ROUTE:KIND=VALUE[,...]: ROUTE an operationId or '*', KIND 500|502|503|reset|truncate|invalid-json (probability) or latency (duration) (repeatable)")
	f.Uint64Var(&seed, "seed", 1, "seed of ids, seeds and faults")
	f.StringSliceVar(&imageModels, "image-models", []string{"stable_diffusion"}, "image models of the built-in worker")
	f.StringSliceVar(&textModels, "text-models", []string{"hordetest/text"}, "text models of the built-in worker")
	f.StringVar(&imageRef, "image-model-reference", "", "the image model reference (stable_diffusion.json) to judge requests by (default: the snapshot built in)")
	f.StringVar(&textRef, "text-model-reference", "", "the text model reference (db.json) to judge requests by (default: the snapshot built in)")
	cmd.AddCommand(serveCmd)
	return cmd
}

// loadReferences reads the model reference files given to sim serve; an empty path keeps the
// snapshot built into the simulator.
func loadReferences(imagePath, textPath string) (*params.ImageModelReference, *params.TextModelReference, error) {
	var img *params.ImageModelReference
	var txt *params.TextModelReference
	var err error
	if imagePath != "" {
		if img, err = params.LoadImageModelReferenceFile(imagePath); err != nil {
			return nil, nil, usagef("--image-model-reference: %v", err)
		}
	}
	if textPath != "" {
		if txt, err = params.LoadTextModelReferenceFile(textPath); err != nil {
			return nil, nil, usagef("--text-model-reference: %v", err)
		}
	}
	return img, txt, nil
}

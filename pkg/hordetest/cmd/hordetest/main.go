// Command hordetest serves the AI Horde simulator of package hordetest on a TCP address, so
// programs and tests written with any AI Horde client can run against it.
//
//	hordetest -addr 127.0.0.1:7001 -user alice:alice-key:1000 -auto 2s
//
// The API is then at http://127.0.0.1:7001/api/ (for example /api/v2/status/heartbeat).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/horde-go/horde/pkg/hordetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "hordetest:", err)
		os.Exit(1)
	}
}

type userFlags []hordetest.User

func (u *userFlags) String() string { return fmt.Sprint(len(*u), " users") }

// Set parses name:apikey[:kudos[:role,role...]] with roles trusted, moderator, customizer, admin.
func (u *userFlags) Set(v string) error {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return errors.New("want name:apikey[:kudos[:roles]]")
	}
	usr := hordetest.User{Name: parts[0], APIKey: parts[1]}
	if len(parts) > 2 && parts[2] != "" {
		k, err := strconv.ParseFloat(parts[2], 64)
		if err != nil {
			return fmt.Errorf("kudos: %w", err)
		}
		usr.Kudos = k
	}
	if len(parts) > 3 {
		for _, role := range strings.Split(parts[3], ",") {
			switch role {
			case "trusted":
				usr.Trusted = true
			case "moderator":
				usr.Moderator = true
			case "customizer":
				usr.Customizer = true
			case "admin":
				usr.Admin = true
			case "":
			default:
				return fmt.Errorf("unknown role %q", role)
			}
		}
	}
	*u = append(*u, usr)
	return nil
}

// run serves until ctx ends; ready (if not nil) receives the API base URL.
func run(ctx context.Context, args []string, out io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("hordetest", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:7001", "address to listen on")
	auto := fs.Duration("auto", -1, "built-in worker delay (negative: no built-in worker)")
	limits := fs.Bool("rate-limits", false, "enforce the real server's rate limits")
	maintenance := fs.Bool("maintenance", false, "start in maintenance mode")
	seed := fs.Uint64("seed", 1, "seed for ids, seeds and faults")
	imageModels := fs.String("image-models", "stable_diffusion", "comma-separated image models of the built-in worker")
	textModels := fs.String("text-models", "hordetest/text", "comma-separated text models of the built-in worker")
	var users userFlags
	fs.Var(&users, "user", "a user as name:apikey[:kudos[:trusted,moderator,customizer,admin]] (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := []hordetest.Option{hordetest.WithSeed(*seed), hordetest.WithRateLimits(*limits),
		hordetest.WithMaintenance(*maintenance), hordetest.WithImageModels(strings.Split(*imageModels, ",")...),
		hordetest.WithTextModels(strings.Split(*textModels, ",")...)}
	for _, u := range users {
		opts = append(opts, hordetest.WithUser(u))
	}
	if *auto >= 0 {
		opts = append(opts, hordetest.WithAutoFulfil(*auto))
	}
	sim := hordetest.NewUnstartedServer(opts...)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/api/"
	fmt.Fprintln(out, "hordetest: AI Horde simulator listening on", url)
	if ready != nil {
		ready <- url
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

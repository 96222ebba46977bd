// Command horde is the command line tool of horde-go: it runs a local demo of the whole AI
// Horde, generates images, texts and alchemy through a Horde, shows models, users, workers and
// the Horde's status, transfers kudos, runs a worker and serves the simulator.
//
//	go run ./cmd/horde demo
//	horde image "a lighthouse at dusk" --model stable_diffusion -o out
//	horde --help
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/horde-go/horde/cmd/horde/internal/cli"
)

// abortGrace is how long a command has to stop after the second interrupt.
const abortGrace = 10 * time.Second

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	abort := make(chan struct{})
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		// The first interrupt cancels the context: requests are cancelled on the Horde, a
		// worker drains, the simulator shuts down.
		fmt.Fprintln(os.Stderr, "horde: interrupted; stopping (press Ctrl-C again to abort)")
		cancel()
		<-sigs
		// The second aborts: a worker reports its running jobs faulted and stops.
		fmt.Fprintln(os.Stderr, "horde: aborting (press Ctrl-C again to quit at once)")
		close(abort)
		select {
		case <-sigs:
		case <-time.After(abortGrace):
		}
		fmt.Fprintln(os.Stderr, "horde: quit")
		os.Exit(1)
	}()
	env := cli.OSEnv()
	env.Abort = abort
	code := cli.Run(ctx, os.Args[1:], env)
	cancel()
	os.Exit(code)
}

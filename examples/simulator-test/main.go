// Command simulator-test is a small program, and main_test.go shows how to test a program like
// it against pkg/hordetest, the in-process AI Horde simulator: real HTTP, the real server's
// rules and answers, no account and no network.
//
//	AI_HORDE_API_KEY=... go run ./examples/simulator-test "a castle" "a castle at night"
//	go test ./examples/simulator-test
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// cheapest returns the prompt whose image would cost the fewest kudos, and that cost, asking
// the Horde for estimates (nothing is queued).
func cheapest(ctx context.Context, c *horde.Client, prompts []string, steps int) (string, float64, error) {
	best, bestCost := "", 0.0
	for _, p := range prompts {
		cost, err := c.EstimateImageKudos(ctx, params.Image{Prompt: p, Steps: &steps}, nil)
		if err != nil {
			return "", 0, fmt.Errorf("estimating %q: %w", p, err)
		}
		if best == "" || cost < bestCost {
			best, bestCost = p, cost
		}
	}
	return best, bestCost, nil
}

func main() {
	c, err := horde.NewClient(horde.FromEnv())
	if err != nil {
		log.Fatal(err)
	}
	p, cost, err := cheapest(context.Background(), c, os.Args[1:], 30)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q costs %.1f kudos\n", p, cost)
}

package worker_test

import (
	"fmt"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/worker"
)

func ExampleParseConfig() {
	cfg, warnings, err := worker.ParseConfig([]byte(`
api_key: "0123456789abcdefghijkl"
dreamer_name: "My Dreamer"
max_threads: 2
max_power: 16
models_to_load: ["top 5", "Deliberate"]
max_treads: 3
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	fmt.Println(cfg.NameFor(horde.KindImage), cfg.MaxThreads, cfg.MaxPixels())

	_, _, err = worker.ParseConfig([]byte("max_threads: 40\nnsfw: maybe\n"))
	fmt.Println(err)
	// Output:
	// warning: max_treads: unknown key; ignored
	// My Dreamer 2 524288
	// max_threads: must be between 1 and 16, got 40
	// nsfw: must be true or false, got "maybe"
}

func ExampleBridgeGrantsFor() {
	g := worker.BridgeGrantsFor("AI Horde Worker reGen:10.1.1:https://github.com/Haidra-Org/horde-worker-reGen")
	fmt.Println(g.Has("img2img"), g.Has("RestoreFormer"), g.ImageKudosMultiplier, g.TextValidated)
	g = worker.BridgeGrantsFor("horde-go:1.0.0:https://github.com/horde-go/horde")
	fmt.Println(len(g.Features), g.ImageKudosMultiplier, g.TextKudosMultiplier)
	// Output:
	// true false 0.9 false
	// 0 0.75 0.3
}

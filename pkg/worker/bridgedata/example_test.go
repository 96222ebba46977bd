package bridgedata_test

import (
	"fmt"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/worker/bridgedata"
)

func ExampleParse() {
	cfg, warnings, err := bridgedata.Parse([]byte(`
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

	_, _, err = bridgedata.Parse([]byte("max_threads: 40\nnsfw: maybe\n"))
	fmt.Println(err)
	// Output:
	// warning: max_treads: unknown key; ignored
	// My Dreamer 2 524288
	// max_threads: must be between 1 and 16, got 40
	// nsfw: must be true or false, got "maybe"
}

package testbackend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

// The test backends plug into a worker as they are; here they are called directly.
func Example() {
	ctx := context.Background()
	backends := worker.Backends{
		Image: &testbackend.Image{Format: testbackend.PNG, Size: 64},
		Text:  &testbackend.Text{Seed: 1},
		// Every third alchemy form fails, after 1 ms of work.
		Alchemy: &testbackend.Alchemy{Behaviour: testbackend.Behaviour{Latency: time.Millisecond, FailEvery: 3}},
	}

	imgs, _ := backends.Image.GenerateImages(ctx, &worker.ImageJob{
		Params:    params.Image{Prompt: "a lighthouse [nsfw]", Seed: "42"},
		ResultIDs: []string{"id-1", "id-2"},
	})
	fmt.Println(len(imgs), "images, nsfw:", imgs[0].Safety.NSFW)

	txt, _ := backends.Text.GenerateText(ctx, &worker.TextJob{Params: params.Text{Prompt: "Once"}, MaxLength: 5})
	fmt.Println(len(strings.Fields(txt.Text)), "words")

	src := imgs[0].Data
	for range 3 {
		out, err := backends.Alchemy.Alchemy(ctx, &worker.AlchemyJob{Op: params.AlchemyOp{Form: params.FormNSFW, Source: params.ImageData{Data: src}}})
		fmt.Println(out.Result, errors.Is(err, testbackend.ErrInjected))
	}
	// Output:
	// 2 images, nsfw: true
	// 5 words
	// map[nsfw:false] false
	// map[nsfw:false] false
	// map[] true
}

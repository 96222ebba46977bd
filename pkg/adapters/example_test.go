package adapters_test

import (
	"encoding/json"
	"fmt"

	"github.com/horde-go/horde/pkg/adapters"
	"github.com/horde-go/horde/pkg/params"
)

func ExampleImageRequest() {
	img := params.Image{
		Prompt:         "a lighthouse at dusk",
		NegativePrompt: "blurry",
		Model:          "AlbedoBase XL (SDXL)",
		Width:          params.Ptr(1024),
		Height:         params.Ptr(1024),
		Scheduler:      params.SchedulerNormal, // sent as karras:false (server default is true)
		PostProcessing: []params.PostProcessor{params.PPRealESRGANX2Plus},
	}
	req, err := adapters.ImageRequest(&img, &params.RequestOptions{NSFW: params.Ptr(false)})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(req)
	fmt.Println(string(b))

	img.Width = params.Ptr(500)
	_, err = adapters.ImageRequest(&img, nil)
	fmt.Println(err)
	// Output:
	// {"models":["AlbedoBase XL (SDXL)"],"nsfw":false,"params":{"height":1024,"karras":false,"post_processing":["RealESRGAN_x2plus"],"width":1024},"prompt":"a lighthouse at dusk###blurry"}
	// width: must be a multiple of 64, got 500
}

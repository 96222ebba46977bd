package worker_test

import (
	"context"
	"fmt"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// captioner runs the caption form only.
type captioner struct{}

func (captioner) Alchemy(context.Context, *worker.AlchemyJob) (worker.AlchemyOutput, error) {
	return worker.AlchemyOutput{Result: map[string]any{"caption": "a lighthouse at dusk"}}, nil
}

func (captioner) LimitAlchemyOffer(_ context.Context, o *worker.AlchemyOffer) ([]string, error) {
	var kept []params.AlchemyForm
	for _, f := range o.Forms {
		if f == params.FormCaption {
			kept = append(kept, f)
		}
	}
	o.Forms = kept
	return nil, nil
}

// upscaler runs every form it is given (it does not limit offers): here, what is left.
type upscaler struct{}

func (upscaler) Alchemy(_ context.Context, job *worker.AlchemyJob) (worker.AlchemyOutput, error) {
	return worker.AlchemyOutput{Image: []byte("an upscaled image for " + string(job.Op.Form))}, nil
}

// ExampleNewAlchemyByForm: captions on one backend, the rest on another; each popped form goes
// to the backend that took it at start.
func ExampleNewAlchemyByForm() {
	b := worker.NewAlchemyByForm(captioner{}, upscaler{})
	offer := &worker.AlchemyOffer{Forms: []params.AlchemyForm{params.FormCaption, "RealESRGAN_x4plus"}}
	if _, err := b.LimitAlchemyOffer(context.Background(), offer); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("offered:", offer.Forms)
	for _, form := range offer.Forms {
		out, _ := b.Alchemy(context.Background(), &worker.AlchemyJob{ID: "f", Op: params.AlchemyOp{Form: form}})
		fmt.Printf("%s: result %v, image %q\n", form, out.Result, out.Image)
	}
	// Output:
	// offered: [caption RealESRGAN_x4plus]
	// caption: result map[caption:a lighthouse at dusk], image ""
	// RealESRGAN_x4plus: result map[], image "an upscaled image for RealESRGAN_x4plus"
}

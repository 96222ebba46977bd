package adapters_test

import (
	"encoding/json"
	"testing"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/adapters"
	"github.com/horde-go/horde/pkg/params"
)

// fullPopJSON is an image pop with LoRAs, TIs, hires fix and
// post-processing, two ids and R2 URLs.
const fullPopJSON = `{"payload":{"prompt":"a castle on a hill, detailed###blurry, lowres","ddim_steps":30,"n_iter":2,
"sampler_name":"k_dpmpp_2m","cfg_scale":6.5,"denoising_strength":0.75,"hires_fix_denoising_strength":0.6,
"height":1536,"width":1536,"karras":true,"tiling":false,"hires_fix":true,"clip_skip":2,"seed":"12345",
"post_processing":["CodeFormers","RealESRGAN_x4plus","strip_background"],"facefixer_strength":0.5,
"loras":[{"name":"Magnagothica","model":0.8,"clip":1.0,"inject_trigger":"any","is_version":false},
{"name":"123456","model":1.0,"clip":1.0,"is_version":true}],
"tis":[{"name":"7808","inject_ti":"negprompt","strength":0.5},{"name":"4629","inject_ti":"prompt","strength":1.0}],
"transparent":false,"use_nsfw_censor":false},
"id":"8f9a1d2e-0000-4000-8000-000000000001","ids":["8f9a1d2e-0000-4000-8000-000000000001","8f9a1d2e-0000-4000-8000-000000000002"],
"messages":[],"ttl":360,"skipped":{},"model":"AlbedoBase XL (SDXL)","source_processing":"img2img",
"r2_upload":"https://r2.example/1","r2_uploads":["https://r2.example/1?sig=a","https://r2.example/2?sig=b"]}`

func sdxl(string) params.Baseline { return params.BaselineSDXL }

func decodeFullPop(b testing.TB) *gen.GenerationPayloadStable {
	var pop gen.GenerationPayloadStable
	if err := json.Unmarshal([]byte(fullPopJSON), &pop); err != nil {
		b.Fatal(err)
	}
	return &pop
}

func TestFullPopIsValid(t *testing.T) {
	job, err := adapters.ImageFromPop(decodeFullPop(t), sdxl)
	if err != nil {
		t.Fatal(err)
	}
	if err := job.Params.Validate(); err != nil {
		t.Fatal(err)
	}
	if job.Params.HiresFix == nil || job.Params.HiresFix.FirstPass == nil || len(job.Params.LoRAs) != 2 ||
		len(job.Params.TIs) != 2 || len(job.Params.PostProcessing) != 3 || len(job.Dispatch.R2Uploads) != 2 {
		t.Fatalf("unexpected conversion: %+v", job)
	}
}

// BenchmarkImagePopConvertValidate measures conversion of a decoded pop
// plus validation of the result.
func BenchmarkImagePopConvertValidate(b *testing.B) {
	pop := decodeFullPop(b)
	b.ReportAllocs()
	for b.Loop() {
		job, err := adapters.ImageFromPop(pop, sdxl)
		if err != nil {
			b.Fatal(err)
		}
		if err := job.Params.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImagePopDecodeConvertValidate adds JSON decoding of the body.
func BenchmarkImagePopDecodeConvertValidate(b *testing.B) {
	body := []byte(fullPopJSON)
	b.ReportAllocs()
	for b.Loop() {
		var pop gen.GenerationPayloadStable
		if err := json.Unmarshal(body, &pop); err != nil {
			b.Fatal(err)
		}
		job, err := adapters.ImageFromPop(&pop, sdxl)
		if err != nil {
			b.Fatal(err)
		}
		if err := job.Params.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImageRequest measures validation and building a request body.
func BenchmarkImageRequest(b *testing.B) {
	job, err := adapters.ImageFromPop(decodeFullPop(b), sdxl)
	if err != nil {
		b.Fatal(err)
	}
	img := job.Params
	img.SourceProcessing = ""
	b.ReportAllocs()
	for b.Loop() {
		if _, err := adapters.ImageRequest(&img, nil); err != nil {
			b.Fatal(err)
		}
	}
}

package testbackend_test

import (
	"testing"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

func benchImage(b *testing.B, backend *testbackend.Image) {
	job := &worker.ImageJob{Params: params.Image{Prompt: "a lighthouse at dusk", Seed: "42", Width: params.Ptr(512), Height: params.Ptr(512)}, ResultIDs: []string{"a"}}
	var size int
	for b.Loop() {
		out, err := backend.GenerateImages(b.Context(), job)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out[0].Data)
	}
	b.ReportMetric(float64(size), "bytes/image")
}

func BenchmarkImage512WebP(b *testing.B) { benchImage(b, &testbackend.Image{}) }

func BenchmarkImage512PNG(b *testing.B) { benchImage(b, &testbackend.Image{Format: testbackend.PNG}) }

func BenchmarkImage64WebP(b *testing.B) { benchImage(b, &testbackend.Image{Size: 64}) }

func BenchmarkImageZeroCost(b *testing.B) { benchImage(b, &testbackend.Image{ZeroCost: true}) }

func BenchmarkText80(b *testing.B) {
	backend := &testbackend.Text{}
	job := &worker.TextJob{Params: params.Text{Prompt: "Once upon a time"}, MaxLength: 80}
	for b.Loop() {
		if _, err := backend.GenerateText(b.Context(), job); err != nil {
			b.Fatal(err)
		}
	}
}

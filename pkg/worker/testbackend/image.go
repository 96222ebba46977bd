package testbackend

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// Default safety marker words of [Image].
const (
	DefaultNSFWMarker = "[nsfw]"
	DefaultCSAMMarker = "[csam]"
)

// zeroCostSide is the side of the precomputed image of the zero-cost modes.
const zeroCostSide = 8

// Image is a deterministic image backend. For each result id of a job it draws a pattern (a
// gradient, a disc and stripes) derived from a hash of the prompt, the seed and the index of the
// image in the job, at the job's width × height (512×512 when unset), and encodes it as WebP
// (default) or PNG. The same job gives the same bytes; another seed, prompt or index gives
// another image. A 512×512 WebP takes about 20–30 ms on a 2-core machine, a PNG 12–14 ms, the
// zero-cost mode 0.15 µs (see the package benchmarks).
//
// An image whose prompt contains NSFWMarker (CSAMMarker) is reported NSFW (CSAM); the
// comparison ignores case. The zero value is ready to use and safe for concurrent use; do not
// copy an Image after first use.
type Image struct {
	// Behaviour is the latency and the injected faults.
	Behaviour
	// Format is the output encoding, WebP by default.
	Format Format
	// Size, when > 0, replaces the requested width and height with Size×Size: a small
	// fixed size keeps throughput tests cheap.
	Size int
	// ZeroCost skips rendering and encoding: every image is the same tiny (8×8) image,
	// encoded once. The returned Data slices are then shared: callers must not modify them.
	ZeroCost bool
	// NSFWMarker and CSAMMarker are the marker words; empty means [DefaultNSFWMarker] and
	// [DefaultCSAMMarker].
	NSFWMarker, CSAMMarker string

	gate     gate
	zeroOnce sync.Once
	zero     []byte
	zeroErr  error
}

// Calls returns the number of GenerateImages calls so far, failed ones included.
func (b *Image) Calls() uint64 { return b.gate.calls.Load() }

// GenerateImages returns one image per result id of the job (Params.BatchSize images, 1..20,
// when the job has no result ids). A width or height outside 1..[params.MaxImageSide] is
// an error.
func (b *Image) GenerateImages(ctx context.Context, job *worker.ImageJob) ([]worker.ImageOutput, error) {
	if job == nil {
		return nil, fmt.Errorf("testbackend: nil image job")
	}
	if err := b.gate.enter(ctx, &b.Behaviour); err != nil {
		return nil, err
	}
	p := &job.Params
	n := len(job.ResultIDs)
	if n == 0 {
		n = min(p.NumResults(), params.MaxBatchSize)
	}
	w, h := side(p.Width), side(p.Height)
	if b.Size > 0 {
		w, h = b.Size, b.Size
	}
	if w < 1 || h < 1 || w > params.MaxImageSide || h > params.MaxImageSide {
		return nil, fmt.Errorf("testbackend: image size %d×%d outside 1..%d", w, h, params.MaxImageSide)
	}
	nsfw := containsFold(p.Prompt, marker(b.NSFWMarker, DefaultNSFWMarker))
	csam := containsFold(p.Prompt, marker(b.CSAMMarker, DefaultCSAMMarker))

	out := make([]worker.ImageOutput, n)
	for i := range out {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var data []byte
		var err error
		if b.ZeroCost {
			data, err = b.zeroImage()
		} else {
			key := fnv64(p.Prompt, p.Seed, strconv.Itoa(i))
			data, err = encode(render(key, w, h), b.Format)
		}
		if err != nil {
			return nil, err
		}
		out[i] = worker.ImageOutput{Data: data, Safety: &worker.SafetyVerdict{NSFW: nsfw, CSAM: csam}}
	}
	return out, nil
}

// zeroImage returns the precomputed image of the zero-cost mode.
func (b *Image) zeroImage() ([]byte, error) {
	b.zeroOnce.Do(func() {
		b.zero, b.zeroErr = encode(render(0, zeroCostSide, zeroCostSide), b.Format)
	})
	return b.zero, b.zeroErr
}

// side returns *p, or the server default when p is nil.
func side(p *int) int {
	if p == nil {
		return params.DefaultImageSide
	}
	return *p
}

func marker(m, def string) string {
	if m == "" {
		return def
	}
	return m
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

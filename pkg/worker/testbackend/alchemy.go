package testbackend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decode JPEG sources
	_ "image/png"  // decode PNG sources
	"strconv"
	"strings"
	"sync"

	_ "golang.org/x/image/webp" // decode WebP sources

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// ErrUnsupportedForm is returned (wrapped) for an alchemy form the test backend does not run:
// vectorize, palette, describe, aesthetic, annotation and unknown forms.
var ErrUnsupportedForm = errors.New("testbackend: unsupported alchemy form")

// DefaultMaxPixels is the default pixel limit of [Alchemy], for sources and results.
const DefaultMaxPixels = 4096 * 4096

// Interrogation defaults and bounds (payload key "top_count").
const (
	defaultTopCount = 5
	maxTopCount     = 50
)

// Alchemy is a deterministic alchemy backend. The source image must be set
// (Op.Source.Data) and decodable (WebP, PNG or JPEG); its bytes decide the text results:
//
//   - caption: {"caption": "<a sentence>"};
//   - interrogation: {"interrogation": {"tags": [{"text": …, "confidence": …}, …], "sites": …,
//     "artists": …, "flavors": …, "mediums": …, "movements": …, "techniques": …}}, with
//     "top_count" tags (payload key, default 5, at most 50) and one to three entries of each
//     other category, by decreasing confidence;
//   - nsfw: {"nsfw": <bool>}, true for a fraction NSFWRate of sources (by hash; 0 by default);
//   - upscalers: the source scaled ×2 (names containing "x2" or "2x", such as
//     RealESRGAN_x2plus) or ×4 (the others), nearest neighbour;
//   - face fixers: the source lightly blurred, same size;
//   - strip_background: the source with the pixels close to its top-left colour made
//     transparent.
//
// The image forms return Image, encoded in Format (WebP by default), and no Result. Other forms
// return an error wrapping [ErrUnsupportedForm]. A source or result of more than MaxPixels pixels
// is an error, checked before any pixel is decoded.
//
// The zero value is ready to use and safe for concurrent use; do not copy an Alchemy after first
// use.
type Alchemy struct {
	// Behaviour is the latency and the injected faults.
	Behaviour
	// Format is the encoding of image results, WebP by default.
	Format Format
	// NSFWRate is the fraction (0..1) of sources the nsfw form flags.
	NSFWRate float64
	// MaxPixels caps source and result sizes; 0 means [DefaultMaxPixels].
	MaxPixels int
	// ZeroCost makes the image forms return a tiny precomputed image without decoding the
	// source (which must still be set). The returned slices are shared: do not modify them.
	ZeroCost bool

	gate     gate
	zeroOnce sync.Once
	zero     []byte
	zeroErr  error
}

// Calls returns the number of Alchemy calls so far, failed ones included.
func (b *Alchemy) Calls() uint64 { return b.gate.calls.Load() }

// Alchemy runs one form.
func (b *Alchemy) Alchemy(ctx context.Context, job *worker.AlchemyJob) (worker.AlchemyOutput, error) {
	if job == nil {
		return worker.AlchemyOutput{}, fmt.Errorf("testbackend: nil alchemy job")
	}
	if err := b.gate.enter(ctx, &b.Behaviour); err != nil {
		return worker.AlchemyOutput{}, err
	}
	op := &job.Op
	src := op.Source.Data
	if len(src) == 0 {
		return worker.AlchemyOutput{}, fmt.Errorf("testbackend: form %q: source image not downloaded", op.Form)
	}
	kind := op.Kind()
	switch kind {
	case params.KindUpscale, params.KindFaceFix, params.KindStripBackground,
		params.KindCaption, params.KindInterrogate, params.KindNSFW:
	default:
		return worker.AlchemyOutput{}, fmt.Errorf("form %q: %w", op.Form, ErrUnsupportedForm)
	}
	if b.ZeroCost && (kind == params.KindUpscale || kind == params.KindFaceFix || kind == params.KindStripBackground) {
		img, err := b.zeroImage()
		return worker.AlchemyOutput{Image: img}, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(src))
	if err != nil {
		return worker.AlchemyOutput{}, fmt.Errorf("testbackend: form %q: source image: %w", op.Form, err)
	}
	limit := b.MaxPixels
	if limit <= 0 {
		limit = DefaultMaxPixels
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > limit {
		return worker.AlchemyOutput{}, fmt.Errorf("testbackend: form %q: source image %d×%d is over %d pixels", op.Form, cfg.Width, cfg.Height, limit)
	}
	key := fnv64(string(src))

	switch kind {
	case params.KindCaption:
		return worker.AlchemyOutput{Result: map[string]any{string(params.FormCaption): caption(key)}}, nil
	case params.KindInterrogate:
		top := defaultTopCount
		if s, ok := op.Payload["top_count"]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > maxTopCount {
				return worker.AlchemyOutput{}, fmt.Errorf("testbackend: form %q: payload top_count %q: want an integer in 1..%d", op.Form, s, maxTopCount)
			}
			top = n
		}
		return worker.AlchemyOutput{Result: map[string]any{string(params.FormInterrogation): interrogate(key, top)}}, nil
	case params.KindNSFW:
		nsfw := b.NSFWRate > 0 && unitFloat(mix(key)) < b.NSFWRate
		return worker.AlchemyOutput{Result: map[string]any{string(params.FormNSFW): nsfw}}, nil
	}

	factor := 1
	if kind == params.KindUpscale {
		factor = upscaleFactor(string(op.Form))
		if cfg.Width*factor*cfg.Height*factor > limit {
			return worker.AlchemyOutput{}, fmt.Errorf("testbackend: form %q: result %d×%d is over %d pixels", op.Form, cfg.Width*factor, cfg.Height*factor, limit)
		}
	}
	decoded, _, err := image.Decode(bytes.NewReader(src))
	if err != nil {
		return worker.AlchemyOutput{}, fmt.Errorf("testbackend: form %q: source image: %w", op.Form, err)
	}
	if err := ctx.Err(); err != nil {
		return worker.AlchemyOutput{}, err
	}
	var out image.Image
	switch kind {
	case params.KindUpscale:
		out = upscale(decoded, factor)
	case params.KindFaceFix:
		out = soften(decoded)
	default:
		out = stripBackground(decoded)
	}
	data, err := encode(out, b.Format)
	if err != nil {
		return worker.AlchemyOutput{}, err
	}
	return worker.AlchemyOutput{Image: data}, nil
}

// zeroImage returns the precomputed image of the zero-cost mode.
func (b *Alchemy) zeroImage() ([]byte, error) {
	b.zeroOnce.Do(func() {
		b.zero, b.zeroErr = encode(render(1, zeroCostSide, zeroCostSide), b.Format)
	})
	return b.zero, b.zeroErr
}

// upscaleFactor is 2 for names that say so ("x2", "2x"), else 4.
func upscaleFactor(name string) int {
	n := strings.ToLower(name)
	if strings.Contains(n, "x2") || strings.Contains(n, "2x") {
		return 2
	}
	return 4
}

// caption writes a sentence chosen by key.
func caption(key uint64) string {
	adj := strings.Fields("quiet bright ancient silver green distant small warm")
	noun := strings.Fields("fox lighthouse garden robot river castle teapot mountain")
	places := []string{"beside a lake", "under a starry sky", "in a busy market", "on a hill at dawn", "in the rain"}
	r := stream{s: key}
	return "a " + adj[r.intn(len(adj))] + " " + noun[r.intn(len(noun))] + " " + places[r.intn(len(places))]
}

// interrogationWords are the words of the interrogation categories other than tags, by category.
var interrogationWords = map[string]string{
	"sites":      "artstation pixiv behance flickr cgsociety",
	"artists":    "turner hokusai monet escher mucha",
	"flavors":    "intricate moody luminous minimalist dreamy",
	"mediums":    "photograph illustration watercolor charcoal render",
	"movements":  "baroque cubism expressionism pop-art ukiyo-e",
	"techniques": "macro panorama stippling glazing double-exposure",
}

// interrogate returns an interrogation as real alchemists shape it: tags (top of them, by
// decreasing confidence) and one to three entries of each other category (sites, artists,
// flavors, mediums, movements, techniques), each {text, confidence}, chosen by key.
func interrogate(key uint64, top int) map[string]any {
	r := stream{s: key}
	list := func(words []string, n int) []map[string]any {
		out := make([]map[string]any, n)
		conf := 0.5 + 0.5*unitFloat(r.next())
		for i := range out {
			out[i] = map[string]any{"text": words[r.intn(len(words))], "confidence": round2(conf)}
			conf *= 0.6 + 0.35*unitFloat(r.next())
		}
		return out
	}
	out := map[string]any{"tags": list(strings.Fields(vocabulary), top)}
	for _, c := range []string{"sites", "artists", "flavors", "mediums", "movements", "techniques"} {
		out[c] = list(strings.Fields(interrogationWords[c]), 1+r.intn(3))
	}
	return out
}

// upscale scales img by factor, nearest neighbour.
func upscale(img image.Image, factor int) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx()*factor, b.Dy()*factor))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			for j := range factor {
				row := (y*factor + j) * out.Stride
				for i := range factor {
					o := row + (x*factor+i)*4
					out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = c.R, c.G, c.B, c.A
				}
			}
		}
	}
	return out
}

// toNRGBA copies img into a new NRGBA image at the origin.
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetNRGBA(x, y, color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA))
		}
	}
	return out
}

// soften averages each pixel with its right and lower neighbours.
func soften(img image.Image) *image.NRGBA {
	in := toNRGBA(img)
	w, h := in.Rect.Dx(), in.Rect.Dy()
	out := image.NewNRGBA(in.Rect)
	for y := range h {
		for x := range w {
			a := in.PixOffset(x, y)
			r := in.PixOffset(min(x+1, w-1), y)
			d := in.PixOffset(x, min(y+1, h-1))
			for c := range 4 {
				out.Pix[a+c] = uint8((2*int(in.Pix[a+c]) + int(in.Pix[r+c]) + int(in.Pix[d+c])) / 4)
			}
		}
	}
	return out
}

// stripBackground makes transparent the pixels whose colour is within a small distance of the
// top-left pixel's colour.
func stripBackground(img image.Image) *image.NRGBA {
	out := toNRGBA(img)
	bg := out.Pix[0:3:3]
	bgR, bgG, bgB := int(bg[0]), int(bg[1]), int(bg[2])
	const tol = 24
	for i := 0; i+3 < len(out.Pix); i += 4 {
		if absInt(int(out.Pix[i])-bgR) <= tol && absInt(int(out.Pix[i+1])-bgG) <= tol && absInt(int(out.Pix[i+2])-bgB) <= tol {
			out.Pix[i+3] = 0
		}
	}
	return out
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

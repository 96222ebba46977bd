package testbackend

import (
	"bytes"
	"fmt"
	"image"
	"image/png"

	"github.com/HugoSmits86/nativewebp"
)

// Format is the encoding of the images a backend returns.
type Format int

// Formats.
const (
	// WebP is lossless WebP (the default; the Horde stores .webp objects).
	WebP Format = iota
	// PNG is PNG with the fastest compression.
	PNG
)

// String returns "webp" or "png".
func (f Format) String() string {
	switch f {
	case WebP:
		return "webp"
	case PNG:
		return "png"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// encode encodes img in format f.
func encode(img image.Image, f Format) ([]byte, error) {
	var buf bytes.Buffer
	switch f {
	case WebP:
		if err := nativewebp.Encode(&buf, img, nil); err != nil {
			return nil, fmt.Errorf("testbackend: encode webp: %w", err)
		}
	case PNG:
		e := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := e.Encode(&buf, img); err != nil {
			return nil, fmt.Errorf("testbackend: encode png: %w", err)
		}
	default:
		return nil, fmt.Errorf("testbackend: unknown image format %d", int(f))
	}
	return buf.Bytes(), nil
}

// render draws the pattern of key on a w×h opaque image: a linear gradient between two
// colours in a direction, a disc, and diagonal stripes, all chosen by key. Integer arithmetic
// only; a few milliseconds for 512×512, a tenth of the WebP encoding time.
func render(key uint64, w, h int) *image.NRGBA {
	r := stream{s: key}
	var c0, c1, c2 [3]int
	for i := range 3 {
		c0[i], c1[i], c2[i] = r.intn(256), r.intn(256), r.intn(256)
	}
	ax := r.intn(257) // gradient weight of x; y gets 256-ax
	ay := 256 - ax
	cx, cy := r.intn(w), r.intn(h)
	rad := 1 + r.intn(max(1, min(w, h)/3))
	period := 8 + r.intn(56)
	slope := 1 + r.intn(3)

	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		dy := y - cy
		ty := y * ay / h
		for x := range w {
			t := x*ax/w + ty // 0..256
			var c [3]int
			dx := x - cx
			if dx*dx+dy*dy <= rad*rad {
				c = c2
			} else {
				for i := range 3 {
					c[i] = c0[i] + (c1[i]-c0[i])*t/256
				}
				if ((x+slope*y)/period)%2 == 1 {
					for i := range 3 {
						c[i] = c[i] * 7 / 8
					}
				}
			}
			p := row[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = uint8(c[0]), uint8(c[1]), uint8(c[2]), 0xff
		}
	}
	return img
}

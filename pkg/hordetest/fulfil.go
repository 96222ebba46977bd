package hordetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/horde-go/horde/gen"
)

// SyntheticImage returns the deterministic PNG the built-in worker delivers for a seed and size
// (an image of (width/8)×(height/8) pixels in one colour derived from the seed).
func SyntheticImage(seed, width, height int) []byte {
	w, h := max(width/8, 1), max(height/8, 1)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	sum := sha256.Sum256(binary.LittleEndian.AppendUint64(nil, uint64(seed)))
	c := color.NRGBA{sum[0], sum[1], sum[2], 255}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// SyntheticText returns the deterministic text the built-in worker delivers for a prompt and seed.
func SyntheticText(prompt string, seed int) string {
	sum := sha256.Sum256([]byte(prompt + "\x00" + strconv.Itoa(seed)))
	return "hordetest synthetic text " + strconv.FormatUint(binary.LittleEndian.Uint64(sum[:8]), 16)
}

// autoFulfilLocked lets the built-in worker finish every job it can serve that has waited
// for the configured delay.
func (s *Server) autoFulfilLocked(now time.Time) {
	changed := false
	// Starting a request's jobs compacts s.queue (it shortens it and clears its tail), so the
	// loop walks a copy: ranging over s.queue itself lost requests and crashed the server when
	// two fell due in one sweep.
	for _, req := range slices.Clone(s.queue) {
		if req.n <= 0 || req.faulted || now.Sub(req.created) < s.cfg.fulfilDelay {
			continue
		}
		w := s.builtin[req.kind]
		if w == nil || s.skipReasonLocked(w, req, now) != "" {
			continue
		}
		changed = true
		for req.n > 0 {
			var ids []string
			if req.kind == kindImage {
				out := s.startImageJobsLocked(nil, w, req, w.models, 20, now)
				ids = out.Ids
			} else {
				out := s.startTextJobsLocked(w, req, w.models, 20, now)
				ids = out.Ids
			}
			for _, id := range ids {
				j := s.jobs[id]
				if req.kind == kindImage {
					if req.seed == nil {
						j.seed = derivedSeed(j.id)
					}
					j.img = SyntheticImage(j.seed, req.width, req.height)
					if s.cfg.censorPrompt != "" && strings.Contains(strings.ToLower(req.prompt), s.cfg.censorPrompt) {
						j.censored = true
						j.genMeta = []gen.GenerationMetadataStable{{Type: "censorship", Value: "nsfw"}}
					}
					s.finishImageJobLocked(j, now)
				} else {
					j.seed = derivedSeed(j.id)
					j.text = SyntheticText(req.prompt, j.seed)
					j.textState = "ok"
					s.finishTextJobLocked(j, now)
				}
			}
		}
	}
	if changed {
		s.compactQueueLocked()
	}
	if w := s.builtin[kindInterrogation]; w != nil {
		for _, f := range slices.Clone(s.ifQueue) { // finishing a form may requeue or compact
			if f.state != formWaiting || now.Sub(f.in.created) < s.cfg.fulfilDelay {
				continue
			}
			f.state = formProcessing
			f.popped = now
			f.worker = w
			s.finishFormLocked(f, s.syntheticFormResultLocked(f), now)
		}
		s.compactFormQueueLocked()
	}
}

func derivedSeed(id string) int {
	sum := sha256.Sum256([]byte(id))
	return int(binary.LittleEndian.Uint32(sum[:4]))
}

// interrogationCategories are the categories of an interrogation result, as the Horde's
// alchemists return them (CLIP interrogation: each a list of {text, confidence}).
var interrogationCategories = [...]struct {
	name  string
	words []string
}{
	{"tags", []string{"landscape", "portrait", "outdoors", "sky", "water", "tree", "building", "night", "sunset", "animal"}},
	{"sites", []string{"artstation", "pixiv", "deviantart", "flickr", "behance", "unsplash"}},
	{"artists", []string{"a landscape painter", "an illustrator", "a photographer", "a concept artist", "an etcher"}},
	{"flavors", []string{"highly detailed", "soft light", "vibrant colours", "cinematic", "muted tones", "sharp focus"}},
	{"mediums", []string{"a digital painting", "an oil painting", "a photograph", "a watercolor", "a 3d render"}},
	{"movements", []string{"impressionism", "romanticism", "art nouveau", "surrealism", "realism"}},
	{"techniques", []string{"bokeh", "long exposure", "tilt-shift", "cross-hatching", "impasto"}},
}

// syntheticFormResultLocked is what the built-in alchemist delivers for a form, with the shapes
// real alchemists deliver: a caption, an nsfw verdict, an interrogation by category, and for the
// image forms (upscalers, face fixers, strip_background) a synthetic image put on the R2
// stand-in, answered as its download URL.
func (s *Server) syntheticFormResultLocked(f *form) map[string]any {
	sum := sha256.Sum256([]byte(f.in.id + f.name))
	switch f.name {
	case "caption":
		return map[string]any{"caption": "a hordetest synthetic caption " + strconv.Itoa(int(sum[0]))}
	case "nsfw":
		return map[string]any{"nsfw": sum[0]%2 == 0}
	case "interrogation":
		out := map[string]any{}
		for i, c := range interrogationCategories {
			n := 1 + int(sum[i])%3
			list := make([]map[string]any, n)
			conf := 0.9 - float64(sum[i+8]%20)/100
			for k := range list {
				list[k] = map[string]any{"text": c.words[(int(sum[i+16])+k)%len(c.words)], "confidence": round2(conf)}
				conf *= 0.8
			}
			out[c.name] = list
		}
		return map[string]any{"interrogation": out}
	}
	s.r2[f.id+".webp"] = SyntheticImage(derivedSeed(f.id), 512, 512)
	return map[string]any{f.name: "R2"}
}

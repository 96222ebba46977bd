package comfyui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/horde-go/horde/pkg/worker"
)

// SafetyNode is a worker.SafetyChecker that runs a safety node of the user's ComfyUI on each
// generated image. The node is named in the configuration (comfyui_safety_node) and must keep
// the contract of the diffusers safety checker and the ComfyUI nodes built on it: it takes the
// images on an IMAGE input (ImageInput, "images" by default) and returns them on its first IMAGE
// output, with the unsafe ones blacked out. Its other inputs get their declared defaults. An
// image the node returns black (every channel of every pixel at most 8 of 255) while the one it
// was given was not is NSFW.
//
// What it cannot promise: such nodes tell NSFW from safe only; none detects CSAM, so CSAM is
// never reported, and a generated image that is black on its own counts as safe. The Horde
// filters prompts for CSAM on its side.
type SafetyNode struct {
	client     *Client
	class      string
	imageInput string

	mu     sync.Mutex
	oi     ObjectInfo
	seq    int
	prefix string
}

var _ worker.SafetyChecker = (*SafetyNode)(nil)

// NewSafetyNode returns a checker that runs the node class on the ComfyUI of client.
// imageInput is the node's IMAGE input ("" for "images").
func NewSafetyNode(client *Client, class, imageInput string) (*SafetyNode, error) {
	if client == nil || class == "" {
		return nil, errors.New("comfyui_safety_node: a ComfyUI client and a node class are required")
	}
	if imageInput == "" {
		imageInput = "images"
	}
	return &SafetyNode{client: client, class: class, imageInput: imageInput, prefix: "horde-go-safety"}, nil
}

// Check reads /object_info and checks that the node exists with the contract's input and an
// IMAGE output; the worker calls it at start so that a wrong name stops it there.
func (s *SafetyNode) Check(ctx context.Context) error {
	_, err := s.objectInfo(ctx)
	return err
}

func (s *SafetyNode) objectInfo(ctx context.Context) (ObjectInfo, error) {
	s.mu.Lock()
	oi := s.oi
	s.mu.Unlock()
	if oi != nil {
		return oi, nil
	}
	oi, err := s.client.ObjectInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("comfyui_safety_node: reading /object_info: %w", err)
	}
	n, ok := oi[s.class]
	if !ok {
		return nil, fmt.Errorf("comfyui_safety_node: ComfyUI has no node %q", s.class)
	}
	if spec, ok, _ := oi.input(s.class, s.imageInput); !ok || spec.typ != "IMAGE" {
		return nil, fmt.Errorf("comfyui_safety_node: node %q has no IMAGE input %q", s.class, s.imageInput)
	}
	if len(n.Output) == 0 || n.Output[0] != "IMAGE" {
		return nil, fmt.Errorf("comfyui_safety_node: node %q's first output is not an IMAGE", s.class)
	}
	if _, ok := oi.defaultInputs(s.class, s.imageInput); !ok {
		return nil, fmt.Errorf("comfyui_safety_node: node %q has an input other than %q that no default fills", s.class, s.imageInput)
	}
	s.mu.Lock()
	s.oi = oi
	s.mu.Unlock()
	return oi, nil
}

// CheckImage runs the node on one image and reads its verdict from the image it returns.
func (s *SafetyNode) CheckImage(ctx context.Context, img []byte) (worker.SafetyVerdict, error) {
	oi, err := s.objectInfo(ctx)
	if err != nil {
		return worker.SafetyVerdict{}, err
	}
	in, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return worker.SafetyVerdict{}, fmt.Errorf("comfyui safety node: decoding the image: %w", err)
	}
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("%s-%d", s.prefix, s.seq)
	s.mu.Unlock()
	uploaded, err := s.client.Upload(ctx, name+".png", img)
	if err != nil {
		return worker.SafetyVerdict{}, err
	}
	b := newBuilder()
	load := b.add("LoadImage", map[string]any{"image": uploaded})
	inputs, _ := oi.defaultInputs(s.class, s.imageInput)
	inputs[s.imageInput] = out(load, 0)
	checked := b.add(s.class, inputs)
	b.add("SaveImage", map[string]any{"images": out(checked, 0), "filename_prefix": name})
	_, h, err := s.client.Execute(ctx, b.g, nil)
	if err != nil {
		return worker.SafetyVerdict{}, fmt.Errorf("comfyui safety node: %w", err)
	}
	if len(h.Images) == 0 {
		return worker.SafetyVerdict{}, errors.New("comfyui safety node: the node returned no image")
	}
	data, err := s.client.View(ctx, h.Images[0])
	if err != nil {
		return worker.SafetyVerdict{}, err
	}
	outImg, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return worker.SafetyVerdict{}, fmt.Errorf("comfyui safety node: decoding its image: %w", err)
	}
	return worker.SafetyVerdict{NSFW: black(outImg) && !black(in)}, nil
}

// black reports whether every channel of every pixel is at most 8 of 255.
func black(img image.Image) bool {
	const limit = 8 << 8 // RGBA() is 16-bit
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr > limit || cg > limit || cb > limit {
				return false
			}
		}
	}
	return true
}

package horde

import (
	"context"
	"fmt"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/adapters"
	"github.com/horde-go/horde/pkg/params"
)

// The generation methods take the parameters of pkg/params: they are validated (every
// violation, each naming its field and rule, in a params.Violations that errors.As finds)
// before anything is sent. ro may be nil for the server's defaults. The …Body methods send a
// generated request body as it is, for what pkg/params does not express.

// GenerateImage validates an image generation, submits it, waits for it and returns the images,
// downloaded or decoded. See GenerateImageBody for the waiting and the errors.
func (c *Client) GenerateImage(ctx context.Context, img params.Image, ro *params.RequestOptions, opts ...GenerateOption) (*ImageResult, error) {
	req, err := imageBody(&img, ro)
	if err != nil {
		return nil, err
	}
	return c.generateImage(ctx, noTracker{}, req, opts)
}

// GenerateText validates a text generation, submits it and waits for it. See GenerateTextBody.
func (c *Client) GenerateText(ctx context.Context, t params.Text, ro *params.RequestOptions, opts ...GenerateOption) (*TextResult, error) {
	req, err := textBody(&t, ro)
	if err != nil {
		return nil, err
	}
	return c.generateText(ctx, noTracker{}, req, opts)
}

// Interrogate validates an alchemy request (captioning, interrogation, NSFW check, upscaling,
// face fixing, …), submits it and waits for every form. See InterrogateBody.
func (c *Client) Interrogate(ctx context.Context, a params.Alchemy, ro *params.RequestOptions, opts ...GenerateOption) (*AlchemyResult, error) {
	req, err := alchemyBody(&a, ro)
	if err != nil {
		return nil, err
	}
	return c.interrogate(ctx, noTracker{}, req, opts)
}

// EstimateImageKudos validates an image generation and asks the Horde what it would cost,
// without queueing it.
func (c *Client) EstimateImageKudos(ctx context.Context, img params.Image, ro *params.RequestOptions) (float64, error) {
	req, err := imageBody(&img, ro)
	if err != nil {
		return 0, err
	}
	return c.EstimateImageKudosBody(ctx, req)
}

// EstimateTextKudos validates a text generation and asks the Horde what it would cost, without
// queueing it.
func (c *Client) EstimateTextKudos(ctx context.Context, t params.Text, ro *params.RequestOptions) (float64, error) {
	req, err := textBody(&t, ro)
	if err != nil {
		return 0, err
	}
	return c.EstimateTextKudosBody(ctx, req)
}

// GenerateImage is Client.GenerateImage, tracked by the session.
func (s *Session) GenerateImage(ctx context.Context, img params.Image, ro *params.RequestOptions, opts ...GenerateOption) (*ImageResult, error) {
	req, err := imageBody(&img, ro)
	if err != nil {
		return nil, err
	}
	return s.GenerateImageBody(ctx, req, opts...)
}

// GenerateText is Client.GenerateText, tracked by the session.
func (s *Session) GenerateText(ctx context.Context, t params.Text, ro *params.RequestOptions, opts ...GenerateOption) (*TextResult, error) {
	req, err := textBody(&t, ro)
	if err != nil {
		return nil, err
	}
	return s.GenerateTextBody(ctx, req, opts...)
}

// Interrogate is Client.Interrogate, tracked by the session.
func (s *Session) Interrogate(ctx context.Context, a params.Alchemy, ro *params.RequestOptions, opts ...GenerateOption) (*AlchemyResult, error) {
	req, err := alchemyBody(&a, ro)
	if err != nil {
		return nil, err
	}
	return s.InterrogateBody(ctx, req, opts...)
}

func imageBody(img *params.Image, ro *params.RequestOptions) (gen.GenerationInputStable, error) {
	req, err := adapters.ImageRequest(img, ro)
	if err != nil {
		return req, fmt.Errorf("horde: invalid image request: %w", err)
	}
	return req, nil
}

func textBody(t *params.Text, ro *params.RequestOptions) (gen.GenerationInputKobold, error) {
	req, err := adapters.TextRequest(t, ro)
	if err != nil {
		return req, fmt.Errorf("horde: invalid text request: %w", err)
	}
	return req, nil
}

func alchemyBody(a *params.Alchemy, ro *params.RequestOptions) (gen.ModelInterrogationInputStable, error) {
	req, err := adapters.AlchemyRequest(a, ro)
	if err != nil {
		return req, fmt.Errorf("horde: invalid alchemy request: %w", err)
	}
	return req, nil
}

package horde_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// TestParamsAreValidatedBeforeSending: an invalid generation is refused with every violation,
// each naming its field, and nothing reaches the Horde.
func TestParamsAreValidatedBeforeSending(t *testing.T) {
	badImage := params.Image{Prompt: "", Width: new(100), Steps: new(1000)}
	tests := []struct {
		name   string
		call   func(context.Context, *horde.Client) error
		fields []string
	}{
		{"GenerateImage", func(ctx context.Context, c *horde.Client) error {
			_, err := c.GenerateImage(ctx, badImage, nil)
			return err
		}, []string{"prompt", "width", "steps"}},
		{"EstimateImageKudos", func(ctx context.Context, c *horde.Client) error {
			_, err := c.EstimateImageKudos(ctx, badImage, nil)
			return err
		}, []string{"prompt", "width", "steps"}},
		{"GenerateText", func(ctx context.Context, c *horde.Client) error {
			_, err := c.GenerateText(ctx, params.Text{Prompt: "once", MaxLength: new(100000)}, nil)
			return err
		}, []string{"max_length"}},
		{"EstimateTextKudos", func(ctx context.Context, c *horde.Client) error {
			_, err := c.EstimateTextKudos(ctx, params.Text{Prompt: ""}, nil)
			return err
		}, []string{"prompt"}},
		{"Interrogate", func(ctx context.Context, c *horde.Client) error {
			_, err := c.Interrogate(ctx, params.Alchemy{}, &params.RequestOptions{Webhook: "http://x"})
			return err
		}, []string{"source_image", "webhook"}},
		{"Session.GenerateImage", func(ctx context.Context, c *horde.Client) error {
			_, err := c.NewSession().GenerateImage(ctx, badImage, nil)
			return err
		}, []string{"prompt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newResourceServer(t, []reply{{http.StatusOK, `{}`}})
			err := tt.call(t.Context(), c)
			var vs params.Violations
			if !errors.As(err, &vs) {
				t.Fatalf("error %v, want params.Violations", err)
			}
			for _, field := range tt.fields {
				found := false
				for _, v := range vs {
					found = found || v.Field == field
				}
				if !found {
					t.Errorf("no violation names %q: %v", field, vs)
				}
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("the Horde got %d requests, want none", n)
			}
		})
	}
}

// TestEstimateSendsTheAdaptedBody: a valid generation goes out as the adapters build it.
func TestEstimateSendsTheAdaptedBody(t *testing.T) {
	c, f := newResourceServer(t, []reply{{http.StatusOK, `{"kudos":12}`}})
	k, err := c.EstimateImageKudos(t.Context(), params.Image{Prompt: "a castle", NegativePrompt: "blurry", Steps: new(20)},
		&params.RequestOptions{Models: []string{"Deliberate"}})
	if err != nil || k != 12 {
		t.Fatalf("EstimateImageKudos = %v, %v; want 12", k, err)
	}
	reqs := f.requests()
	if len(reqs) != 1 || !sameJSON(t, reqs[0].body, `{"prompt":"a castle###blurry","models":["Deliberate"],"params":{"steps":20},"dry_run":true}`) {
		t.Errorf("sent %s", reqs[0].body)
	}
}

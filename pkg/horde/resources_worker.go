package horde

import (
	"context"

	"github.com/horde-go/horde/gen"
)

// The operations of a worker: pop a job, submit its result. pkg/worker runs the whole loop on
// top of these; a program that writes its own loop calls them directly. Pops and submits are
// never retried after the request was sent: a retried pop could lose the job it popped, and a
// submit is answered "already submitted" when it arrived once.

// PopImageJob asks the Horde for an image job (POST /v2/generate/pop). A pop with no job is not
// an error: the payload's ID is nil and Skipped says why requests were passed over.
func (c *Client) PopImageJob(ctx context.Context, pop gen.PopInputStable) (*gen.GenerationPayloadStable, error) {
	return bodyOf(c.raw.PostImageJobPopWithResponse(ctx, pop))
}

// SubmitImageJob submits one image of a job (POST /v2/generate/submit) and returns the kudos
// it earned.
func (c *Client) SubmitImageJob(ctx context.Context, submit gen.SubmitInputStable) (*gen.GenerationSubmitted, error) {
	return bodyOf(c.raw.PostImageJobSubmitWithResponse(ctx, submit))
}

// PopTextJob asks the Horde for a text job (POST /v2/generate/text/pop).
func (c *Client) PopTextJob(ctx context.Context, pop gen.PopInputKobold) (*gen.GenerationPayloadKobold, error) {
	return bodyOf(c.raw.PostTextJobPopWithResponse(ctx, pop))
}

// SubmitTextJob submits the text of a job (POST /v2/generate/text/submit).
func (c *Client) SubmitTextJob(ctx context.Context, submit gen.SubmitInputKobold) (*gen.GenerationSubmitted, error) {
	return bodyOf(c.raw.PostTextJobSubmitWithResponse(ctx, submit))
}

// PopAlchemyJob asks the Horde for alchemy forms (POST /v2/interrogate/pop).
func (c *Client) PopAlchemyJob(ctx context.Context, pop gen.InterrogationPopInput) (*gen.InterrogationPopPayload, error) {
	return bodyOf(c.raw.PostInterrogatePopWithResponse(ctx, pop))
}

// SubmitAlchemyForm submits the result of one alchemy form (POST /v2/interrogate/submit).
func (c *Client) SubmitAlchemyForm(ctx context.Context, submit gen.PostInterrogateSubmitJSONRequestBody) (*gen.GenerationSubmitted, error) {
	return bodyOf(c.raw.PostInterrogateSubmitWithResponse(ctx, submit))
}

// SubmitAesthetics rates the images of a finished generation the caller requested
// (POST /v2/generate/rate/{id}) and returns the kudos the ratings earned.
func (c *Client) SubmitAesthetics(ctx context.Context, id string, ratings gen.AestheticsPayload) (*gen.GenerationSubmitted, error) {
	return bodyOf(c.raw.PostAestheticsWithResponse(ctx, id, ratings))
}

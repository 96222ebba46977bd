package horde

import (
	"context"

	"github.com/horde-go/horde/gen"
)

// The asynchronous request operations, one method each: queue a request, read its progress and
// results, cancel it. GenerateImage, GenerateText and Interrogate do all of this for you; these
// are for programs that keep a request's id and poll on their own schedule. Queueing is never
// retried once the request was sent: the Horde would queue, and charge for, a second copy.

// withJSON202 is a generated response whose 202 body is a *T.
type withJSON202[T any] interface {
	genResponse
	GetJSON202() *T
}

// acceptedOf returns the 202 body of a generated response, or its error.
func acceptedOf[T any, R withJSON202[T]](r R, err error) (*T, error) {
	return decoded(r, err, R.GetJSON202)
}

// RequestImage queues an image request and returns its id (POST /v2/generate/async), without
// waiting for it. The body goes as it is: validate it with pkg/params first, or use
// GenerateImage, which does.
func (c *Client) RequestImage(ctx context.Context, req gen.GenerationInputStable) (*gen.RequestAsync, error) {
	return acceptedOf(c.raw.PostImageAsyncGenerateWithResponse(ctx, req))
}

// ImageCheck returns the progress of an image request, without its images
// (GET /v2/generate/check/{id}; the Horde allows it often).
func (c *Client) ImageCheck(ctx context.Context, id string) (*gen.RequestStatusCheck, error) {
	return bodyOf(c.raw.GetImageAsyncCheckWithResponse(ctx, id))
}

// ImageStatus returns an image request's progress and finished images
// (GET /v2/generate/status/{id}; the Horde allows it 10 times a minute per request).
func (c *Client) ImageStatus(ctx context.Context, id string) (*gen.RequestStatusStable, error) {
	return bodyOf(c.raw.GetImageAsyncStatusWithResponse(ctx, id))
}

// CancelImage cancels an image request and returns what it had finished
// (DELETE /v2/generate/status/{id}).
func (c *Client) CancelImage(ctx context.Context, id string) (*gen.RequestStatusStable, error) {
	return bodyOf(c.raw.DeleteImageAsyncStatusWithResponse(ctx, id))
}

// RequestText queues a text request and returns its id (POST /v2/generate/text/async).
func (c *Client) RequestText(ctx context.Context, req gen.GenerationInputKobold) (*gen.RequestAsync, error) {
	return acceptedOf(c.raw.PostTextAsyncGenerateWithResponse(ctx, req))
}

// TextStatus returns a text request's progress and finished texts
// (GET /v2/generate/text/status/{id}).
func (c *Client) TextStatus(ctx context.Context, id string) (*gen.RequestStatusKobold, error) {
	return bodyOf(c.raw.GetTextAsyncStatusWithResponse(ctx, id))
}

// CancelText cancels a text request and returns what it had finished
// (DELETE /v2/generate/text/status/{id}).
func (c *Client) CancelText(ctx context.Context, id string) (*gen.RequestStatusKobold, error) {
	return bodyOf(c.raw.DeleteTextAsyncStatusWithResponse(ctx, id))
}

// RequestInterrogation queues an alchemy request and returns its id (POST /v2/interrogate/async).
func (c *Client) RequestInterrogation(ctx context.Context, req gen.ModelInterrogationInputStable) (*gen.RequestInterrogationResponse, error) {
	return acceptedOf(c.raw.PostInterrogateWithResponse(ctx, req))
}

// InterrogationStatus returns an alchemy request's forms and their results
// (GET /v2/interrogate/status/{id}).
func (c *Client) InterrogationStatus(ctx context.Context, id string) (*gen.InterrogationStatus, error) {
	return bodyOf(c.raw.GetInterrogationStatusWithResponse(ctx, id))
}

// CancelInterrogation cancels an alchemy request and returns what it had finished
// (DELETE /v2/interrogate/status/{id}).
func (c *Client) CancelInterrogation(ctx context.Context, id string) (*gen.InterrogationStatus, error) {
	return bodyOf(c.raw.DeleteInterrogationStatusWithResponse(ctx, id))
}

// Package horde is the client that Go programs use to talk to the AI Horde (aihorde.net), the
// volunteer-run cluster for image generation, text generation and alchemy.
//
// # Getting started
//
// Create one Client and share it: it is safe for concurrent use.
//
//	c, err := horde.NewClient(horde.WithAPIKey(key))            // the public AI Horde
//	c, err := horde.NewClient(horde.FromEnv())                  // AI_HORDE_URL, AI_HORDE_API_KEY
//	c, err := horde.NewClient(horde.WithBaseURL(srv.URL))       // a hordetest simulator
//
// Every one of the API's 90 operations is a method of Client that takes a context first and
// returns the decoded model (or only an error): c.FindUser, c.Workers, c.Models, c.ImageStatus,
// c.PopImageJob, c.TransferKudos, c.CreateImageStyle, … Lists come back as slices; methods with
// query parameters take the generated parameter struct, where nil means the server's defaults.
//
// # Authentication and the API key
//
// WithAPIKey sets the key (register at https://aihorde.net/register; without one, the anonymous
// key "0000000000" is sent where the API requires a key, and earns fewer kudos and lower
// priority). The key is sent only to the configured Horde, only on operations that take one
// (an operation where a key is optional gets it only when you configured one), never through a
// redirect to another host, never with an image download, and it never appears in a log line or
// an error string. Every request carries a Client-Agent (WithClientAgent; by default
// "horde-go:<version>:<repository>").
//
// # Errors
//
// A non-2xx answer is an *APIError: the HTTP status, the Horde's return code (RC, a typed
// gen.ReturnCode), its message, per-field validation errors, the method and path, and
// Retry-After. errors.Is matches it against ErrNotFound, ErrUnauthorized, ErrForbidden,
// ErrKudosTooLow, ErrTooManyPrompts, ErrRateLimited, ErrMaintenance, ErrValidation and
// ErrServer. A 2xx answer that does not decode is an error that names the operation. Invalid
// generation parameters are a params.Violations, found with errors.As, and nothing is sent.
//
// # Retries and rate limits
//
// Requests are retried with exponential backoff, full jitter and the server's Retry-After, but
// only where sending again is safe: a connection error before the request was written, and
// 502/503/504 or a limiter's 429 for GET, PUT, DELETE and POSTs that carry an Idempotency-Key.
// A generation request is never sent twice (the Horde would queue and charge for a second copy).
// WithRetryPolicy and WithoutRetries set the policy for the client, WithoutRetry(ctx) for a call.
//
// The client keeps itself under the server's published limits with token buckets per route and
// per request id (two generation requests a second, ten status reads a minute per request, …),
// so a program never meets a 429 of its own making; WithRateLimiting(false) turns this off.
// WithRateState(ctx, &st) records the X-RateLimit-* view of one call's answer.
//
// # Generating
//
// GenerateImage, GenerateText and Interrogate take the API-independent parameters of
// pkg/params, validate them, submit the request, wait for it (OnProgress reports progress; the
// status is read within its limits) and return the results: images as bytes (R2 links
// downloaded with retries and a size cap, base64 decoded), texts, or alchemy results per form.
//
//	res, err := c.GenerateImage(ctx, params.Image{Prompt: "a lighthouse", Steps: new(20)}, nil)
//
// A request that faulted returns a *GenerationError wrapping ErrFaulted together with whatever
// finished; is_possible false returns ErrNotPossible (or waits, with WaitWhenImpossible); when the
// context ends, the request is cancelled on the Horde before the method returns.
// EstimateImageKudos and EstimateTextKudos ask what a request would cost without queueing it.
// The …Body variants (GenerateImageBody, …) send a generated request body as it is, and
// RequestImage, ImageCheck, ImageStatus and CancelImage (and their text and alchemy twins) are
// for programs that poll on their own schedule.
//
// # Sessions
//
// A Session (c.NewSession) tracks the requests started through it; Close cancels those still
// pending, so that an error or a panic in the program leaves nothing queued on the Horde.
//
// # The generated client
//
// Raw returns the generated client (package gen) underneath, for what the methods do not
// cover. Its requests go through the same key, agent, retry and rate-limit handling, but its
// responses are not errors when their status is not 2xx: check them, or convert them with
// APIErrorFromResponse.
package horde

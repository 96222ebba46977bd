// Package worker is a framework for AI Horde workers: a Go program plugs in a backend (image,
// text or alchemy) and gets a worker that pops jobs from the Horde, runs them on the backend,
// and submits the results without ever dropping a finished one.
//
// # Getting started
//
//	c, _ := horde.NewClient(horde.WithAPIKey(ownerKey)) // the worker owner's key
//	w, err := worker.New(c, worker.Settings{
//		Text: &worker.TextOffer{Name: "my-scribe", Models: []string{"koboldcpp/my-model"}},
//	}, worker.Backends{Text: myBackend})
//	if err != nil { … }              // every bad setting named, with its rule
//	err = w.Run(ctx)                 // until ctx ends; then it drains
//
// New checks the settings; Run serves until its context ends; Abort (a second Ctrl-C) stops at
// once; Stats reports what happened. A bridgeData.yaml file becomes a worker through package
// bridgedata (bridgedata.Load, then bridgedata.NewWorker), which is what `horde worker` does.
//
// # Backends
//
// A backend is one method: ImageBackend.GenerateImages, TextBackend.GenerateText or
// AlchemyBackend.Alchemy. It gets the job's parameters (pkg/params, with source images already
// downloaded) and returns the results; an error faults the job, which the worker reports to the
// Horde before it carries on. A backend that knows what it can really run implements
// ImageOfferLimiter (or TextOfferLimiter, AlchemyOfferLimiter): the worker calls it once before
// the first pop, so that the Horde hands out only jobs the backend can run. Shipped backends:
// pkg/worker/openai (any OpenAI-compatible completions server, for text) and
// pkg/worker/testbackend (deterministic synthetic image, text and alchemy backends for tests
// and demos; never for a public Horde).
//
// # Settings
//
// Settings say what the worker offers for each kind of work (ImageOffer, TextOffer,
// AlchemyOffer: names, models or forms, limits, allowances) and how its loop behaves (threads,
// queue size, intervals, submit budgets, timeouts). Zero values mean the defaults. The worker
// pops every kind it has an offer and a backend for; a job holds a slot from its pop until its
// results are accepted, so that popping goes on while finished jobs submit.
//
// # Safety
//
// The Horde expects a worker to censor NSFW images for requests that ask for it (and all of
// them on a worker that does not serve NSFW), and CSAM always. An image backend reports its
// verdict in ImageOutput.Safety; a backend without a classifier leaves it nil, and the worker
// then asks Settings.Safety (a SafetyChecker, such as pkg/worker/vision's). A job that needs a
// verdict nobody computed is faulted, never delivered unchecked.
//
// # Results are never lost
//
// A finished result is kept and submitted again (quick retries with backoff, then every
// ResubmitInterval) until the Horde accepts it, refuses it for good, or the job expires; an
// answer lost after the Horde applied a submit is recognised ("already submitted") rather than
// counted twice. A backend error, panic or timeout (the job's ttl, with a watchdog) is reported
// faulted. Uploads go to the Horde's R2 links without the API key.
//
// # Shutdown
//
// Cancelling Run's context starts a graceful shutdown: no new pops, jobs that did not start are
// handed back (reported faulted, so the Horde gives them to another worker), running jobs
// finish and submit, bounded by DrainTimeout. Abort cancels what is still running and reports
// it faulted.
//
// # The bridge agent
//
// Every pop carries a bridge agent, "name:version:url"; by default the truthful
// DefaultBridgeAgent ("horde-go:<version>:<repository>"). The Horde grants gated image
// features (r2 uploads, img2img, inpainting, LoRA, ControlNet, post-processing, …) and kudos
// multipliers by that name, and it does not know horde-go's yet: such a worker receives only
// requests that set r2 false and use no gated feature, and earns ×0.75 image and ×0.3 text
// kudos. The worker logs at start what the Horde grants its agent and which allowances it will
// not honour; docs/bridge-agent.md lists what horde-go implements, for the Horde's maintainers.
package worker

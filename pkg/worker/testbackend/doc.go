// Package testbackend holds deterministic test doubles of the worker backends: an image backend
// ([Image]), a text backend ([Text]) and an alchemy backend ([Alchemy]). They implement
// [worker.ImageBackend], [worker.TextBackend] and [worker.AlchemyBackend] and are meant for
// tests, benchmarks and demos of a worker: no model, no GPU, no network.
//
// Every backend is configured by the fields of its struct; the zero value is ready to use and
// safe for concurrent use. Results depend only on the job (and the backend's configuration), never
// on time or call order, so the same job always yields the same bytes. The shared [Behaviour]
// adds what a test needs around that: a latency that honours the context, and injected faults
// (every Nth call, a seeded probability, or a deliberate panic).
//
// Safety verdicts are on demand: an image whose prompt contains the NSFW or CSAM marker word is
// flagged (see [Image]).
package testbackend

import "github.com/horde-go/horde/pkg/worker"

// The backends implement the worker's interfaces.
var (
	_ worker.ImageBackend   = (*Image)(nil)
	_ worker.TextBackend    = (*Text)(nil)
	_ worker.AlchemyBackend = (*Alchemy)(nil)
)

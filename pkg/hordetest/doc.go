// Package hordetest is an in-process AI Horde simulator for tests, in the spirit of
// net/http/httptest: NewServer starts a server on a loopback port that speaks the AI Horde
// API under /api/v2/ with the semantics of the real server (AI-Horde 5.1.5, API 2.5), so
// client and worker code can be tested without aihorde.net, kudos or volunteer workers.
//
//	srv := hordetest.NewServer(
//		hordetest.WithUser(hordetest.User{Name: "alice", APIKey: "alice-key", Kudos: 100}),
//		hordetest.WithAutoFulfil(0), // a built-in worker answers every request at once
//	)
//	defer srv.Close()
//	client, _ := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("alice-key"))
//
// Programs in any language run it with `horde sim serve` (cmd/horde), which takes the same
// users, faults and model references as flags.
//
// # What it reproduces
//
// Users and API keys with kudos and roles (the anonymous user, key "0000000000", sits at its
// kudos floor of -50); error bodies {"message","rc"} with the server's return codes and
// statuses, and schema failures as 400 {"message","errors"} without rc; the request
// defaults of the server's parsers (nsfw, censor_nsfw and r2 true, models
// ["stable_diffusion"] unless sent); image, text and alchemy requests with their queue
// (priority = requester kudos at activation + 50 per 10 s, then age: FIFO for one user),
// check/status/cancel, pop matching with skipped counts, job ids distinct from request ids,
// bridge-agent capabilities (the server's bridge table, read with semver: unknown agents get no
// gated feature, so no r2 requests, and ×0.75 kudos), upfront kudos reserved until the
// request ends, the model reference (embedded snapshot or WithModelReference: known models,
// baselines, requirement warnings, model_state), worker
// settings stored at most every 30 s, submit (ok, censored via gen_metadata, faulted; a
// second submit answers DuplicateGen, a faulted or timed-out job is requeued and the request
// faults after 3), requests expiring 20 minutes after their last activity, kudos charges and
// rewards, an R2 stand-in (presigned-style PUT/GET URLs on the same server, no API key),
// workers, kudos transfers with Idempotency-Key, status and stats endpoints, the limiter's
// 429s (no rc, Retry-After and X-RateLimit-* headers) when WithRateLimits is on, and
// maintenance mode (400 MaintenanceMode, as the server raises it), image and text styles
// with their examples and collections (creation rights, ownership, lookups by id or by
// "[style|collection::][alias::]name", lists) and their application to generation requests
// (the style's prompt template, params and models replace the request's; the owner earns 2
// kudos per use), teams, shared keys (usable as generation keys), user and worker moderation
// (User.Admin for the admin-only changes), worker messages (delivered in pops), prompt filters
// (image prompts rewritten or refused), IP timeouts, documents, horde modes, kudos awards and
// aesthetics ratings: every one of the API's 90 operations; and flask-restx's X-Fields
// field masks on successful answers.
//
// # Time
//
// The simulator starts no goroutine of its own (beyond those of net/http): time-driven behaviour (job time-outs,
// expiry, the built-in worker) is applied lazily when a request arrives or an introspection
// method is called, against the Clock given with WithClock. With a FakeClock a test moves
// time explicitly.
//
// # Faults and introspection
//
// Faults (seeded, switchable while running) injects 500/502/503 answers, latency,
// connection resets, truncated or invalid JSON, limiter-429 bursts and slow R2 transfers.
// Calls, Requests, Queued, Jobs, Forms, Expired and Kudos let a test assert what happened,
// for example that every job was submitted exactly once.
//
// # Known differences from the real server
//
// What cannot be simulated, or is left out on purpose, each with its reason:
//
//   - Image kudos use the server's documented fallback formula, not its neural-network
//     estimator (a trained PyTorch model the server loads), so per-job kudos differ from
//     aihorde.net (6.5 for 512×512 at 30 steps). Models the reference does not know get a
//     baseline guessed from their names.
//   - The check response is not cached for 1 s and model and style reads not for 30 s: caches
//     would make tests read stale state for no gain in fidelity a client can rely on.
//   - Stale jobs, expiry and the built-in worker are applied on requests at most once per
//     second of the server's clock (the server sweeps every 60 s): the simulator runs no
//     goroutine of its own, so that a FakeClock drives all of time; a request reaching 3
//     faulted jobs is marked faulted at once.
//   - No webhooks (the simulator never calls out to other hosts) or raid-mode behaviour beyond
//     its flag; a paused worker gets no jobs of other users (the server hands it fake jobs).
//   - No profanity detection (the server's word lists are not reproduced), no emoji rule in the
//     prompt filters, whose regexes use Go's syntax; documents are the simulator's own texts.
//   - A text style's prompt fields with a conversion, format spec, attribute or index answer
//     500 (Python's format_map would format them); a PATCH of a style endpoint naming a
//     collection answers 500 without the server's partial update.
//   - Pop answers carry the server's nulls; other answers may leave out a key the server sends
//     as null: the generated types omit what they do not have.
//   - Synthetic images are PNG (width/8 × height/8, one colour from the seed), not WebP: they
//     stand for images, small and decodable with the standard library.
package hordetest

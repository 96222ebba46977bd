// Package conformance holds the tests that hold the generated client in gen/ to the AI Horde's
// real wire format: every recorded request and response body under testdata/aihorde decodes
// into its generated type with unknown fields disallowed and survives a round trip, every
// upstream operation has a client method, and the client puts requests on the wire as the
// server expects them.
//
// The package has no non-test code besides this comment.
package conformance

// Package params describes AI Horde generation parameters independently of
// any wire format: an image generation, a text generation and alchemy
// (post-processing and interrogation) operations.
//
// The package imports only the standard library. Package
// github.com/horde-go/horde/pkg/adapters converts these values to and from
// the generated API models.
//
// # Optional values
//
// Optional scalar parameters are pointers: nil means "not set, let the
// server (or backend) use its default"; a non-nil pointer is sent even when
// it holds a zero value, so false and 0 can be requested explicitly. String
// fields and string enums use "" for "not set". Use [Ptr] to take the
// address of a literal.
//
// # Enums
//
// Every enum is a string type with the complete list of values of the
// current AI Horde specification (and, where the Python horde_sdk knows
// more values, those too, marked as such). Unknown values are never an
// error when they are decoded from the server: they are kept as they are.
// [Image.Validate] and friends reject values the API would reject.
//
// # Validation
//
// Validate methods collect every violation and return them as
// [Violations], an error whose entries name the field and the rule, for
// example "width: must be a multiple of 64, got 500".
package params

// Ptr returns a pointer to a copy of v. It is a convenience for optional
// parameters: params.Image{Steps: params.Ptr(30)}.
func Ptr[T any](v T) *T { return &v }

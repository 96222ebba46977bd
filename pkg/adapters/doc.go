// Package adapters converts between the API-independent parameter sets of
// package params and the generated AI Horde API models of package gen.
//
// It is the only package that knows both: pkg/horde (clients) uses the
// request converters, pkg/worker uses the pop converters.
//
// Requests: only the fields that are set in the parameter set are sent;
// a set zero value (false, 0) is sent explicitly, since the server's
// defaults often differ (karras defaults to true, r2 to true, nsfw and
// censor_nsfw to true).
//
// Pops: a pop response becomes a parameter set plus dispatch data (result
// ids, an R2 upload URL per id, TTL, skipped counts) and a list of faults
// to report with the results (gen_metadata entries), following horde_sdk's
// conversion rules, with the deviations documented on each function.
package adapters

import (
	"encoding/base64"
	"strings"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/params"
)

// encodeImage renders image data the way the API accepts it: a URL as is,
// bytes as standard base64.
func encodeImage(d params.ImageData) *string {
	if d.URL != "" {
		s := d.URL
		return &s
	}
	if len(d.Data) == 0 {
		return nil
	}
	s := base64.StdEncoding.EncodeToString(d.Data)
	return &s
}

// isURL reports whether s is an http(s) URL (the Horde sends presigned R2
// URLs when a worker asked for r2_source).
func isURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// decodeImage turns an API image string into ImageData. A nil pointer is
// "absent" (ok=false, present=false); a URL stays a URL; anything else must
// be valid base64 (see params.DecodeBase64), else present=true, ok=false.
func decodeImage(s *string) (d params.ImageData, present, ok bool) {
	if s == nil {
		return d, false, false
	}
	if isURL(*s) {
		return params.ImageData{URL: *s}, true, true
	}
	b, err := params.DecodeBase64(*s)
	if err != nil {
		return d, true, false
	}
	return params.ImageData{Data: b}, true, true
}

// imageFromRequestString decodes an image string of a request; unlike a
// pop, a request built by a user may hold anything, so an undecodable
// string is kept as an error.
func imageFromRequestString(field string, s *string, errs *params.Violations) params.ImageData {
	d, present, ok := decodeImage(s)
	if present && !ok {
		*errs = append(*errs, params.Violation{Field: field, Rule: "must be an http(s) URL or valid base64"})
	}
	return d
}

func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func truePtr(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

// metadata is one problem found while converting a pop, in the form the submit endpoint takes
// as gen_metadata.
func metadata(t gen.MetadataType, v gen.MetadataValue, ref string) gen.GenerationMetadataStable {
	return gen.GenerationMetadataStable{Type: t, Value: v, Ref: strPtr(ref)}
}

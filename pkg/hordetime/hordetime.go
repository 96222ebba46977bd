// Package hordetime provides the date type of the AI Horde's JSON bodies.
//
// The Horde writes dates the way Python's email.utils does, RFC 822 / RFC 1123 style
// ("Thu, 03 Dec 2026 03:09:52 -0000"), which time.Time's JSON decoding rejects. [Time] reads
// those, RFC 3339 and the zone-less ISO 8601 form, and writes RFC 3339. The generated client in
// gen/ uses it for every date-time field.
package hordetime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Time is a time.Time that reads the AI Horde's date formats and writes RFC 3339.
type Time struct {
	time.Time
}

// New returns t as a Time.
func New(t time.Time) Time { return Time{Time: t} }

// layouts are tried in order. The RFC 1123/822 ones come first because that is what the Horde
// sends; numeric zones include "-0000" (Python's "UTC, offset unknown"), which parses as UTC.
var layouts = []string{
	time.RFC1123Z,
	time.RFC1123,
	"Mon, _2 Jan 2006 15:04:05 -0700",
	"Mon, _2 Jan 2006 15:04:05 MST",
	time.RFC822Z,
	time.RFC822,
	"02 Jan 2006 15:04:05 -0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999", // Python isoformat() of a naive UTC datetime
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
}

// maxDateLen bounds what Parse tries to read; no format above is near it.
const maxDateLen = 64

// Parse reads a date in any of the formats the AI Horde writes. A date without a zone is UTC.
func Parse(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxDateLen {
		return Time{}, fmt.Errorf("hordetime: date %.20q... is too long", s)
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return Time{Time: t}, nil
		}
	}
	return Time{}, fmt.Errorf("hordetime: %q is not an RFC 1123, RFC 822 or RFC 3339 date", s)
}

// String formats t as RFC 3339.
func (t Time) String() string { return t.Format(time.RFC3339Nano) }

// MarshalJSON writes t as an RFC 3339 string.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(time.RFC3339Nano)+2)
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// UnmarshalJSON reads a JSON string in any format Parse accepts; null leaves t unchanged.
func (t *Time) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("hordetime: a date must be a JSON string: %w", err)
	}
	parsed, err := Parse(s)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// MarshalText writes t as RFC 3339, for query parameters and map keys.
func (t Time) MarshalText() ([]byte, error) { return t.AppendFormat(nil, time.RFC3339Nano), nil }

// UnmarshalText reads any format Parse accepts.
func (t *Time) UnmarshalText(data []byte) error {
	parsed, err := Parse(string(data))
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

package hordetest

import (
	"time"
)

// serverDate is a date as the server writes it: flask-restx's DateTime(dt_format="rfc822"),
// which is Python's email.utils.formatdate in UTC ("Thu, 03 Dec 2026 03:09:52 -0000"). The
// generated types write RFC 3339 (hordetime.Time), so the simulator's answers carry dates in
// this type instead.
type serverDate time.Time

// MarshalJSON writes the date as the server does.
func (d serverDate) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(d).UTC().Format("Mon, 02 Jan 2006 15:04:05") + ` -0000"`), nil
}

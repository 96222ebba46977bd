package hordetime

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	utc := time.Date(2026, 12, 3, 3, 9, 52, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"Thu, 03 Dec 2026 03:09:52 -0000", utc}, // what the Horde sends
		{"Thu, 03 Dec 2026 03:09:52 +0000", utc},
		{"Thu, 03 Dec 2026 03:09:52 GMT", utc},
		{"Thu, 3 Dec 2026 03:09:52 -0000", utc},
		{"Thu, 03 Dec 2026 05:09:52 +0200", utc},
		{"03 Dec 26 03:09 +0000", utc.Truncate(time.Minute)},
		{"2026-12-03T03:09:52Z", utc},
		{"2026-12-03T05:09:52+02:00", utc},
		{"2026-12-03T03:09:52.5Z", utc.Add(500 * time.Millisecond)},
		{"2026-12-03T03:09:52", utc},
		{"2026-12-03 03:09:52.000001", utc.Add(time.Microsecond)},
		{"  Thu, 03 Dec 2026 03:09:52 -0000 ", utc},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			require.NoError(t, err)
			assert.True(t, got.Equal(tt.want), "got %v, want %v", got, tt.want)
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "yesterday", "2026-13-01T00:00:00Z", "Thu, 32 Dec 2026 03:09:52 -0000", string(make([]byte, 1000))} {
		_, err := Parse(in)
		assert.Error(t, err, "%q", in)
	}
}

func TestJSON(t *testing.T) {
	var v struct {
		Expiry  *Time `json:"expiry,omitempty"`
		Created Time  `json:"created"`
		Missing *Time `json:"missing"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"expiry":"Thu, 03 Dec 2026 03:09:52 -0000","created":null,"missing":null}`), &v))
	require.NotNil(t, v.Expiry)
	assert.Equal(t, "2026-12-03T03:09:52Z", v.Expiry.String())
	assert.True(t, v.Created.IsZero())
	assert.Nil(t, v.Missing)

	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"expiry":"2026-12-03T03:09:52Z","created":"0001-01-01T00:00:00Z","missing":null}`, string(out))

	assert.Error(t, json.Unmarshal([]byte(`{"expiry":12}`), &v), "a number is not a date")
	assert.Error(t, json.Unmarshal([]byte(`{"expiry":"soon"}`), &v))
}

func TestText(t *testing.T) {
	var tm Time
	require.NoError(t, tm.UnmarshalText([]byte("Thu, 03 Dec 2026 03:09:52 GMT")))
	b, err := tm.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "2026-12-03T03:09:52Z", string(b))
	assert.Error(t, tm.UnmarshalText([]byte("x")))
	assert.Equal(t, New(tm.Time), tm)
}

// FuzzUnmarshalJSON checks that no input panics, and that whatever decodes survives a round trip.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, seed := range []string{
		`"Thu, 03 Dec 2026 03:09:52 -0000"`, `"2026-12-03T03:09:52Z"`, `null`, `12`, `"`, `""`,
		`"Mon, 99 Foo 2026 25:61:61 +9999"`, `"2026-12-03T03:09:52.123456789+14:00"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var tm Time
		if err := tm.UnmarshalJSON(data); err != nil {
			return
		}
		out, err := tm.MarshalJSON()
		require.NoError(t, err)
		var back Time
		require.NoError(t, back.UnmarshalJSON(out), "re-reading %s", out)
		require.True(t, back.Equal(tm.Time), "%s → %s → %s", data, out, back)
	})
}

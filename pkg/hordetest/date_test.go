package hordetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/hordetime"
)

// TestServerDate: dates are written as the server writes them (flask-restx rfc822, UTC with
// -0000), and read back by the SDK's date type.
func TestServerDate(t *testing.T) {
	at := time.Date(2026, 12, 3, 4, 9, 52, 0, time.FixedZone("CET", 3600))
	b, err := json.Marshal(serverDate(at))
	require.NoError(t, err)
	assert.Equal(t, `"Thu, 03 Dec 2026 03:09:52 -0000"`, string(b))
	var back hordetime.Time
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, back.Equal(at))
}

package cli

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no command leaves a goroutine behind (workers, servers, pollers).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

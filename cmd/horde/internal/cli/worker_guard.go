package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The synthetic test backends answer in microseconds with made-up images and texts. A real
// Horde counts such a worker's results as "Generation unreasonably fast", raising the
// requester's and the worker's suspicion, and real people would receive the synthetic results.
// So --*-backend test serves only a Horde on a loopback address or a horde-go simulator, unless
// --allow-test-backends says otherwise.

// testBackendTarget explains why the test backends may serve hordeURL, or returns the error
// that refuses it.
func testBackendTarget(ctx context.Context, hc *http.Client, hordeURL string) (string, error) {
	u, err := url.Parse(hordeURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the Horde URL %q is not a URL", hordeURL)
	}
	host := u.Hostname()
	if host == "localhost" {
		return "the Horde is on this machine (localhost)", nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return "the Horde is on this machine (" + host + ")", nil
	}
	if isSimulator(ctx, hc, hordeURL) {
		return "the Horde is a horde-go simulator", nil
	}
	return "", fmt.Errorf("the test backends would serve %s, which is neither on this machine nor a horde-go simulator: "+
		"a real Horde flags their instant results as \"Generation unreasonably fast\" and real requesters would get "+
		"synthetic images; use a real backend, or pass --allow-test-backends if this Horde is yours and is meant for tests",
		u.Redacted())
}

// isSimulator asks the Horde's heartbeat who it is: the simulator answers with a Horde-Node
// header that starts "hordetest:".
func isSimulator(ctx context.Context, hc *http.Client, hordeURL string) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(hordeURL, "/")+"/v2/status/heartbeat", nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Horde-Node"), "hordetest:")
}

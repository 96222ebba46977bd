package cli

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/bridgedata"
	"github.com/horde-go/horde/pkg/worker/comfyui"
)

// stubHorde answers every request in memory with a heartbeat that names node: no request
// leaves the process, whatever host the URL names.
type stubHorde struct{ node string }

func (s stubHorde) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{}
	if s.node != "" {
		h.Set("Horde-Node", s.node)
	}
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(strings.NewReader(`{"message":"OK"}`)), Request: r}, nil
}

func TestTestBackendTarget(t *testing.T) {
	tests := []struct {
		name, url, node string
		allowed         bool
		why             string
	}{
		{"localhost", "http://localhost:7001/api", "", true, "on this machine (localhost)"},
		{"IPv4 loopback", "http://127.0.0.1:7001/api/", "", true, "on this machine (127.0.0.1)"},
		{"another loopback address", "http://127.3.2.1/api", "", true, "on this machine"},
		{"IPv6 loopback", "http://[::1]:7001/api", "", true, "on this machine (::1)"},
		{"a simulator elsewhere", "https://sim.example/api", "hordetest:0:5.1.5", true, "a horde-go simulator"},
		{"a real Horde", "https://horde.example/api", "aihorde-node:443:5.1.5", false, "neither on this machine nor a horde-go simulator"},
		{"the public Horde", "https://aihorde.net/api", "", false, "Generation unreasonably fast"},
		{"not a URL", "aihorde", "", false, "is not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := &http.Client{Transport: stubHorde{tt.node}}
			why, err := testBackendTarget(t.Context(), hc, tt.url)
			if tt.allowed {
				require.NoError(t, err)
				assert.Contains(t, why, tt.why)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.why)
			if tt.url != "aihorde" {
				assert.Contains(t, err.Error(), "--allow-test-backends", "the error says how to override")
			}
		})
	}
}

func TestComfyUIBackendNeedsSafetyDecision(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bridgeData.yaml")
	require.NoError(t, os.WriteFile(path, []byte("api_key: owner-key-0123456789\nhorde_url: http://127.0.0.1:9/api\n"), 0o644))
	var stdout, stderr syncBuffer
	r := runWith(t.Context(), nil, "", &stdout, &stderr, "worker", "--config", path, "--image-backend", "comfyui", "--text-backend", "none")
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, "--allow-unchecked-images")
}

func TestVisionBackendNeedsAServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bridgeData.yaml")
	require.NoError(t, os.WriteFile(path, []byte("api_key: owner-key-0123456789\nhorde_url: http://127.0.0.1:9/api\n"), 0o644))
	var stdout, stderr syncBuffer
	r := runWith(t.Context(), nil, "", &stdout, &stderr, "worker", "--config", path, "--alchemy-backend", "vision", "--text-backend", "none")
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, "vision_url")
}

// TestAlchemyBackends: --alchemy-backend takes several backends, each for its forms; ComfyUI
// serves images and post-processing as one backend.
func TestAlchemyBackends(t *testing.T) {
	cfg := &bridgedata.Config{VisionURL: "http://127.0.0.1:1", ComfyUIURL: "http://127.0.0.1:2"}
	tests := []struct {
		image, alchemy string
		check          func(t *testing.T, b worker.Backends)
	}{
		{"none", "vision,comfyui", func(t *testing.T, b worker.Backends) {
			assert.IsType(t, &worker.AlchemyByForm{}, b.Alchemy)
		}},
		{"comfyui", "comfyui", func(t *testing.T, b worker.Backends) {
			assert.Same(t, b.Image.(*comfyui.Backend), b.Alchemy.(*comfyui.Backend), "one ComfyUI, one backend")
		}},
		{"none", "comfyui", func(t *testing.T, b worker.Backends) {
			assert.IsType(t, &comfyui.Backend{}, b.Alchemy, "post-processing needs no safety checker")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.image+"+"+tt.alchemy, func(t *testing.T) {
			o := &workerOpts{image: tt.image, text: "none", alchemy: tt.alchemy}
			b, err := o.backends(cfg)
			require.NoError(t, err)
			tt.check(t, b)
		})
	}
}

// TestComfySafetyNodeFlag: a named ComfyUI safety node lets the ComfyUI backend start without
// --allow-unchecked-images; it needs the ComfyUI image backend.
func TestComfySafetyNodeFlag(t *testing.T) {
	cfg := &bridgedata.Config{ComfyUIURL: "http://127.0.0.1:2"}
	o := &workerOpts{image: "comfyui", text: "none", alchemy: "none"}
	_, err := o.backends(cfg)
	require.ErrorContains(t, err, "comfyui_safety_node or --comfyui-safety-node")
	o.comfySafetyNode = "Safety Checker"
	b, err := o.backends(cfg)
	require.NoError(t, err)
	assert.IsType(t, &comfyui.Backend{}, b.Image)

	o = &workerOpts{image: "test", comfySafetyNode: "Safety Checker"}
	_, err = o.imageSafety(t.Context(), cfg, nil)
	require.ErrorContains(t, err, "comfyui_safety_node needs --image-backend comfyui")
}

package worker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/internal/bridgeagent"
	"github.com/horde-go/horde/pkg/horde"
)

func TestDefaultBridgeAgent(t *testing.T) {
	a := DefaultBridgeAgent()
	name, rest, ok := strings.Cut(a, ":")
	require.True(t, ok)
	assert.Equal(t, "horde-go", name)
	version, url, ok := strings.Cut(rest, ":")
	require.True(t, ok)
	assert.Equal(t, horde.RepositoryURL, url)
	assert.Equal(t, agentVersion(horde.Version()), version)
	_, parses := bridgeagent.ParseSemver(version)
	assert.True(t, parses, "the server can parse %q", version)
	g := bridgeagent.For(a)
	assert.Equal(t, "horde-go", g.Name, "the server reads our own name, not unknown")
	_, foreign := bridgeagent.Foreign(a, AgentName)
	assert.False(t, foreign)
}

func TestAgentVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v0.0.0-20260101120000-abcdef123456", "0.0.0-20260101120000-abcdef123456"},
		{"v2.0.0+incompatible", "2.0.0+incompatible"},
		{"v1.0.0-rc.1", "1.0.0-rc.1"},
		{"devel", "0.0.0-devel"},
		{"(devel)", "0.0.0-devel"},
		{"", "0.0.0-devel"},
		{"v01.2.3", "0.0.0-devel"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, agentVersion(tt.in))
		})
	}
}

func TestUnservedAllowances(t *testing.T) {
	all := ImageOffer{AllowImg2Img: true, AllowPainting: true, AllowPostProcessing: true, AllowControlNet: true, AllowLoRA: true}
	tests := []struct {
		name, agent string
		offer       ImageOffer
		want        []string
	}{
		{"horde-go, img2img", DefaultBridgeAgent(), ImageOffer{AllowImg2Img: true}, []string{"AllowImg2Img"}},
		{"horde-go, all on", DefaultBridgeAgent(), all,
			[]string{"AllowImg2Img", "AllowPainting", "AllowPostProcessing", "AllowControlNet", "AllowLoRA"}},
		{"all off", DefaultBridgeAgent(), ImageOffer{}, nil},
		{"regen", "AI Horde Worker reGen:10.1.1:x", all, nil},
		{"old AI Horde Worker", "AI Horde Worker:21:x", ImageOffer{AllowLoRA: true}, []string{"AllowLoRA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, unservedAllowances(&tt.offer, bridgeagent.For(tt.agent)))
		})
	}
}

func TestLogBridgeAgent(t *testing.T) {
	image := &ImageOffer{Models: []string{"m"}, AllowImg2Img: true}
	text := &TextOffer{Models: []string{"m"}}
	tests := []struct {
		name     string
		s        Settings
		level    string
		contains []string
		absent   []string
	}{
		{"default image", Settings{Image: image}, "INFO",
			[]string{"bridge_name=horde-go", "image_features=none", "image_kudos_multiplier=0.75", "allowances_not_granted=AllowImg2Img", "docs/bridge-agent.md"},
			[]string{"text_validated"}},
		{"default text", Settings{Text: text}, "INFO",
			[]string{"text_validated=false", "text_kudos_multiplier=0.3"}, []string{"image_features"}},
		{"both", Settings{Image: &ImageOffer{Models: []string{"m"}}, Text: text}, "INFO",
			[]string{"image_features=none", "text_validated=false"}, []string{"allowances_not_granted"}},
		{"impersonation", Settings{Text: text, BridgeAgent: "AI Horde Worker~aphrodite~kai:24:x"}, "WARN",
			[]string{`impersonating \"AI Horde Worker~aphrodite~kai\"`, "text_validated=true", "text_kudos_multiplier=1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.s.Logger = slog.New(slog.NewTextHandler(&buf, nil))
			w := &Worker{s: tt.s.withDefaults()}
			w.logBridgeAgent(t.Context())
			out := buf.String()
			assert.Equal(t, 1, strings.Count(out, "\n"), "one line: %s", out)
			assert.Contains(t, out, "level="+tt.level)
			for _, s := range tt.contains {
				assert.Contains(t, out, s)
			}
			for _, s := range tt.absent {
				assert.NotContains(t, out, s)
			}
		})
	}
}

package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/horde-go/horde/internal/bridgeagent"
	"github.com/horde-go/horde/pkg/horde"
)

// AgentName is the bridge name horde-go workers send by default.
const AgentName = "horde-go"

// DefaultBridgeAgent returns the truthful default bridge agent,
// "horde-go:<version>:<repository>", with the SDK's version ([horde.Version]) written the way
// the Horde parses it: without Go's leading "v" ("v0.3.1" becomes "0.3.1"), and "0.0.0-devel"
// for a development build. The Horde reads the version as semver; a version it cannot parse
// makes it treat the whole agent as "unknown" in its records.
func DefaultBridgeAgent() string {
	return AgentName + ":" + agentVersion(horde.Version()) + ":" + horde.RepositoryURL
}

func agentVersion(v string) string {
	s := strings.TrimPrefix(v, "v")
	if _, ok := bridgeagent.ParseSemver(s); ok {
		return s
	}
	return "0.0.0-devel"
}

// allowances pairs an image offer's allowance with the feature the Horde checks for it.
var allowances = [...]struct {
	field, feature string
	on             func(*ImageOffer) bool
}{
	{"AllowImg2Img", "img2img", func(o *ImageOffer) bool { return o.AllowImg2Img }},
	{"AllowPainting", "inpainting", func(o *ImageOffer) bool { return o.AllowPainting }},
	{"AllowPostProcessing", "post-processing", func(o *ImageOffer) bool { return o.AllowPostProcessing }},
	{"AllowControlNet", "controlnet", func(o *ImageOffer) bool { return o.AllowControlNet }},
	{"AllowLoRA", "lora", func(o *ImageOffer) bool { return o.AllowLoRA }},
}

// unservedAllowances lists the allowances of the image offer that the Horde will not honour for
// the bridge agent, because its name lacks the feature.
func unservedAllowances(o *ImageOffer, g bridgeagent.Grants) []string {
	var out []string
	for _, a := range allowances {
		if a.on(o) && !g.Has(a.feature) {
			out = append(out, a.field)
		}
	}
	return out
}

// logBridgeAgent logs, in one line (a warning when the name is another project's), what the
// Horde grants the bridge agent for the kinds served: image features and kudos multiplier, the
// allowances it will not honour, text validation.
func (w *Worker) logBridgeAgent(ctx context.Context) {
	g := bridgeagent.For(w.s.BridgeAgent)
	attrs := []slog.Attr{slog.String("bridge_agent", g.Agent), slog.String("bridge_name", g.Name),
		slog.String("explained", "https://github.com/horde-go/horde/blob/main/docs/bridge-agent.md")}
	if w.s.Image != nil {
		feats := "none"
		if len(g.Features) > 0 {
			feats = strings.Join(g.Features, ",")
		}
		attrs = append(attrs, slog.String("image_features", feats), slog.Float64("image_kudos_multiplier", g.ImageKudosMultiplier))
		if un := unservedAllowances(w.s.Image, g); len(un) > 0 {
			attrs = append(attrs, slog.String("allowances_not_granted", strings.Join(un, ",")))
		}
	}
	if w.s.Text != nil {
		attrs = append(attrs, slog.Bool("text_validated", g.TextValidated), slog.Float64("text_kudos_multiplier", g.TextKudosMultiplier))
	}
	level, msg := slog.LevelInfo, "worker: bridge agent: the Horde grants features and kudos by its name"
	if name, foreign := bridgeagent.Foreign(w.s.BridgeAgent, AgentName); foreign {
		level = slog.LevelWarn
		msg = fmt.Sprintf("worker: bridge agent: impersonating %q; the Horde grants that project's features and kudos", name)
	}
	w.s.Logger.LogAttrs(ctx, level, msg, attrs...)
}

// Package bridgeagent is what the AI Horde grants a worker by its bridge agent
// ("name:version:url"): the gated image features, the samplers, the kudos multipliers and text
// validation, transcribed from the server's bridge reference (AI-Horde horde/bridge_reference.py,
// classes/stable/worker.py, classes/kobold/*.py at fbd5ed46). The worker uses it to say at start
// what the Horde will give it; docs/bridge-agent.md explains it for readers.
package bridgeagent

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Grants is what the Horde grants a worker by its bridge agent, as the server decides it
// (AI-Horde horde/bridge_reference.py, classes/stable/worker.py, classes/kobold/*.py at
// fbd5ed46). The server knows four image bridge names and five validated text bridge names;
// any other name, horde-go's included, gets no gated image feature and reduced kudos.
type Grants struct {
	// Agent is the bridge agent as sent.
	Agent string
	// Name and Version are how the server reads it: "unknown" and "0" when the agent is not
	// name:version:url with a semver version.
	Name, Version string
	// Features are the gated image capabilities the name gets at that version (img2img,
	// inpainting, r2, r2_source, post-processing, each post-processor, controlnet, lora,
	// hires_fix, tiling, …), sorted. The server's job filter (database/functions.py) hands a
	// name without "r2" only requests that set r2 false (requests default to true), without
	// img2img no job with a source image, without lora, post-processing or controlnet none
	// that asks for them, whatever the allow_* settings say; without r2_source it sends source
	// images inline as base64.
	Features []string
	// Samplers are the samplers the server lets the worker run with karras on; SamplersNoKarras
	// are the extra ones allowed without karras. An unknown name is treated as "AI Horde
	// Worker" 23 for samplers (only).
	Samplers, SamplersNoKarras []string
	// Official says the name is one of the Horde's own image workers.
	Official bool
	// ImageKudosMultiplier scales image job and uptime kudos: 1 for an official name at its
	// newest listed version, 0.9 for an older one, 0.75 for any other name.
	ImageKudosMultiplier float64
	// TextValidated says the name is a validated text backend; TextKudosMultiplier is then 1,
	// otherwise 0.3 (job and uptime kudos), and text requests that keep validated_backends on
	// (the default) skip the worker.
	TextValidated bool
	// TextKudosMultiplier: see TextValidated.
	TextKudosMultiplier float64
}

// Has reports whether the server grants feature.
func (g Grants) Has(feature string) bool { return slices.Contains(g.Features, feature) }

// agentCapabilities is the server's BRIDGE_CAPABILITIES: features by bridge name and the
// version from which they apply.
func agentCapabilities(name string) map[int][]string {
	switch name {
	case "AI Horde Worker reGen":
		return map[int][]string{
			13: {"4xNomos8kSC", "4xLSDIRplus", "4xNomosWebPhoto_RealPLKSR", "4xNomos2_realplksr_dysample", "4xNomos2_hq_dat2", "2xModernSpanimationV1", "GFPGANv1.3", "RestoreFormer"},
			9:  {"flux"},
			8:  {"layer_diffuse"},
			7:  {"qr_code", "extra_texts", "workflow"},
			6:  {"stable_cascade_2pass"},
			5:  {"extra_source_images"},
			3:  {"lora_versions"},
			2:  {"textual_inversion", "lora"},
			1: {"img2img", "inpainting", "karras", "post-processing", "GFPGAN", "RealESRGAN_x4plus", "r2", "CodeFormers",
				"clip_skip", "r2_source", "controlnet", "strip_background", "return_control_map", "RealESRGAN_x4plus_anime_6B",
				"NMKD_Siax", "4x_AnimeSharp", "image_is_control", "RealESRGAN_x2plus", "hires_fix", "tiling"},
		}
	case "AI Horde Worker":
		return map[int][]string{
			24: {"textual_inversion"}, 23: {"image_is_control"}, 22: {"lora"}, 21: {"RealESRGAN_x2plus"},
			19: {"NMKD_Siax", "4x_AnimeSharp"}, 18: {"strip_background", "return_control_map", "RealESRGAN_x4plus_anime_6B"},
			15: {"controlnet"}, 14: {"r2_source"}, 13: {"hires_fix", "clip_skip"}, 9: {"CodeFormers"}, 8: {"r2"},
			7: {"post-processing", "GFPGAN", "RealESRGAN_x4plus"}, 6: {"karras"}, 4: {"inpainting"}, 3: {"img2img"},
		}
	case "SD-WebUI Stable Horde Worker Bridge":
		return map[int][]string{4: {"clip_skip"}, 3: {"r2_source"}, 2: {"tiling"}, 1: {"inpainting", "karras", "r2", "CodeFormers"}}
	case "HordeAutoWebBridge":
		return map[int][]string{2: {"tiling"}, 1: {"painting", "img2img", "karras"}}
	}
	return nil
}

// agentSamplers is the server's BRIDGE_SAMPLERS: version -> {karras samplers, no-karras ones}.
func agentSamplers(name string) map[int][2][]string {
	k11 := []string{"k_lms", "k_heun", "k_euler", "k_euler_a", "k_dpm_2", "k_dpm_2_a", "k_dpm_fast", "k_dpm_adaptive", "k_dpmpp_2s_a", "k_dpmpp_2m"}
	switch name {
	case "AI Horde Worker reGen":
		return map[int][2][]string{3: {{"lcm"}, nil}, 2: {append(slices.Clone(k11), "k_dpmpp_sde", "dpmsolver", "DDIM"), nil}}
	case "AI Horde Worker":
		return map[int][2][]string{17: {nil, {"DDIM"}}, 12: {{"k_dpmpp_sde"}, nil}, 11: {append(slices.Clone(k11), "dpmsolver"), nil}}
	case "SD-WebUI Stable Horde Worker Bridge":
		return map[int][2][]string{1: {append(slices.Clone(k11), "k_dpmpp_sde"), {"DDIM", "plms"}}}
	case "HordeAutoWebBridge":
		return map[int][2][]string{1: {
			{"k_lms", "k_dpm_2", "k_dpm_2_a", "k_dpmpp_2s_a", "k_dpmpp_2m", "dpmsolver"},
			{"k_heun", "k_euler", "k_euler_a", "k_dpm_fast", "k_dpm_adaptive"},
		}}
	}
	return nil
}

// agentValidatedText is the server's LLM_VALIDATED_BACKENDS.
var agentValidatedText = [...]string{
	"AI Horde Worker", "AI Horde Worker~aphrodite~oai", "AI Horde Worker~aphrodite~kai", "KoboldCppEmbedWorker", "TabbyAPI",
}

// agentOfficial are the names is_official_bridge_version accepts.
var agentOfficial = [...]string{"AI Horde Worker reGen", "AI Horde Worker"}

// Semver is a parsed semver: major, minor, patch and whether it has a pre-release.
type Semver struct {
	v   [3]int
	pre bool
}

// SemverRe is semver with optional minor and patch, as python-semver parses it with
// optional_minor_and_patch=True (no leading "v").
var SemverRe = regexp.MustCompile(`^(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?)?` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

func ParseSemver(s string) (Semver, bool) {
	m := SemverRe.FindStringSubmatch(s)
	if m == nil {
		return Semver{}, false
	}
	var v Semver
	for i := range 3 {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return Semver{}, false
			}
			v.v[i] = n
		}
	}
	v.pre = m[4] != ""
	return v, true
}

// AtLeast reports whether v ≥ major.0.0 (a pre-release of major.0.0 is below it).
func (v Semver) AtLeast(major int) bool {
	switch {
	case v.v[0] != major:
		return v.v[0] > major
	case v.v[1] > 0 || v.v[2] > 0:
		return true
	}
	return !v.pre
}

// agentParse splits an agent as the server does: name, version, rest on the first two colons,
// the version parsed as semver; on any failure the name is "unknown" at version 0.
func parse(agent string) (string, string, Semver) {
	parts := strings.SplitN(agent, ":", 3)
	if len(parts) == 3 {
		if v, ok := ParseSemver(parts[1]); ok {
			return parts[0], parts[1], v
		}
	}
	return "unknown", "0", Semver{}
}

// For reports what the Horde grants the bridge agent: image features, samplers,
// kudos multipliers and whether it is a validated text backend.
func For(agent string) Grants {
	name, version, v := parse(agent)
	g := Grants{Agent: agent, Name: name, Version: version, Features: []string{}}
	caps := agentCapabilities(name)
	latest := 0
	for ver, feats := range caps {
		latest = max(latest, ver)
		if v.AtLeast(ver) {
			g.Features = append(g.Features, feats...)
		}
	}
	slices.Sort(g.Features)
	g.Features = slices.Compact(g.Features)

	sName, sVer := name, v
	samplers := agentSamplers(sName)
	if samplers == nil {
		sName, sVer = "AI Horde Worker", Semver{v: [3]int{23, 0, 0}}
		samplers = agentSamplers(sName)
	}
	for ver, s := range samplers {
		if sVer.AtLeast(ver) {
			g.Samplers = append(g.Samplers, s[0]...)
			g.SamplersNoKarras = append(g.SamplersNoKarras, s[1]...)
		}
	}
	slices.Sort(g.Samplers)
	g.Samplers = slices.Compact(g.Samplers)
	slices.Sort(g.SamplersNoKarras)
	g.SamplersNoKarras = slices.Compact(g.SamplersNoKarras)

	g.Official = slices.Contains(agentOfficial[:], name)
	switch {
	case !g.Official:
		g.ImageKudosMultiplier = 0.75
	case v.AtLeast(latest):
		g.ImageKudosMultiplier = 1
	default:
		g.ImageKudosMultiplier = 0.9
	}
	g.TextValidated = slices.Contains(agentValidatedText[:], name)
	g.TextKudosMultiplier = 0.3
	if g.TextValidated {
		g.TextKudosMultiplier = 1
	}
	return g
}

// Foreign reports whether the agent's name is that of another project the Horde knows (an image
// bridge, a validated text backend, or an upstream worker) rather than own's, and returns the name.
func Foreign(agent, own string) (string, bool) {
	name, _, _ := strings.Cut(agent, ":")
	name = strings.TrimSpace(name)
	if name == own || name == "" {
		return name, false
	}
	if agentCapabilities(name) != nil || slices.Contains(agentValidatedText[:], name) ||
		strings.HasPrefix(name, "AI Horde Worker") || strings.EqualFold(name, "horde_sdk") {
		return name, true
	}
	return name, false
}

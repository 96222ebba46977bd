package bridgedata

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/params"
)

// MetaKind is the kind of a model meta instruction.
type MetaKind string

// Meta instructions of models_to_load and models_to_skip (horde_sdk's MetaInstruction).
const (
	MetaAll        MetaKind = "all"
	MetaAllSDXL    MetaKind = "all sdxl"
	MetaAllSD15    MetaKind = "all sd15"
	MetaAllSD21    MetaKind = "all sd21"
	MetaAllSFW     MetaKind = "all sfw"
	MetaAllNSFW    MetaKind = "all nsfw"
	MetaAllInpaint MetaKind = "all inpainting"
	MetaTop        MetaKind = "top"
	MetaBottom     MetaKind = "bottom"
)

// MetaInstruction is a parsed meta instruction: "top 5" is {MetaTop, 5}.
type MetaInstruction struct {
	// Kind is the instruction.
	Kind MetaKind
	// N is the count of MetaTop and MetaBottom.
	N int
}

// String returns the canonical spelling ("top 5", "all sdxl").
func (m MetaInstruction) String() string {
	if m.Kind == MetaTop || m.Kind == MetaBottom {
		return string(m.Kind) + " " + strconv.Itoa(m.N)
	}
	return string(m.Kind)
}

var (
	cfgMetaAllRe = regexp.MustCompile(`(?i)^all(?:\s+(sdxl|sd15|sd21|sfw|nsfw|inpainting))?(?:\s+models?)?$`)
	cfgMetaTopRe = regexp.MustCompile(`(?i)^(top|bottom)\s+(\S+)(?:\s+models?)?$`)
)

// ParseMetaInstruction reports whether s is a meta instruction ("all", "all models", "all sdxl",
// "top 5", "BOTTOM 3 models", …; case-insensitive, surrounding spaces ignored). isMeta is true
// for anything that starts like "top"/"bottom" followed by a count; err then says when the
// count is not a positive integer. Unlike upstream, which matches only a prefix, the whole
// entry must match, so a model whose name merely starts with "all" stays a model name.
func ParseMetaInstruction(s string) (m MetaInstruction, isMeta bool, err error) {
	s = strings.TrimSpace(s)
	if g := cfgMetaAllRe.FindStringSubmatch(s); g != nil {
		if g[1] == "" {
			return MetaInstruction{Kind: MetaAll}, true, nil
		}
		return MetaInstruction{Kind: MetaKind("all " + strings.ToLower(g[1]))}, true, nil
	}
	if g := cfgMetaTopRe.FindStringSubmatch(s); g != nil {
		kind := MetaKind(strings.ToLower(g[1]))
		n, convErr := strconv.Atoi(g[2])
		if convErr != nil || n < 1 {
			return MetaInstruction{Kind: kind}, true, fmt.Errorf("%s needs a positive number of models", kind)
		}
		return MetaInstruction{Kind: kind, N: n}, true, nil
	}
	return MetaInstruction{}, false, nil
}

// ModelStatsSource gives the Horde's image model statistics; *horde.Client is one.
type ModelStatsSource interface {
	ImageModelStats(ctx context.Context, params *gen.GetImageHordeStatsModelsParams) (*gen.ImgModelStats, error)
}

// ErrNoModels is wrapped by the error of [ResolveImageModels] when nothing is left to load.
var ErrNoModels = errors.New("bridgedata: no model to load")

// cfgLargeBaselines are left out of meta expansions unless load_large_models is set. Upstream
// lists Stable Cascade and Flux.1; the baselines added since (Flux variants, Qwen Image,
// Z-Image) are at least as heavy, so they are treated alike (decision).
var cfgLargeBaselines = [...]params.Baseline{
	params.BaselineCascade, params.BaselineFlux1, params.BaselineFluxSchnell, params.BaselineFluxDev,
	params.BaselineQwenImage, params.BaselineZImageTurbo,
}

// ResolveImageModels turns the configured models_to_load into the model names to offer:
//
//  1. plain names are kept as written; meta instructions expand: "all" to every model of the
//     reference, "all sdxl|sd15|sd21" to a baseline (sd21 covers both SD2 baselines), "all
//     sfw|nsfw|inpainting" by the record's flags, "top N"/"bottom N" to the N most/least used
//     models of the month by the Horde's statistics (model_state=known; ties by name).
//     Expansions leave out large models unless load_large_models is set, and top/bottom count
//     only models that survive the later filters, so "top 3" gives three models when three
//     exist (upstream may give fewer);
//  2. models_to_skip is removed (its meta instructions expand the same way);
//  3. only names of the model reference are kept; each name dropped here gives a warning.
//
// stats is called only when a top/bottom instruction is present (it may then not be nil).
// The result keeps the order of first appearance, without duplicates. An empty result is an
// error naming models_to_load that wraps [ErrNoModels].
func ResolveImageModels(ctx context.Context, cfg *Config, stats ModelStatsSource, ref *params.ImageModelReference) ([]string, []Warning, error) {
	if cfg == nil {
		return nil, nil, errors.New("bridgedata: resolve models: nil configuration")
	}
	if ref == nil {
		return nil, nil, errors.New("bridgedata: resolve models: nil model reference")
	}
	r := cfgResolver{cfg: cfg, ref: ref, stats: stats}
	skip, err := r.expand(ctx, cfg.ModelsToSkip, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("bridgedata: models_to_skip: %w", err)
	}
	skipSet := make(map[string]bool, len(skip))
	for _, s := range skip {
		skipSet[s] = true
	}
	load, err := r.expand(ctx, cfg.ModelsToLoad, skipSet)
	if err != nil {
		return nil, nil, fmt.Errorf("bridgedata: models_to_load: %w", err)
	}
	var out []string
	var warns []Warning
	seen := make(map[string]bool, len(load))
	for _, name := range load {
		if seen[name] || skipSet[name] {
			continue
		}
		seen[name] = true
		if _, ok := ref.Get(name); !ok {
			warns = append(warns, Warning{Key: "models_to_load", Message: fmt.Sprintf("%q is not in the model reference; left out", name)})
			continue
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, warns, fmt.Errorf("bridgedata: models_to_load: %w after resolving meta instructions, removing models_to_skip and keeping the models of the model reference (entries: %q)", ErrNoModels, cfg.ModelsToLoad)
	}
	return out, warns, nil
}

type cfgResolver struct {
	cfg   *Config
	ref   *params.ImageModelReference
	stats ModelStatsSource
	month map[string]int // fetched once
}

// expand expands one list; exclude (the skip set) narrows top/bottom candidates.
func (r *cfgResolver) expand(ctx context.Context, entries []string, exclude map[string]bool) ([]string, error) {
	var out []string
	for _, e := range entries {
		m, isMeta, err := ParseMetaInstruction(e)
		if !isMeta {
			out = append(out, strings.TrimSpace(e))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", e, err)
		}
		names, err := r.meta(ctx, m, exclude)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", e, err)
		}
		out = append(out, names...)
	}
	return out, nil
}

// meta expands one instruction over the reference, large models left out unless allowed.
func (r *cfgResolver) meta(ctx context.Context, m MetaInstruction, exclude map[string]bool) ([]string, error) {
	keep := func(rec params.ImageModelRecord) bool {
		if !r.cfg.LoadLargeModels && slices.Contains(cfgLargeBaselines[:], rec.Baseline) {
			return false
		}
		switch m.Kind {
		case MetaAllSDXL:
			return rec.Baseline == params.BaselineSDXL
		case MetaAllSD15:
			return rec.Baseline == params.BaselineSD1
		case MetaAllSD21:
			return rec.Baseline == params.BaselineSD2_512 || rec.Baseline == params.BaselineSD2_768
		case MetaAllSFW:
			return !rec.NSFW
		case MetaAllNSFW:
			return rec.NSFW
		case MetaAllInpaint:
			return rec.Inpainting
		}
		return true
	}
	var candidates []string
	for _, name := range r.ref.Names() {
		rec, _ := r.ref.Get(name)
		if keep(rec) {
			candidates = append(candidates, name)
		}
	}
	if m.Kind != MetaTop && m.Kind != MetaBottom {
		return candidates, nil
	}
	month, err := r.monthCounts(ctx)
	if err != nil {
		return nil, err
	}
	ranked := candidates[:0:0]
	for _, name := range candidates {
		if _, used := month[name]; used && !exclude[name] {
			ranked = append(ranked, name)
		}
	}
	slices.SortStableFunc(ranked, func(a, b string) int {
		if c := cmp.Compare(month[a], month[b]); c != 0 {
			if m.Kind == MetaTop {
				return -c
			}
			return c
		}
		return strings.Compare(a, b)
	})
	if len(ranked) > m.N {
		ranked = ranked[:m.N]
	}
	return ranked, nil
}

func (r *cfgResolver) monthCounts(ctx context.Context) (map[string]int, error) {
	if r.month != nil {
		return r.month, nil
	}
	if r.stats == nil {
		return nil, errors.New("top/bottom instructions need the Horde's model statistics, and no source was given")
	}
	state := "known"
	st, err := r.stats.ImageModelStats(ctx, &gen.GetImageHordeStatsModelsParams{ModelState: &state})
	if err != nil {
		return nil, fmt.Errorf("fetch image model statistics: %w", err)
	}
	r.month = map[string]int{}
	if st != nil {
		for name, n := range st.Month {
			if strings.TrimSpace(name) != "" {
				r.month[name] = n
			}
		}
	}
	return r.month, nil
}

package bridgedata

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

// The stats source *horde.Client satisfies.
var _ ModelStatsSource = (*horde.Client)(nil)

type cfgFakeStats struct {
	month map[string]int
	err   error
	calls int
	state string
}

func (f *cfgFakeStats) ImageModelStats(_ context.Context, p *gen.GetImageHordeStatsModelsParams) (*gen.ImgModelStats, error) {
	f.calls++
	if p != nil && p.ModelState != nil {
		f.state = *p.ModelState
	}
	if f.err != nil {
		return nil, f.err
	}
	return &gen.ImgModelStats{Month: f.month}, nil
}

func cfgTestRef(t *testing.T) *params.ImageModelReference {
	t.Helper()
	ref, err := params.LoadImageModelReferenceFile(filepath.Join("testdata", "config", "models.json"))
	require.NoError(t, err)
	return ref
}

func TestParseMetaInstruction(t *testing.T) {
	tests := []struct {
		in     string
		want   MetaInstruction
		isMeta bool
		err    bool
	}{
		{"all", MetaInstruction{Kind: MetaAll}, true, false},
		{"ALL Models", MetaInstruction{Kind: MetaAll}, true, false},
		{"all model", MetaInstruction{Kind: MetaAll}, true, false},
		{"all sdxl", MetaInstruction{Kind: MetaAllSDXL}, true, false},
		{" All SDXL models ", MetaInstruction{Kind: MetaAllSDXL}, true, false},
		{"all sd15", MetaInstruction{Kind: MetaAllSD15}, true, false},
		{"all sd21 models", MetaInstruction{Kind: MetaAllSD21}, true, false},
		{"all sfw", MetaInstruction{Kind: MetaAllSFW}, true, false},
		{"all nsfw", MetaInstruction{Kind: MetaAllNSFW}, true, false},
		{"all inpainting models", MetaInstruction{Kind: MetaAllInpaint}, true, false},
		{"top 5", MetaInstruction{Kind: MetaTop, N: 5}, true, false},
		{"TOP 12 models", MetaInstruction{Kind: MetaTop, N: 12}, true, false},
		{"bottom 3", MetaInstruction{Kind: MetaBottom, N: 3}, true, false},
		{"top 0", MetaInstruction{Kind: MetaTop}, true, true},
		{"bottom x", MetaInstruction{Kind: MetaBottom}, true, true},
		{"top -2", MetaInstruction{Kind: MetaTop}, true, true},
		{"Deliberate", MetaInstruction{}, false, false},
		{"allegro", MetaInstruction{}, false, false},
		{"all sdxl extra", MetaInstruction{}, false, false},
		{"topaz", MetaInstruction{}, false, false},
		{"top", MetaInstruction{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, isMeta, err := ParseMetaInstruction(tt.in)
			assert.Equal(t, tt.want, m)
			assert.Equal(t, tt.isMeta, isMeta)
			assert.Equal(t, tt.err, err != nil, "%v", err)
		})
	}
	assert.Equal(t, "top 5", MetaInstruction{Kind: MetaTop, N: 5}.String())
	assert.Equal(t, "all sdxl", MetaInstruction{Kind: MetaAllSDXL}.String())
}

func TestResolveImageModels(t *testing.T) {
	month := map[string]int{
		"Deliberate": 900, "AlbedoBase XL (SDXL)": 800, "Juggernaut XL": 700, "Anything Diffusion": 100,
		"stable_diffusion_2.1": 5, "Stable Cascade 1.0": 1000, "Flux.1-Schnell fp8 (Compact)": 950,
		"Deliberate Inpainting": 100, "": 99999,
	}
	tests := []struct {
		name       string
		load, skip []string
		large      bool
		want       []string
		wantWarns  int
		wantCalls  int
	}{
		{"plain names", []string{"Deliberate", "Juggernaut XL"}, nil, false, []string{"Deliberate", "Juggernaut XL"}, 0, 0},
		{"unknown name dropped", []string{"Deliberate", "NotAModel"}, nil, false, []string{"Deliberate"}, 1, 0},
		{"top 2", []string{"top 2"}, nil, false, []string{"Deliberate", "AlbedoBase XL (SDXL)"}, 0, 1},
		{"top 2 with large", []string{"top 2"}, nil, true, []string{"Stable Cascade 1.0", "Flux.1-Schnell fp8 (Compact)"}, 0, 1},
		{"top 2 skipping first", []string{"top 2"}, []string{"Deliberate"}, false, []string{"AlbedoBase XL (SDXL)", "Juggernaut XL"}, 0, 1},
		{"bottom 2 ties by name", []string{"bottom 2"}, nil, false, []string{"stable_diffusion_2.1", "Anything Diffusion"}, 0, 1},
		{"top more than exist", []string{"top 50"}, nil, false, []string{"Deliberate", "AlbedoBase XL (SDXL)", "Juggernaut XL", "Anything Diffusion", "Deliberate Inpainting", "stable_diffusion_2.1"}, 0, 1},
		{"all", []string{"all"}, nil, false, []string{"AlbedoBase XL (SDXL)", "Anything Diffusion", "Deliberate", "Deliberate Inpainting", "Juggernaut XL", "stable_diffusion_2.1"}, 0, 0},
		{"all with large", []string{"all"}, nil, true, []string{"AlbedoBase XL (SDXL)", "Anything Diffusion", "Deliberate", "Deliberate Inpainting", "Flux.1-Schnell fp8 (Compact)", "Juggernaut XL", "Stable Cascade 1.0", "stable_diffusion_2.1"}, 0, 0},
		{"all sdxl", []string{"all sdxl"}, nil, false, []string{"AlbedoBase XL (SDXL)", "Juggernaut XL"}, 0, 0},
		{"all sd15", []string{"all sd15"}, nil, false, []string{"Anything Diffusion", "Deliberate", "Deliberate Inpainting"}, 0, 0},
		{"all sd21", []string{"all sd21"}, nil, false, []string{"stable_diffusion_2.1"}, 0, 0},
		{"all sfw", []string{"all sfw"}, nil, false, []string{"AlbedoBase XL (SDXL)", "Anything Diffusion", "stable_diffusion_2.1"}, 0, 0},
		{"all nsfw", []string{"all nsfw"}, nil, false, []string{"Deliberate", "Deliberate Inpainting", "Juggernaut XL"}, 0, 0},
		{"all inpainting", []string{"all inpainting"}, nil, false, []string{"Deliberate Inpainting"}, 0, 0},
		{"skip meta", []string{"all"}, []string{"all sd15", "Juggernaut XL"}, false, []string{"AlbedoBase XL (SDXL)", "stable_diffusion_2.1"}, 0, 0},
		{"explicit large kept", []string{"Stable Cascade 1.0"}, nil, false, []string{"Stable Cascade 1.0"}, 0, 0},
		{"meta after meta not skipped", []string{"all sdxl", "all sd21", "Deliberate"}, nil, false, []string{"AlbedoBase XL (SDXL)", "Juggernaut XL", "stable_diffusion_2.1", "Deliberate"}, 0, 0},
		{"duplicates once", []string{"Deliberate", "top 1", "all nsfw"}, nil, false, []string{"Deliberate", "Deliberate Inpainting", "Juggernaut XL"}, 0, 1},
		{"stats fetched once", []string{"top 1", "bottom 1"}, nil, false, []string{"Deliberate", "stable_diffusion_2.1"}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.ModelsToLoad, c.ModelsToSkip, c.LoadLargeModels = tt.load, tt.skip, tt.large
			stats := &cfgFakeStats{month: month}
			got, warns, err := ResolveImageModels(context.Background(), c, stats, cfgTestRef(t))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Len(t, warns, tt.wantWarns)
			assert.Equal(t, tt.wantCalls, stats.calls)
			if tt.wantCalls > 0 {
				assert.Equal(t, "known", stats.state)
			}
		})
	}
}

func TestResolveImageModelsErrors(t *testing.T) {
	tests := []struct {
		name       string
		load, skip []string
		stats      ModelStatsSource
		wantIs     error
		wantSubstr string
	}{
		{"all skipped", []string{"Deliberate"}, []string{"Deliberate"}, nil, ErrNoModels, "models_to_load"},
		{"all unknown", []string{"Nope", "Neither"}, nil, nil, ErrNoModels, "models_to_load"},
		{"no stats for top", []string{"top 3"}, nil, nil, nil, "models_to_load: \"top 3\": top/bottom instructions need"},
		{"stats error", []string{"top 3"}, nil, &cfgFakeStats{err: errors.New("boom")}, nil, "fetch image model statistics: boom"},
		{"stats error in skip", []string{"all"}, []string{"bottom 1"}, &cfgFakeStats{err: errors.New("boom")}, nil, "models_to_skip"},
		{"empty stats", []string{"top 3"}, nil, &cfgFakeStats{}, ErrNoModels, "models_to_load"},
		{"bad meta set in code", []string{"top 0"}, nil, &cfgFakeStats{}, nil, "top needs a positive number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.ModelsToLoad, c.ModelsToSkip = tt.load, tt.skip
			got, _, err := ResolveImageModels(context.Background(), c, tt.stats, cfgTestRef(t))
			require.Error(t, err)
			assert.Nil(t, got)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.Contains(t, err.Error(), tt.wantSubstr)
		})
	}
	_, _, err := ResolveImageModels(context.Background(), nil, nil, cfgTestRef(t))
	assert.Error(t, err)
	_, _, err = ResolveImageModels(context.Background(), Default(), nil, nil)
	assert.Error(t, err)
}

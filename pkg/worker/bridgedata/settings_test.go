package bridgedata

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/params"
)

func TestConfigSettings(t *testing.T) {
	ref := cfgTestRef(t)
	tests := []struct {
		name                 string
		yaml                 string
		src                  Sources
		image, text, alchemy bool
		wantModels           []string
		wantErr              string
	}{
		{name: "image", yaml: "models_to_load: [top 1]\nmax_threads: 2\nqueue_size: 2\nnsfw: false\nstats_output_frequency: 10",
			src:   Sources{Kinds: []horde.Kind{horde.KindImage}, ModelReference: ref, Stats: &cfgFakeStats{month: map[string]int{"Deliberate": 3}}},
			image: true, wantModels: []string{"Deliberate"}},
		{name: "all kinds", yaml: "models_to_load: [Deliberate]\ntext_model: M",
			src:   Sources{Kinds: []horde.Kind{horde.KindImage, horde.KindText, horde.KindAlchemy}, ModelReference: ref},
			image: true, text: true, alchemy: true, wantModels: []string{"Deliberate"}},
		{name: "text only needs no reference", yaml: "",
			src:  Sources{Kinds: []horde.Kind{horde.KindText}, TextModel: "M"},
			text: true},
		{name: "no kinds", src: Sources{}, wantErr: "no kind"},
		{name: "image without reference", src: Sources{Kinds: []horde.Kind{horde.KindImage}}, wantErr: "nil model reference"},
		{name: "image without models", yaml: "models_to_load: [Nope]", src: Sources{Kinds: []horde.Kind{horde.KindImage}, ModelReference: ref}, wantErr: "models_to_load"},
		{name: "text without model", src: Sources{Kinds: []horde.Kind{horde.KindText}}, wantErr: "no model"},
		{name: "unknown kind", src: Sources{Kinds: []horde.Kind{"video"}}, wantErr: `unknown kind "video"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfgTestConfig(t, tt.yaml)
			s, _, err := c.Settings(context.Background(), tt.src)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.image, s.Image != nil)
			assert.Equal(t, tt.text, s.Text != nil)
			assert.Equal(t, tt.alchemy, s.Alchemy != nil)
			assert.Equal(t, c.BridgeAgent, s.BridgeAgent)
			assert.Equal(t, c.MaxThreads, s.Threads)
			assert.Equal(t, c.QueueSize, s.QueueSize)
			assert.Equal(t, c.NSFW, s.ServeNSFW)
			assert.Equal(t, c.StatsOutputFrequency, s.StatsInterval)
			if tt.image {
				assert.Equal(t, tt.wantModels, s.Image.Models)
				require.NotNil(t, s.Image.ModelReference)
				assert.Equal(t, params.BaselineSD1, params.BaselineOf(s.Image.ModelReference)("Deliberate"))
			}
		})
	}
	c := cfgTestConfig(t, "max_threads: 2\nqueue_size: 2\nnsfw: false\nstats_output_frequency: 10\ntext_model: M\n"+
		"priority_usernames: [\"a#1\"]\nrequire_upfront_kudos: true")
	s, _, err := c.Settings(context.Background(), Sources{Kinds: []horde.Kind{horde.KindText}})
	require.NoError(t, err)
	assert.Equal(t, 2, s.Threads)
	assert.Equal(t, 2, s.QueueSize)
	assert.False(t, s.ServeNSFW)
	assert.Equal(t, 10*time.Second, s.StatsInterval)
	assert.Equal(t, []string{"a#1"}, s.PriorityUsernames)
	assert.True(t, s.RequireUpfrontKudos)
	assert.False(t, s.ExtraSlowWorker)
	c = cfgTestConfig(t, "extra_slow_worker: true\ntext_model: M")
	s, _, err = c.Settings(context.Background(), Sources{Kinds: []horde.Kind{horde.KindText}})
	require.NoError(t, err)
	assert.True(t, s.ExtraSlowWorker)
}

package adapters_test

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/adapters"
	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// coveredPops are the pop responses checked field by field in pop_test.go.
var coveredPops = map[string]bool{
	"examples/responses/_v2_generate_pop_post_200.json":      true,
	"examples/responses/_v2_generate_text_pop_post_200.json": true,
	"examples/responses/_v2_interrogate_pop_post_200.json":   true,
	"examples/production/_v2_interrogate_pop_post_200.json":  true,
	"live/generate_pop_200.json":                             true,
	"live/text_pop_200.json":                                 true,
}

// TestEveryPopFixtureIsCovered fails when a pop response is added to the
// fixtures without a field-by-field test.
func TestEveryPopFixtureIsCovered(t *testing.T) {
	var found []string
	err := filepath.WalkDir(fixtures, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(fixtures, path)
		rel = filepath.ToSlash(rel)
		if strings.Contains(rel, "pop") && strings.Contains(rel, "_200") {
			found = append(found, rel)
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, found, len(coveredPops))
	for _, f := range found {
		assert.True(t, coveredPops[f], "pop fixture %s has no conversion test", f)
	}
}

// The model reference is the baseline lookup a worker uses.
func TestImagePopWithModelReference(t *testing.T) {
	ref, err := params.LoadImageModelReferenceFile("../params/testdata/stable_diffusion.json")
	require.NoError(t, err)
	pop := imagePop(func(p *gen.GenerationPayloadStable) {
		p.Model = params.Ptr("Deliberate")
		p.Payload.HiresFix = params.Ptr(true)
		p.Payload.Width, p.Payload.Height = params.Ptr(1024), params.Ptr(768)
		p.Payload.DdimSteps = params.Ptr(30)
		p.Payload.HiresFixDenoisingStrength = params.Ptr(0.8)
	})
	job, err := adapters.ImageFromPop(pop, params.BaselineOf(ref))
	require.NoError(t, err)
	assert.Equal(t, params.BaselineSD1, job.Params.Baseline)
	require.NotNil(t, job.Params.HiresFix.FirstPass)
	assert.Equal(t, params.HiresPass{Width: 640, Height: 512, Steps: 30, DenoisingStrength: 1}, *job.Params.HiresFix.FirstPass)
	assert.Equal(t, params.HiresPass{Width: 1024, Height: 768, Steps: 18, DenoisingStrength: 0.8}, *job.Params.HiresFix.SecondPass)
	require.NoError(t, job.Params.Validate())
	ok, reasons := (&params.WorkerFeatureFlags{}).Supports(job.Params.FeatureFlags())
	assert.False(t, ok)
	assert.Equal(t, "hires_fix", reasons[0].Feature)
}

package adapters_test

import (
	"testing"

	"github.com/horde-go/horde/gen"
	"github.com/horde-go/horde/pkg/adapters"
	"github.com/horde-go/horde/pkg/params"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestImageSubmit(t *testing.T) {
	job, err := adapters.ImageFromPop(imagePop(func(p *gen.GenerationPayloadStable) {
		p.R2Uploads = []string{"https://r2/1"} // id2 has no URL: inline path
		p.SourceImage = params.Ptr("%%")       // a fault to carry
	}), nil)
	require.NoError(t, err)
	require.Len(t, job.Faults, 1)

	tests := []struct {
		name    string
		res     adapters.ImageResult
		gen     string
		upload  string
		state   *gen.SubmitState
		mdCount int
	}{
		{"r2", adapters.ImageResult{ID: "id1", Seed: 7, Image: []byte("img")}, "R2", "https://r2/1", nil, 1},
		{"inline base64", adapters.ImageResult{ID: "id2", Seed: 8, Image: []byte("img")}, "aW1n", "", nil, 1},
		{"faulted", adapters.ImageResult{ID: "id1", State: gen.SubmitStateFaulted,
			Metadata: []gen.GenerationMetadataStable{{Type: gen.MetadataTypeInformation, Value: gen.MetadataValueSeeRef, Ref: params.Ptr("oom")}}},
			"Faulted", "", params.Ptr(gen.SubmitStateFaulted), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, up := adapters.ImageSubmit(&job, tt.res)
			assert.Equal(t, tt.res.ID, body.ID)
			assert.Equal(t, tt.res.Seed, body.Seed)
			assert.Equal(t, tt.gen, *body.Generation)
			assert.Equal(t, tt.upload, up)
			assert.Equal(t, tt.state, body.State)
			assert.Len(t, body.GenMetadata, tt.mdCount)
			assert.Equal(t, job.Faults[0], body.GenMetadata[0])
		})
	}
	// The job's faults slice is not modified by appending result metadata.
	assert.Len(t, job.Faults, 1)
}

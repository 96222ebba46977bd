package adapters

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
)

// TestImageRequestModels: no model chosen leaves models out (the server picks
// stable_diffusion); an empty, non-nil RequestOptions.Models sends [] (any model); and both
// survive the way back.
func TestImageRequestModels(t *testing.T) {
	tests := []struct {
		name    string
		model   string
		models  []string
		want    string
		wantOpt []string
	}{
		{"absent", "", nil, `null`, nil},
		{"any model", "", []string{}, `[]`, []string{}},
		{"one model", "m", nil, `["m"]`, nil},
		{"several", "", []string{"a", "b"}, `["a","b"]`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := &params.Image{Prompt: "p", Model: tt.model}
			req, err := ImageRequest(img, &params.RequestOptions{Models: tt.models})
			require.NoError(t, err)
			got, err := json.Marshal(req.Models)
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(got))
			back, opts, err := ImageFromRequest(&req)
			require.NoError(t, err)
			assert.Equal(t, tt.model, back.Model)
			assert.Equal(t, tt.wantOpt, opts.Models)
		})
	}
}

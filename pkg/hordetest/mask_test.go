package hordetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFieldMasks: X-Fields filters a successful answer as flask-restx's masks do.
func TestFieldMasks(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name, path, mask string
		status           int
		want             any
	}{
		{"braces", "v2/users/1", "{username,kudos}", 200, map[string]any{"username": "alice#1", "kudos": 1000.0}},
		{"no braces", "v2/users/1", "username,id", 200, map[string]any{"username": "alice#1", "id": 1.0}},
		{"a field the answer lacks is null", "v2/users/1", "{username,nosuch}", 200, map[string]any{"username": "alice#1", "nosuch": nil}},
		{"nested", "v2/users/1", "{username,kudos_details{gifted}}", 200, map[string]any{"username": "alice#1", "kudos_details": map[string]any{"gifted": 0.0}}},
		{"a list, element by element", "v2/status/news", "{title}", 200, []any{map[string]any{"title": "hordetest simulator"}}},
		{"unexpected comma", "v2/users/1", "{,username}", 400, map[string]any{"message": "Mask parse error: Unexpected comma"}},
		{"missing bracket", "v2/users/1", "{username", 400, map[string]any{"message": "Mask parse error: Missing closing bracket"}},
		{"closing bracket", "v2/users/1", "username}", 400, map[string]any{"message": "Mask parse error: Unexpected closing bracket"}},
		{"nested mask on a scalar", "v2/users/1", "{kudos{x}}", 400, map[string]any{"message": "Mask error: Mask is inconsistent with model"}},
		{"errors are not masked", "v2/users/999", "{username}", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, "GET", tt.path, "", nil, "X-Fields", tt.mask)
			assert.Equal(t, tt.status, r.status, string(r.raw))
			switch want := tt.want.(type) {
			case map[string]any:
				assert.Equal(t, want, r.body)
			case []any:
				assert.Equal(t, want, r.list)
			default:
				assert.Contains(t, r.body, "rc", "the error answer whole")
			}
		})
	}
	star := call(t, s, "GET", "v2/users/1", "", nil, "X-Fields", "{username,*}")
	full := call(t, s, "GET", "v2/users/1", "", nil)
	assert.Equal(t, full.body, star.body, "* keeps every other field")
}

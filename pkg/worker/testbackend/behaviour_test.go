package testbackend_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

// call runs one call of each kind of backend with the behaviour b.
func backends(b testbackend.Behaviour) map[string]func(context.Context) error {
	img := &testbackend.Image{Behaviour: b, ZeroCost: true}
	txt := &testbackend.Text{Behaviour: b, MaxWords: 4}
	alc := &testbackend.Alchemy{Behaviour: b}
	src := tinyPNG()
	return map[string]func(context.Context) error{
		"image": func(ctx context.Context) error {
			_, err := img.GenerateImages(ctx, &worker.ImageJob{ResultIDs: []string{"a"}})
			return err
		},
		"text": func(ctx context.Context) error {
			_, err := txt.GenerateText(ctx, &worker.TextJob{Params: params.Text{Prompt: "p"}})
			return err
		},
		"alchemy": func(ctx context.Context) error {
			_, err := alc.Alchemy(ctx, &worker.AlchemyJob{Op: params.AlchemyOp{Form: params.FormCaption, Source: params.ImageData{Data: src}}})
			return err
		},
	}
}

func TestFaultInjection(t *testing.T) {
	tests := []struct {
		name      string
		b         testbackend.Behaviour
		calls     int
		wantFails []int // 1-based call numbers that fail; nil = check count only
		wantCount int
	}{
		{"none", testbackend.Behaviour{}, 10, []int{}, 0},
		{"every 3rd", testbackend.Behaviour{FailEvery: 3}, 10, []int{3, 6, 9}, 3},
		{"every call", testbackend.Behaviour{FailEvery: 1}, 4, []int{1, 2, 3, 4}, 4},
		{"rate 1", testbackend.Behaviour{FailRate: 1}, 5, []int{1, 2, 3, 4, 5}, 5},
		{"rate 0.5", testbackend.Behaviour{FailRate: 0.5, FailSeed: 7}, 1000, nil, -1},
	}
	for _, tt := range tests {
		for kind, call := range backends(tt.b) {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				var fails []int
				for i := 1; i <= tt.calls; i++ {
					err := call(t.Context())
					if err != nil {
						require.ErrorIs(t, err, testbackend.ErrInjected)
						fails = append(fails, i)
					}
				}
				if tt.wantFails != nil {
					assert.Equal(t, tt.wantFails, append([]int{}, fails...))
					return
				}
				// A seeded rate: about half fail, and the same seed fails the same calls.
				assert.InDelta(t, 500, len(fails), 60)
				again := backends(tt.b)[kind]
				var fails2 []int
				for i := 1; i <= tt.calls; i++ {
					if again(t.Context()) != nil {
						fails2 = append(fails2, i)
					}
				}
				assert.Equal(t, fails, fails2)
			})
		}
	}
}

func TestFaultRateSeedMatters(t *testing.T) {
	run := func(seed uint64) []bool {
		call := backends(testbackend.Behaviour{FailRate: 0.5, FailSeed: seed})["text"]
		out := make([]bool, 64)
		for i := range out {
			out[i] = call(t.Context()) != nil
		}
		return out
	}
	assert.NotEqual(t, run(1), run(2))
}

func TestPanicEvery(t *testing.T) {
	for kind, call := range backends(testbackend.Behaviour{PanicEvery: 2}) {
		t.Run(kind, func(t *testing.T) {
			assert.NoError(t, call(t.Context()))
			assert.Panics(t, func() { _ = call(t.Context()) })
			assert.NoError(t, call(t.Context()))
		})
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for kind, call := range backends(testbackend.Behaviour{}) {
		t.Run(kind, func(t *testing.T) {
			assert.True(t, errors.Is(call(ctx), context.Canceled))
		})
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

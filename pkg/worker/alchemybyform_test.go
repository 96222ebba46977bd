package worker_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
)

// formBackend runs the forms it is given and says so in its results.
type formBackend struct {
	name  string
	forms []params.AlchemyForm // nil: it does not limit offers
}

func (b *formBackend) Alchemy(_ context.Context, job *worker.AlchemyJob) (worker.AlchemyOutput, error) {
	return worker.AlchemyOutput{Result: map[string]any{string(job.Op.Form): b.name}}, nil
}

type limitingBackend struct{ formBackend }

func (b *limitingBackend) LimitAlchemyOffer(_ context.Context, o *worker.AlchemyOffer) ([]string, error) {
	if len(o.Forms) == 0 {
		o.Forms = slices.Clone(b.forms)
		return nil, nil
	}
	var notes []string
	kept := o.Forms[:0:0]
	for _, f := range o.Forms {
		if slices.Contains(b.forms, f) {
			kept = append(kept, f)
		} else {
			notes = append(notes, fmt.Sprintf("form %q dropped: %s does not run it", f, b.name))
		}
	}
	o.Forms = kept
	return notes, nil
}

func TestAlchemyByForm(t *testing.T) {
	vision := &limitingBackend{formBackend{name: "vision", forms: []params.AlchemyForm{"caption", "nsfw"}}}
	comfy := &limitingBackend{formBackend{name: "comfy", forms: []params.AlchemyForm{"GFPGAN", "RealESRGAN_x4plus"}}}
	any := &formBackend{name: "any"}
	tests := []struct {
		name      string
		backends  []worker.AlchemyBackend
		offer     []params.AlchemyForm
		wantForms []params.AlchemyForm
		wantNotes []string
		routes    map[params.AlchemyForm]string // form → backend name; "" = refused
	}{
		{"each takes its own", []worker.AlchemyBackend{vision, comfy}, []params.AlchemyForm{"caption", "GFPGAN", "nsfw", "strip_background"},
			[]params.AlchemyForm{"caption", "GFPGAN", "nsfw"},
			[]string{`form "strip_background" dropped: vision does not run it`, `form "strip_background" dropped: comfy does not run it`},
			map[params.AlchemyForm]string{"caption": "vision", "nsfw": "vision", "GFPGAN": "comfy", "strip_background": ""}},
		{"no forms named: each chooses", []worker.AlchemyBackend{vision, comfy}, nil,
			[]params.AlchemyForm{"caption", "nsfw", "GFPGAN", "RealESRGAN_x4plus"}, nil,
			map[params.AlchemyForm]string{"caption": "vision", "RealESRGAN_x4plus": "comfy"}},
		{"a backend that does not limit takes the rest", []worker.AlchemyBackend{vision, any}, []params.AlchemyForm{"caption", "interrogation"},
			[]params.AlchemyForm{"caption", "interrogation"}, nil,
			map[params.AlchemyForm]string{"caption": "vision", "interrogation": "any"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := worker.NewAlchemyByForm(tt.backends...)
			o := &worker.AlchemyOffer{Forms: slices.Clone(tt.offer)}
			notes, err := m.LimitAlchemyOffer(t.Context(), o)
			require.NoError(t, err)
			assert.Equal(t, tt.wantForms, o.Forms)
			assert.ElementsMatch(t, tt.wantNotes, notes, "the notes about forms another backend took are gone")
			for form, want := range tt.routes {
				out, err := m.Alchemy(t.Context(), &worker.AlchemyJob{ID: "j", Op: params.AlchemyOp{Form: form}})
				if want == "" {
					require.ErrorContains(t, err, "no alchemy backend of this worker runs it")
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, want, out.Result[string(form)], form)
			}
		})
	}
}

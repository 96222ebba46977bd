package worker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/horde-go/horde/pkg/params"
)

// AlchemyByForm serves alchemy with several backends, each running the forms it can: for
// example a vision backend for caption and nsfw and a ComfyUI backend for the post-processors.
// At the worker's start (LimitAlchemyOffer) each backend in turn narrows the forms no earlier
// backend took (a backend that does not limit offers takes them all); a popped form goes to the
// backend that took it. An offer that names no form lets each backend choose its own. Create
// it with [NewAlchemyByForm]; it is safe for concurrent use.
type AlchemyByForm struct {
	backends []AlchemyBackend

	mu    sync.Mutex
	route map[params.AlchemyForm]AlchemyBackend
}

var (
	_ AlchemyBackend      = (*AlchemyByForm)(nil)
	_ AlchemyOfferLimiter = (*AlchemyByForm)(nil)
)

// NewAlchemyByForm combines alchemy backends, the first one first.
func NewAlchemyByForm(backends ...AlchemyBackend) *AlchemyByForm {
	return &AlchemyByForm{backends: slices.Clone(backends), route: map[params.AlchemyForm]AlchemyBackend{}}
}

// LimitAlchemyOffer lets each backend take the forms it runs, and keeps in the offer the forms
// some backend took. The notes are the backends' own, but for the forms another backend took.
func (m *AlchemyByForm) LimitAlchemyOffer(ctx context.Context, o *AlchemyOffer) ([]string, error) {
	route := map[params.AlchemyForm]AlchemyBackend{}
	var taken []params.AlchemyForm
	var notes []string
	chooseOwn := len(o.Forms) == 0
	left := slices.Clone(o.Forms)
	for i, b := range m.backends {
		if !chooseOwn && len(left) == 0 {
			break
		}
		sub := *o
		sub.Forms = slices.Clone(left)
		if l, ok := b.(AlchemyOfferLimiter); ok {
			n, err := l.LimitAlchemyOffer(ctx, &sub)
			if err != nil {
				return nil, fmt.Errorf("alchemy backend %d: %w", i+1, err)
			}
			notes = append(notes, n...)
		} else if chooseOwn {
			continue // a backend that names no forms of its own takes none of an empty offer
		}
		for _, f := range sub.Forms {
			if _, ok := route[f]; !ok {
				route[f] = b
				taken = append(taken, f)
			}
		}
		left = slices.DeleteFunc(left, func(f params.AlchemyForm) bool { _, ok := route[f]; return ok })
	}
	// A backend's note about a form another backend took says nothing true of the worker.
	notes = slices.DeleteFunc(notes, func(n string) bool {
		for _, f := range taken {
			if strings.Contains(n, strconv.Quote(string(f))+" dropped") {
				return true
			}
		}
		return false
	})
	if chooseOwn {
		o.Forms = taken
	} else {
		o.Forms = slices.DeleteFunc(slices.Clone(o.Forms), func(f params.AlchemyForm) bool { _, ok := route[f]; return !ok })
	}
	m.mu.Lock()
	m.route = route
	m.mu.Unlock()
	return notes, nil
}

// Alchemy runs the form on the backend that took it.
func (m *AlchemyByForm) Alchemy(ctx context.Context, job *AlchemyJob) (AlchemyOutput, error) {
	m.mu.Lock()
	b, ok := m.route[job.Op.Form]
	m.mu.Unlock()
	if !ok {
		return AlchemyOutput{}, fmt.Errorf("form %q: no alchemy backend of this worker runs it", job.Op.Form)
	}
	return b.Alchemy(ctx, job)
}

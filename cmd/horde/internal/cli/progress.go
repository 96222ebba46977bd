package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/horde-go/horde/pkg/horde"
)

// progress shows a request's snapshots: a bar on a terminal, otherwise one plain line each time
// the state changes (queue position, state, jobs), so logs stay short.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	total int
	bar   *progressbar.ProgressBar
	last  string
}

func newProgress(env Env, label string, total int) *progress {
	p := &progress{w: env.Stderr, label: label, total: max(total, 1)}
	if env.Terminal {
		p.bar = progressbar.NewOptions(p.total,
			progressbar.OptionSetWriter(env.Stderr),
			progressbar.OptionSetDescription(label+": submitting"),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(false),
		)
	}
	return p
}

// state names the request's state from a snapshot.
func state(pr horde.Progress) string {
	switch {
	case pr.State != "":
		return pr.State
	case pr.Faulted:
		return "faulted"
	case pr.Done:
		return "done"
	case !pr.Possible:
		return "waiting for a worker"
	case pr.Processing > 0:
		return "processing"
	default:
		return "waiting"
	}
}

func (p *progress) update(pr horde.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := fmt.Sprintf("%s %s", shortID(pr.ID), state(pr))
	if pr.QueuePosition > 0 {
		key += fmt.Sprintf(", queue position %d", pr.QueuePosition)
	}
	if pr.Kind != horde.KindAlchemy {
		key += fmt.Sprintf(", %d/%d done", pr.Finished, max(p.total, pr.Waiting+pr.Processing+pr.Finished))
	}
	desc := key
	if pr.WaitTime > 0 && !pr.Done {
		desc += fmt.Sprintf(", about %s left", pr.WaitTime.Round(time.Second))
	}
	if p.bar != nil {
		p.bar.Describe(p.label + " " + desc)
		_ = p.bar.Set(pr.Finished)
		return
	}
	if key == p.last {
		return
	}
	p.last = key
	fmt.Fprintf(p.w, "%s %s (%.1fs)\n", p.label, desc, pr.Elapsed.Seconds())
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// shortID is the first block of a request's UUID, enough to tell requests apart on a line.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

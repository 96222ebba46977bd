package testbackend

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/horde-go/horde/pkg/worker"
)

// DefaultTextLength is the length, in words, of a text whose job sets no MaxLength (the
// server's default max_length).
const DefaultTextLength = 80

// vocabulary is the words a [Text] draws from.
const vocabulary = `the a of and to in is was it for on with as at by from they we this
horde worker image text model prompt seed kudos river stone light shadow garden window
quiet bright ancient silver green distant small open warm cold north south morning evening
walks sings builds finds carries keeps turns opens waits listens remembers follows`

// Text is a deterministic text backend. It writes words drawn from a small vocabulary by a
// hash of the prompt and Seed: the same prompt gives the same text. The text has exactly
// MaxLength words (the job's MaxLength, else Params.MaxLength, else [DefaultTextLength]; at
// most MaxWords when that is set), counting one word as one token. When a stop sequence of
// the job occurs in the text, the text ends right after its first occurrence, as the Horde
// expects (the stop sequence is kept).
//
// The zero value is ready to use and safe for concurrent use; do not copy a Text after first
// use.
type Text struct {
	// Behaviour is the latency and the injected faults.
	Behaviour
	// Seed is mixed into the hash (the Horde's text payload carries no seed); it is reported
	// as TextOutput.Seed.
	Seed int
	// MaxWords, when > 0, caps the number of words, to keep throughput tests cheap.
	MaxWords int

	gate gate
}

// Calls returns the number of GenerateText calls so far, failed ones included.
func (b *Text) Calls() uint64 { return b.gate.calls.Load() }

// GenerateText writes the job's text.
func (b *Text) GenerateText(ctx context.Context, job *worker.TextJob) (worker.TextOutput, error) {
	if job == nil {
		return worker.TextOutput{}, fmt.Errorf("testbackend: nil text job")
	}
	if err := b.gate.enter(ctx, &b.Behaviour); err != nil {
		return worker.TextOutput{}, err
	}
	n := job.MaxLength
	if n <= 0 && job.Params.MaxLength != nil {
		n = *job.Params.MaxLength
	}
	if n <= 0 {
		n = DefaultTextLength
	}
	if b.MaxWords > 0 {
		n = min(n, b.MaxWords)
	}
	words := strings.Fields(vocabulary)
	r := stream{s: fnv64(job.Params.Prompt, strconv.Itoa(b.Seed))}
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(words[r.intn(len(words))])
	}
	text := cutAtStop(sb.String(), job.Params.StopSequences)
	return worker.TextOutput{Text: text, Seed: b.Seed}, nil
}

// cutAtStop ends text where a generator would have stopped: at the earliest point where the
// text so far ends with a stop sequence.
func cutAtStop(text string, stops []string) string {
	end := -1
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 && (end < 0 || i+len(s) < end) {
			end = i + len(s)
		}
	}
	if end < 0 {
		return text
	}
	return text[:end]
}

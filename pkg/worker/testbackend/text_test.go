package testbackend_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/testbackend"
)

func TestTextLength(t *testing.T) {
	tests := []struct {
		name      string
		backend   *testbackend.Text
		job       worker.TextJob
		wantWords int
	}{
		{"default", &testbackend.Text{}, worker.TextJob{}, testbackend.DefaultTextLength},
		{"job max length", &testbackend.Text{}, worker.TextJob{MaxLength: 17}, 17},
		{"params max length", &testbackend.Text{}, worker.TextJob{Params: params.Text{MaxLength: params.Ptr(33)}}, 33},
		{"job wins over params", &testbackend.Text{}, worker.TextJob{MaxLength: 5, Params: params.Text{MaxLength: params.Ptr(33)}}, 5},
		{"max words caps", &testbackend.Text{MaxWords: 3}, worker.TextJob{MaxLength: 50}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.job.Params.Prompt = "Once upon a time"
			out, err := tt.backend.GenerateText(t.Context(), &tt.job)
			require.NoError(t, err)
			assert.Len(t, strings.Fields(out.Text), tt.wantWords)
		})
	}
}

func TestTextDeterminism(t *testing.T) {
	gen := func(prompt string, seed int) worker.TextOutput {
		out, err := (&testbackend.Text{Seed: seed}).GenerateText(t.Context(), &worker.TextJob{Params: params.Text{Prompt: prompt}, MaxLength: 40})
		require.NoError(t, err)
		return out
	}
	a := gen("hello", 1)
	assert.Equal(t, a, gen("hello", 1))
	assert.NotEqual(t, a.Text, gen("hello", 2).Text)
	assert.NotEqual(t, a.Text, gen("hullo", 1).Text)
	assert.Equal(t, 2, gen("hello", 2).Seed)
}

func TestTextStopSequences(t *testing.T) {
	b := &testbackend.Text{}
	full, err := b.GenerateText(t.Context(), &worker.TextJob{Params: params.Text{Prompt: "p"}, MaxLength: 60})
	require.NoError(t, err)
	words := strings.Fields(full.Text)
	// Stop at the 5th word, and at a later one: the earliest wins and stays in the text.
	stop5 := " " + words[4] + " "
	i := strings.Index(full.Text, stop5)
	require.GreaterOrEqual(t, i, 0)
	want := full.Text[:i+len(stop5)]
	tests := []struct {
		name  string
		stops []string
		want  string
	}{
		{"no stop", nil, full.Text},
		{"absent stop", []string{"\n###"}, full.Text},
		{"stop kept", []string{stop5}, want},
		{"earliest wins", []string{strings.Join(words[len(words)-3:], " "), stop5, ""}, want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := b.GenerateText(t.Context(), &worker.TextJob{Params: params.Text{Prompt: "p", StopSequences: tt.stops}, MaxLength: 60})
			require.NoError(t, err)
			assert.Equal(t, tt.want, out.Text)
		})
	}
}

func TestTextNilJob(t *testing.T) {
	_, err := (&testbackend.Text{}).GenerateText(t.Context(), nil)
	assert.Error(t, err)
}

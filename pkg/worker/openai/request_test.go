package openai_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/horde-go/horde/pkg/params"
	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/openai"
)

// fullParams sets every sampling field.
func fullParams() params.Text {
	return params.Text{
		Prompt:                "Once upon a time",
		MaxLength:             params.Ptr(100),
		MaxContextLength:      params.Ptr(1024),
		Temperature:           params.Ptr(3.5),
		DynamicTempRange:      params.Ptr(0.5),
		DynamicTempExponent:   params.Ptr(1.5),
		SmoothingFactor:       params.Ptr(0.2),
		TopP:                  params.Ptr(0.9),
		TopK:                  params.Ptr(40),
		TopA:                  params.Ptr(0.1),
		MinP:                  params.Ptr(0.05),
		Typical:               params.Ptr(0.95),
		TFS:                   params.Ptr(0.97),
		RepPen:                params.Ptr(1.1),
		RepPenRange:           params.Ptr(320),
		RepPenSlope:           params.Ptr(0.7),
		SamplerOrder:          []int{6, 0, 1, 3, 4, 2, 5},
		StopSequences:         []string{"\nYou:", "", "\nMe:", "###", "END", "STOP"},
		UseDefaultBadWordsIDs: params.Ptr(true),
	}
}

func TestRequestJSON(t *testing.T) {
	seed := 7
	tests := []struct {
		name string
		cfg  openai.Config
		job  worker.TextJob
		want string
	}{
		{
			name: "minimal generic",
			cfg:  openai.Config{Model: "llama-3"},
			job:  worker.TextJob{Params: params.Text{Prompt: "Hi"}},
			want: `{"model":"llama-3","prompt":"Hi","max_tokens":80}`,
		},
		{
			name: "no model, seed",
			cfg:  openai.Config{Seed: &seed},
			job:  worker.TextJob{Params: params.Text{Prompt: "Hi"}, MaxLength: 20},
			want: `{"prompt":"Hi","max_tokens":20,"seed":7}`,
		},
		{
			name: "full generic",
			cfg:  openai.Config{Model: "m", MaxLength: 512, MaxContextLength: 4096},
			job:  worker.TextJob{Params: fullParams()},
			want: `{"model":"m","prompt":"Once upon a time","max_tokens":100,"temperature":3.5,"top_p":0.9,
				"stop":["\nYou:","\nMe:","###","END","STOP"],"top_k":40,"min_p":0.05,"typical_p":0.95,"tfs":0.97,
				"top_a":0.1,"repetition_penalty":1.1}`,
		},
		{
			name: "full strict",
			cfg:  openai.Config{Model: "m", Flavour: openai.Strict, MaxLength: 512, MaxContextLength: 4096},
			job:  worker.TextJob{Params: fullParams()},
			want: `{"model":"m","prompt":"Once upon a time","max_tokens":100,"temperature":2,"top_p":0.9,
				"stop":["\nYou:","\nMe:","###","END"]}`,
		},
		{
			name: "full llama.cpp",
			cfg:  openai.Config{Flavour: openai.LlamaCpp, MaxLength: 512, MaxContextLength: 4096},
			job:  worker.TextJob{Params: fullParams()},
			want: `{"prompt":"Once upon a time","max_tokens":100,"temperature":3.5,"top_p":0.9,
				"stop":["\nYou:","\nMe:","###","END","STOP"],"top_k":40,"min_p":0.05,"typical_p":0.95,"tfs_z":0.97,
				"repeat_penalty":1.1,"repeat_last_n":320,"dynatemp_range":0.5,"dynatemp_exponent":1.5,"ignore_eos":true}`,
		},
		{
			name: "full vllm",
			cfg:  openai.Config{Model: "m", Flavour: openai.VLLM, MaxLength: 512, MaxContextLength: 4096},
			job:  worker.TextJob{Params: fullParams()},
			want: `{"model":"m","prompt":"Once upon a time","max_tokens":100,"temperature":3.5,"top_p":0.9,
				"stop":["\nYou:","\nMe:","###","END","STOP"],"top_k":40,"min_p":0.05,"repetition_penalty":1.1,
				"ignore_eos":true,"include_stop_str_in_output":true,"truncate_prompt_tokens":924}`,
		},
		{
			name: "full aphrodite",
			cfg:  openai.Config{Model: "m", Flavour: openai.Aphrodite, MaxLength: 512, MaxContextLength: 4096},
			job:  worker.TextJob{Params: fullParams()},
			want: `{"model":"m","prompt":"Once upon a time","max_tokens":100,"temperature":3.5,"top_p":0.9,
				"stop":["\nYou:","\nMe:","###","END","STOP"],"top_k":40,"min_p":0.05,"repetition_penalty":1.1,
				"ignore_eos":true,"include_stop_str_in_output":true,"truncate_prompt_tokens":924,
				"typical_p":0.95,"tfs":0.97,"top_a":0.1,"smoothing_factor":0.2,
				"dynatemp_min":3,"dynatemp_max":4,"dynatemp_exponent":1.5}`,
		},
		{
			name: "full koboldcpp",
			cfg:  openai.Config{Flavour: openai.KoboldCpp, MaxLength: 512, MaxContextLength: 4096},
			job:  worker.TextJob{Params: fullParams()},
			want: `{"prompt":"Once upon a time","max_tokens":100,"max_context_length":1024,"temperature":3.5,"top_p":0.9,
				"stop":["\nYou:","\nMe:","###","END","STOP"],"top_k":40,"min_p":0.05,"typical":0.95,"tfs":0.97,
				"top_a":0.1,"rep_pen":1.1,"presence_penalty":0.10000000000000009,"rep_pen_range":320,"rep_pen_slope":0.7,
				"sampler_order":[6,0,1,3,4,2,5],"dynatemp_range":0.5,"dynatemp_exponent":1.5,"smoothing_factor":0.2,
				"use_default_badwordsids":true}`,
		},
		{
			name: "top_k 0 generic omitted",
			cfg:  openai.Config{},
			job:  worker.TextJob{Params: params.Text{Prompt: "p", TopK: params.Ptr(0)}},
			want: `{"prompt":"p","max_tokens":80}`,
		},
		{
			name: "top_k 0 vllm is -1",
			cfg:  openai.Config{Flavour: openai.VLLM},
			job:  worker.TextJob{Params: params.Text{Prompt: "p", TopK: params.Ptr(0)}},
			want: `{"prompt":"p","max_tokens":80,"top_k":-1,"include_stop_str_in_output":true,"truncate_prompt_tokens":1968}`,
		},
		{
			name: "top_k 0 llama.cpp is 0",
			cfg:  openai.Config{Flavour: openai.LlamaCpp},
			job:  worker.TextJob{Params: params.Text{Prompt: "p", TopK: params.Ptr(0)}},
			want: `{"prompt":"p","max_tokens":80,"top_k":0}`,
		},
		{
			name: "aphrodite dynatemp without temperature, floor 0",
			cfg:  openai.Config{Flavour: openai.Aphrodite},
			job:  worker.TextJob{Params: params.Text{Prompt: "p", DynamicTempRange: params.Ptr(2.0)}},
			want: `{"prompt":"p","max_tokens":80,"include_stop_str_in_output":true,"truncate_prompt_tokens":1968,
				"dynatemp_min":0,"dynatemp_max":3}`,
		},
		{
			name: "empty stop list omitted",
			cfg:  openai.Config{},
			job:  worker.TextJob{Params: params.Text{Prompt: "p", StopSequences: []string{""}}},
			want: `{"prompt":"p","max_tokens":80}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			b := f.backend(t, tt.cfg)
			_, err := b.GenerateText(t.Context(), &tt.job)
			require.NoError(t, err)
			reqs := f.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, "POST", reqs[0].Method)
			assert.Equal(t, "/v1/completions", reqs[0].Path)
			assert.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))
			assert.JSONEq(t, tt.want, string(reqs[0].Body))
		})
	}
}

func TestLengthCaps(t *testing.T) {
	tests := []struct {
		name          string
		cfg           openai.Config
		job           worker.TextJob
		wantMaxTokens float64
		wantTruncate  float64 // vLLM's truncate_prompt_tokens = context - max_tokens
	}{
		{"horde defaults", openai.Config{MaxLength: 512, MaxContextLength: 8192}, worker.TextJob{}, 80, 2048 - 80},
		{"payload values", openai.Config{MaxLength: 512, MaxContextLength: 8192},
			worker.TextJob{Params: params.Text{MaxLength: params.Ptr(200), MaxContextLength: params.Ptr(4096)}}, 200, 4096 - 200},
		{"worker limits win over payload", openai.Config{MaxLength: 512, MaxContextLength: 8192},
			worker.TextJob{MaxLength: 150, MaxContextLength: 3000, Params: params.Text{MaxLength: params.Ptr(200), MaxContextLength: params.Ptr(4096)}}, 150, 3000 - 150},
		{"server caps", openai.Config{MaxLength: 120, MaxContextLength: 2048},
			worker.TextJob{MaxLength: 400, MaxContextLength: 16384}, 120, 2048 - 120},
		{"length would fill context", openai.Config{MaxLength: 512, MaxContextLength: 8192},
			worker.TextJob{MaxLength: 300, MaxContextLength: 200}, 100, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			tt.cfg.Flavour = openai.VLLM
			b := f.backend(t, tt.cfg)
			tt.job.Params.Prompt = "p"
			_, err := b.GenerateText(t.Context(), &tt.job)
			require.NoError(t, err)
			body := f.lastBody(t)
			assert.Equal(t, tt.wantMaxTokens, body["max_tokens"])
			assert.Equal(t, tt.wantTruncate, body["truncate_prompt_tokens"])
		})
	}
}

func TestPromptTruncation(t *testing.T) {
	long := strings.Repeat("0123456789", 100) // 1000 chars
	tests := []struct {
		name   string
		cfg    openai.Config
		job    worker.TextJob
		prompt string
		want   string
	}{
		// context 200, max_tokens 100: 100 tokens × 3 chars = the last 300 characters.
		{"cut from the left", openai.Config{MaxLength: 512, MaxContextLength: 4096}, worker.TextJob{MaxLength: 100, MaxContextLength: 200}, long, long[700:]},
		{"ratio 4", openai.Config{MaxLength: 512, MaxContextLength: 4096, CharsPerToken: 4}, worker.TextJob{MaxLength: 100, MaxContextLength: 200}, long, long[600:]},
		{"fits", openai.Config{MaxLength: 512, MaxContextLength: 4096}, worker.TextJob{MaxLength: 100, MaxContextLength: 500}, long[:900], long[:900]},
		{"exactly fits", openai.Config{MaxLength: 512, MaxContextLength: 4096}, worker.TextJob{MaxLength: 100, MaxContextLength: 200}, long[:300], long[:300]},
		{"runes not bytes", openai.Config{}, worker.TextJob{MaxLength: 78, MaxContextLength: 80},
			"héllo wörld ✓ done", "✓ done"},
		{"default caps: 80 tokens of 200", openai.Config{}, worker.TextJob{MaxLength: 100, MaxContextLength: 200}, long, long[640:]},
		{"empty prompt", openai.Config{MaxLength: 512, MaxContextLength: 4096}, worker.TextJob{MaxLength: 100, MaxContextLength: 200}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			b := f.backend(t, tt.cfg)
			tt.job.Params.Prompt = tt.prompt
			_, err := b.GenerateText(t.Context(), &tt.job)
			require.NoError(t, err)
			got := f.lastBody(t)["prompt"]
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestResponseAndFormatting(t *testing.T) {
	tests := []struct {
		name   string
		server string
		format params.TextFormat
		want   string
	}{
		{"as is", "  Hello.\n\n\nWorld {x} and", params.TextFormat{}, "  Hello.\n\n\nWorld {x} and"},
		{"single line", "Hello.\nWorld", params.TextFormat{SingleLine: params.Ptr(true)}, "Hello."},
		{"flag false", "Hello.\nWorld", params.TextFormat{SingleLine: params.Ptr(false)}, "Hello.\nWorld"},
		{"blank lines", "a\n\n\n\nb\n\nc", params.TextFormat{RemoveBlankLines: params.Ptr(true)}, "a\nb\nc"},
		{"special chars", "a#b/c@d%e}f{g+h=i~j|k^l<m>n", params.TextFormat{RemoveSpecialChars: params.Ptr(true)}, "abcdefghijklmn"},
		{"trim incomplete", `She said "Go." Then he`, params.TextFormat{TrimIncomplete: params.Ptr(true)}, `She said "Go."`},
		{"trim incomplete, no sentence end", "no end here", params.TextFormat{TrimIncomplete: params.Ptr(true)}, "no end here"},
		{"leading space flag ignored", "x", params.TextFormat{AddLeadingSpace: params.Ptr(true)}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.Text = tt.server
			b := f.backend(t, openai.Config{})
			out, err := b.GenerateText(t.Context(), &worker.TextJob{Params: params.Text{Prompt: "p", Format: tt.format}})
			require.NoError(t, err)
			assert.Equal(t, tt.want, out.Text)
			assert.Zero(t, out.Seed)
		})
	}
}

func TestSeedReported(t *testing.T) {
	f := newFake(t)
	seed := 1234
	b := f.backend(t, openai.Config{Seed: &seed})
	out, err := b.GenerateText(t.Context(), &worker.TextJob{Params: params.Text{Prompt: "p"}})
	require.NoError(t, err)
	assert.Equal(t, 1234, out.Seed)
	assert.Equal(t, json.Number("1234"), json.Number(strings.TrimSpace(string(mustJSON(t, f.lastBody(t)["seed"])))))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

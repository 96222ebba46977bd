package openai_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/horde-go/horde/pkg/worker/openai"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewRejects(t *testing.T) {
	ok := openai.Config{BaseURL: "http://127.0.0.1:8080"}
	tests := []struct {
		name   string
		change func(c *openai.Config)
		want   []string // substrings of the error
	}{
		{"no base url", func(c *openai.Config) { c.BaseURL = "" }, []string{"BaseURL", "required"}},
		{"bad scheme", func(c *openai.Config) { c.BaseURL = "ftp://x" }, []string{"BaseURL", "http or https"}},
		{"no host", func(c *openai.Config) { c.BaseURL = "http:///v1" }, []string{"BaseURL", "no host"}},
		{"not a url", func(c *openai.Config) { c.BaseURL = "http://[::1" }, []string{"BaseURL", "not a URL"}},
		{"query", func(c *openai.Config) { c.BaseURL = "http://h/?a=1" }, []string{"BaseURL", "query"}},
		{"password hidden", func(c *openai.Config) { c.BaseURL = "ftp://u:hunter2@h" }, []string{"BaseURL", "xxxxx"}},
		{"model control chars", func(c *openai.Config) { c.Model = "a\nb" }, []string{"Model"}},
		{"key with newline", func(c *openai.Config) { c.APIKey = "sk-secret\r\nX: y" }, []string{"APIKey"}},
		{"key with spaces", func(c *openai.Config) { c.APIKey = " sk-secret" }, []string{"APIKey"}},
		{"flavour", func(c *openai.Config) { c.Flavour = "tgi" }, []string{"Flavour", `"tgi"`}},
		{"negative timeout", func(c *openai.Config) { c.Timeout = -time.Second }, []string{"Timeout"}},
		{"negative max length", func(c *openai.Config) { c.MaxLength = -1 }, []string{"MaxLength", "-1"}},
		{"huge max length", func(c *openai.Config) { c.MaxLength = 100000; c.MaxContextLength = 200000 }, []string{"MaxLength", "100000"}},
		{"tiny context", func(c *openai.Config) { c.MaxContextLength = 1 }, []string{"MaxContextLength", "1 is outside"}},
		{"length fills context", func(c *openai.Config) { c.MaxLength = 512; c.MaxContextLength = 512 }, []string{"MaxLength", "below MaxContextLength"}},
		{"default length over context", func(c *openai.Config) { c.MaxContextLength = 64 }, []string{"MaxLength", "80 must be below MaxContextLength 64"}},
		{"negative ratio", func(c *openai.Config) { c.CharsPerToken = -1 }, []string{"CharsPerToken"}},
		{"two errors", func(c *openai.Config) { c.BaseURL = ""; c.Timeout = -1 }, []string{"BaseURL", "Timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			b, err := openai.New(c)
			require.Error(t, err)
			assert.Nil(t, b)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "secret")
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestNewNormalises(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"},
		{"https://h.example/v1/", "https://h.example"},
		{"https://h.example/proxy/v1", "https://h.example/proxy"},
		{" http://h ", "http://h"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := openai.New(openai.Config{BaseURL: tt.in})
			require.NoError(t, err)
			c := b.Config()
			assert.Equal(t, tt.want, c.BaseURL)
			assert.Equal(t, openai.Generic, c.Flavour)
			assert.Equal(t, openai.DefaultMaxLength, c.MaxLength)
			assert.Equal(t, openai.DefaultMaxContextLength, c.MaxContextLength)
			assert.Equal(t, openai.DefaultCharsPerToken, c.CharsPerToken)
			assert.NotNil(t, c.HTTPClient)
		})
	}
	own := &http.Client{}
	b, err := openai.New(openai.Config{BaseURL: "http://h", HTTPClient: own, Flavour: openai.VLLM})
	require.NoError(t, err)
	assert.Same(t, own, b.Config().HTTPClient)
}

func TestConfigNeverShowsKey(t *testing.T) {
	c := openai.Config{BaseURL: "http://user:pw-secret@h:1", Model: "m", APIKey: "sk-topsecret"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "cfg", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("start", "cfg", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), c.String(), buf.String()} {
		assert.NotContains(t, s, "topsecret")
		assert.NotContains(t, s, "pw-secret")
	}
	assert.Contains(t, c.String(), "[redacted]")
	assert.Contains(t, buf.String(), "api_key_set")
}

package openai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxExcerptRunes bounds the body excerpt of an error.
const maxExcerptRunes = 300

// HTTPError is a non-2xx answer of the server.
type HTTPError struct {
	// Op is the request, such as "POST /v1/completions".
	Op string
	// StatusCode is the HTTP status code, such as 503.
	StatusCode int
	// Status is the status line, such as "503 Service Unavailable".
	Status string
	// Body is a bounded excerpt of the answer: the error message of a JSON error body, else
	// the text of the body with markup and repeated spaces removed.
	Body string
}

// Error returns "openai: <op>: <status>: <excerpt>".
func (e *HTTPError) Error() string {
	status := e.Status
	if status == "" {
		status = fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Body == "" {
		return fmt.Sprintf("openai: %s: %s", e.Op, status)
	}
	return fmt.Sprintf("openai: %s: %s: %s", e.Op, status, e.Body)
}

// Temporary reports whether the same request may succeed later: 429 (rate limited), 503
// (busy; KoboldCpp answers it while generating) and the other 5xx gateway answers 502 and 504.
func (e *HTTPError) Temporary() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// maxExcerptInput bounds the part of a body an excerpt is taken from.
const maxExcerptInput = 64 << 10

// bodyExcerpt renders an answer body for an error message, with secret (when not empty)
// replaced by "[redacted]" before the excerpt is cut.
func bodyExcerpt(data []byte, secret string) string {
	data = data[:min(len(data), maxExcerptInput)]
	s := jsonErrorMessage(data)
	if s == "" {
		s = stripTags(string(data))
	}
	s = collapse(s)
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return clip(s)
}

// jsonErrorMessage finds the message of the usual JSON error shapes: {"error": {"message"}}
// (OpenAI, llama.cpp), {"error": "…"}, {"message": "…"} (vLLM), {"detail": "…"} (FastAPI).
func jsonErrorMessage(data []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	var s string
	var obj struct {
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(v.Error, &obj) == nil && obj.Message != "":
		return obj.Message
	case json.Unmarshal(v.Error, &s) == nil && s != "":
		return s
	case v.Message != "":
		return v.Message
	case json.Unmarshal(v.Detail, &s) == nil && s != "":
		return s
	case len(v.Detail) > 0 && string(v.Detail) != "null":
		return string(v.Detail)
	}
	return ""
}

// stripTags removes HTML markup (tags, and the content of script and style elements).
func stripTags(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = s[i:]
		lower := strings.ToLower(s)
		for _, el := range []string{"script", "style"} {
			if strings.HasPrefix(lower, "<"+el) {
				if end := strings.Index(lower, "</"+el); end >= 0 {
					s = s[end:]
					lower = lower[end:]
				}
			}
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		s = s[j+1:]
	}
	return b.String()
}

// collapse turns every run of white space into one space and trims the ends.
func collapse(s string) string {
	s = strings.ToValidUTF8(s, "�")
	return strings.Join(strings.Fields(s), " ")
}

// clip bounds s to maxExcerptRunes runes.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxExcerptRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxExcerptRunes]) + "…"
}

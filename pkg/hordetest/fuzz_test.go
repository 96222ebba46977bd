package hordetest

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandlers posts arbitrary bodies to every JSON POST operation: the server must never
// panic, and answers 500 only for the server's documented 500 quirk (text dry run with an
// unknown model).
func FuzzHandlers(f *testing.F) {
	for _, seed := range []string{`{"prompt":"x"}`, `{"prompt":"x","params":{"n":3,"width":1024}}`, `null`, `[]`, `{`,
		`{"name":"w","models":["stable_diffusion"]}`, `{"id":"x","generation":"R2","seed":1}`,
		`{"source_image":"aGk=","forms":[{"name":"caption"}]}`, `{"username":"bob#2","amount":5}`,
		`{"prompt":"x","dry_run":true,"models":["m"]}`} {
		for i := range 10 {
			f.Add(i, seed)
		}
	}
	paths := []string{"/api/v2/generate/async", "/api/v2/generate/pop", "/api/v2/generate/submit",
		"/api/v2/generate/text/async", "/api/v2/generate/text/pop", "/api/v2/generate/text/submit",
		"/api/v2/interrogate/async", "/api/v2/interrogate/pop", "/api/v2/interrogate/submit", "/api/v2/kudos/transfer"}
	s := NewUnstartedServer(append(testUsers(), WithAutoFulfil(0))...)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, which int, body string) {
		if which < 0 {
			which = -which
		}
		path := paths[which%len(paths)]
		req := httptest.NewRequest("POST", path, bytes.NewReader([]byte(body)))
		req.Header.Set("apikey", keyWorker)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && !(strings.HasSuffix(path, "/text/async") && strings.Contains(body, "dry_run")) {
			t.Fatalf("%s %q -> %d %s", path, body, rec.Code, rec.Body.String())
		}
	})
}

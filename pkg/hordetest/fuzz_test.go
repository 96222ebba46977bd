package hordetest

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/horde-go/horde/internal/routes"
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

// FuzzEveryBody sends arbitrary bodies to every operation that takes one, as a moderator and
// admin: whatever the body, the simulator answers (it reproduces the server's 500 quirks, so
// any status may come back) with a JSON body, and never panics.
func FuzzEveryBody(f *testing.F) {
	for _, seed := range []string{`{}`, `null`, `[]`, `{`, `{"name":"x","prompt":"{p}{np}","models":["stable_diffusion"]}`,
		`{"name":"t","info":"abc"}`, `{"kudos":5,"name":"k","expiry":-1}`, `{"regex":"(","filter_type":10,"prompt":"x"}`,
		`{"ipaddr":"1.2.3.4/99","hours":1}`, `{"message":"m","worker_id":"x","expiry":1}`, `{"kudos":-5,"moderator":true}`,
		`{"team":"x","maintenance":true}`, `{"username":"bob#2","amount":5}`, `{"ratings":[{"id":"x","rating":5}]}`,
		`{"maintenance":true,"invite_only":true}`, `{"url":"https://x","primary":true}`, `{"styles":["x"],"name":"c"}`} {
		for i := range 20 {
			f.Add(i, seed)
		}
	}
	type op struct{ method, path string }
	var ops []op
	for _, o := range routes.Operations {
		if o.Method == "GET" {
			continue
		}
		p := strings.NewReplacer("{style_id}", "x", "{example_id}", "x", "{collection_id}", "x", "{team_id}", "x",
			"{sharedkey_id}", "x", "{filter_id}", "1", "{message_id}", "x", "{worker_id}", "x", "{user_id}", "2",
			"{id}", "x", "{ipaddr}", "1.2.3.4").Replace(o.Path)
		ops = append(ops, op{o.Method, "/api" + p})
	}
	s := NewUnstartedServer(append(testUsers(), WithAutoFulfil(0), WithUser(User{Name: "root", APIKey: "root-key-0000009", Admin: true, Moderator: true, Trusted: true}))...)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, which int, body string) {
		if which < 0 {
			which = -which
		}
		o := ops[which%len(ops)]
		req := httptest.NewRequest(o.method, o.path, bytes.NewReader([]byte(body)))
		req.Header.Set("apikey", "root-key-0000009")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if ct := rec.Header().Get("Content-Type"); rec.Code != 204 && !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s %s %q -> %d %q %s", o.method, o.path, body, rec.Code, ct, rec.Body.String())
		}
	})
}

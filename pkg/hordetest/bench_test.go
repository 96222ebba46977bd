package hordetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func benchClient(b *testing.B) *http.Client {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func benchDo(b *testing.B, c *http.Client, method, url, key string, body []byte, out any) int {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if key != "" {
		req.Header.Set("apikey", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			b.Fatal(err)
		}
	} else {
		_, _ = io.Copy(io.Discard, res.Body)
	}
	return res.StatusCode
}

// BenchmarkCheck measures GET /v2/generate/check/{id} round trips over loopback.
func BenchmarkCheck(b *testing.B) {
	s := NewServer(WithUser(User{Name: "bench", APIKey: "bench-key", Kudos: 1e9, Concurrency: 1 << 30}))
	defer s.Close()
	c := benchClient(b)
	var a struct{ ID string }
	benchDo(b, c, "POST", s.URL+"v2/generate/async", "bench-key", []byte(`{"prompt":"x"}`), &a)
	url := s.URL + "v2/generate/check/" + a.ID
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if st := benchDo(b, c, "GET", url, "", nil, nil); st != 200 {
				b.Errorf("status %d", st)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkAsyncPopSubmit measures an image request's worker round trip: async, pop and
// submit (three HTTP requests per iteration).
func BenchmarkAsyncPopSubmit(b *testing.B) {
	s := NewServer(WithUser(User{Name: "bench", APIKey: "bench-key", Kudos: 1e9, Concurrency: 1 << 30}),
		WithUser(User{Name: "worker", APIKey: "worker-key", Trusted: true}))
	defer s.Close()
	c := benchClient(b)
	var reqs atomic.Int64
	var workerN atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		name := "bench-worker-" + string(rune('a'+workerN.Add(1)))
		pop := []byte(`{"name":"` + name + `","models":["stable_diffusion"],"bridge_agent":"AI Horde Worker reGen:13.0.0:x"}`)
		for pb.Next() {
			benchDo(b, c, "POST", s.URL+"v2/generate/async", "bench-key", []byte(`{"prompt":"x"}`), nil)
			var p struct{ ID *string }
			benchDo(b, c, "POST", s.URL+"v2/generate/pop", "worker-key", pop, &p)
			reqs.Add(2)
			if p.ID == nil {
				continue
			}
			st := benchDo(b, c, "POST", s.URL+"v2/generate/submit", "worker-key", []byte(`{"id":"`+*p.ID+`","generation":"R2","seed":1}`), nil)
			if st != 200 {
				b.Errorf("submit status %d", st)
				return
			}
			reqs.Add(1)
		}
	})
	b.ReportMetric(float64(reqs.Load())/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkCheckHandler measures the server side of check alone (no network, no client).
func BenchmarkCheckHandler(b *testing.B) {
	s := NewUnstartedServer(WithUser(User{Name: "bench", APIKey: "bench-key", Kudos: 1e9}))
	h := s.Handler()
	req := httptest.NewRequest("POST", "/api/v2/generate/async", bytes.NewReader([]byte(`{"prompt":"x"}`)))
	req.Header.Set("apikey", "bench-key")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var a struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v2/generate/check/"+a.ID, nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

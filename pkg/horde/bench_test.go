package horde

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/horde-go/horde/gen"
)

// benchServer serves the heartbeat and the 118 KB production worker listing on loopback.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	workers, err := os.ReadFile("../../testdata/aihorde/examples/production/_v2_workers_get_200.json")
	if err != nil {
		b.Fatal(err)
	}
	heartbeat := []byte(`{"message":"OK","version":"5.1.5","queue":0,"threads":8,"active_count":1,"db_connection":true}`)
	mux := http.NewServeMux()
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}
	}
	mux.HandleFunc("GET /api/v2/status/heartbeat", serve(heartbeat))
	mux.HandleFunc("GET /api/v2/workers", serve(workers))
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv
}

// baselineGet is what a program would write by hand: net/http plus encoding/json, with the
// same headers, decoding into the same generated types.
func baselineGet[T any](ctx context.Context, hc *http.Client, url string) (*T, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Client-Agent", "bench:1:me")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func BenchmarkHeartbeat(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		hc := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := baselineGet[gen.Heartbeat](ctx, hc, srv.URL+"/api/v2/status/heartbeat"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client", func(b *testing.B) {
		c, err := NewClient(WithBaseURL(srv.URL+"/api/"), WithRateLimiting(false), WithClientAgent("bench:1:me"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Heartbeat(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkWorkers(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		hc := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := baselineGet[[]gen.WorkerDetails](ctx, hc, srv.URL+"/api/v2/workers"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client", func(b *testing.B) {
		c, err := NewClient(WithBaseURL(srv.URL+"/api/"), WithRateLimiting(false), WithClientAgent("bench:1:me"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Workers(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

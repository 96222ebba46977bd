package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/horde-go/horde/pkg/worker"
	"github.com/horde-go/horde/pkg/worker/bridgedata"
	"github.com/horde-go/horde/pkg/worker/metrics"
)

// serveMetrics starts the metrics and health endpoint at addr and makes the worker report to
// it; stop shuts the server down.
func (a *app) serveMetrics(addr string, threads int, opts *bridgedata.Options) (stop func(), err error) {
	m, err := metrics.New(metrics.Options{Threads: threads})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usagef("--metrics-addr: %v", err)
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger().Error("worker: the metrics server stopped", "error", err)
		}
	}()
	fmt.Fprintf(a.env.Stderr, "metrics on http://%s/metrics, health on http://%s/healthz\n", ln.Addr(), ln.Addr())
	tune := opts.Tune
	opts.Tune = func(s *worker.Settings) {
		s.Observer = m
		if tune != nil {
			tune(s)
		}
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

package main

import (
	"errors"
	"testing"

	"github.com/horde-go/horde/pkg/horde"
	"github.com/horde-go/horde/pkg/hordetest"
	"github.com/horde-go/horde/pkg/params"
)

// newClient starts a simulated Horde for one test and returns a client for it.
func newClient(t *testing.T, opts ...hordetest.Option) *horde.Client {
	t.Helper()
	srv := hordetest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheapestAsksForEstimatesOnly(t *testing.T) {
	srv := hordetest.NewServer(hordetest.WithUser(hordetest.User{Name: "tester", APIKey: "test-key-0123456789", Kudos: 100}))
	t.Cleanup(srv.Close)
	c, err := horde.NewClient(horde.WithBaseURL(srv.URL), horde.WithAPIKey("test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	p, cost, err := cheapest(t.Context(), c, []string{"a castle", "a castle at night"}, 30)
	if err != nil {
		t.Fatal(err)
	}
	if p == "" || cost <= 0 {
		t.Errorf("cheapest = %q, %v; want a prompt and a positive cost", p, cost)
	}
	// The simulator records every request: estimates queue nothing.
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests queued, want none", n)
	}
}

func TestCheapestReportsInvalidParameters(t *testing.T) {
	c := newClient(t)
	_, _, err := cheapest(t.Context(), c, []string{""}, 30)
	var vs params.Violations
	if !errors.As(err, &vs) {
		t.Fatalf("error %v, want the parameters' violations", err)
	}
}

func TestCheapestReportsTheHordesRefusal(t *testing.T) {
	c := newClient(t, hordetest.WithMaintenance(true)) // the Horde refuses new requests
	_, _, err := cheapest(t.Context(), c, []string{"a castle"}, 30)
	if !errors.Is(err, horde.ErrMaintenance) {
		t.Fatalf("error %v, want one that matches horde.ErrMaintenance", err)
	}
}

package testbackend

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// ErrInjected is the error a backend returns for a fault injected by its [Behaviour]; test
// with errors.Is.
var ErrInjected = errors.New("testbackend: injected fault")

// Behaviour is what every test backend does around its work: wait, and fail on demand.
// The zero value waits for nothing and never fails.
type Behaviour struct {
	// Latency is how long each call waits before it returns. The wait ends early, with the
	// context's error, when the context is done.
	Latency time.Duration
	// FailEvery makes calls number FailEvery, 2·FailEvery, … (counting from 1) fail with
	// [ErrInjected]. 0 disables it.
	FailEvery int
	// FailRate is the probability (0..1) that a call fails with [ErrInjected]. Whether call
	// number n fails is a pure function of FailSeed and n, so a run is reproducible for a
	// given order of calls, and the number of failures among the first n calls is the same
	// whatever the order.
	FailRate float64
	// FailSeed seeds FailRate.
	FailSeed uint64
	// PanicEvery makes calls number PanicEvery, 2·PanicEvery, … panic, to test a worker's
	// recovery. 0 disables it. It is the only way these backends panic.
	PanicEvery int
}

// gate counts the calls of one backend and applies its Behaviour.
type gate struct {
	calls atomic.Uint64
}

// enter counts a call, waits the latency, and returns the injected fault if any.
func (g *gate) enter(ctx context.Context, b *Behaviour) error {
	n := g.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.Latency > 0 {
		t := time.NewTimer(b.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if b.PanicEvery > 0 && n%uint64(b.PanicEvery) == 0 {
		panic(fmt.Sprintf("testbackend: injected panic on call %d", n))
	}
	if b.FailEvery > 0 && n%uint64(b.FailEvery) == 0 {
		return fmt.Errorf("call %d (every %d): %w", n, b.FailEvery, ErrInjected)
	}
	if b.FailRate > 0 && unitFloat(mix(b.FailSeed^mix(n))) < b.FailRate {
		return fmt.Errorf("call %d (rate %g): %w", n, b.FailRate, ErrInjected)
	}
	return nil
}

// mix is the SplitMix64 finaliser: a cheap, well-spread 64-bit hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unitFloat maps x onto [0, 1).
func unitFloat(x uint64) float64 { return float64(x>>11) / (1 << 53) }

// stream is a deterministic sequence of pseudo-random numbers (SplitMix64).
type stream struct{ s uint64 }

func (r *stream) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// intn returns a number in [0, n); n must be > 0.
func (r *stream) intn(n int) int { return int(r.next() % uint64(n)) }

// fnv64 hashes parts with FNV-1a, with a separator between them so that ("ab","c") and
// ("a","bc") differ.
func fnv64(parts ...string) uint64 {
	h := uint64(14695981039346656037)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return h
}

// round2 rounds x to two decimals.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

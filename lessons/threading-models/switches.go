package threadingmodels

import (
	"context"
	"fmt"

	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

// Switch costs, measured the way every lesson measures them
// (internal/pingpong): batches of round trips, one switch being half a
// round trip, all on one CPU. These return µs per switch, one value per
// batch. A ping-pong that fails returns its error: a half-timed switch
// must never reach the verdict as if it were a measurement.

// coroutineSwitch times the switches of the N:1 scheduler's kind: a
// coroutine made by iter.Pull that yields straight back, both switches in
// user space.
func coroutineSwitch(ctx context.Context, batches, cpu int) ([]float64, error) {
	r, err := pingpong.Coroutines(ctx, cpu, batches, 20000, nil)
	if err != nil {
		return nil, switchErr(ctx, "coroutine", err)
	}
	return micro(r.PerSwitch), nil
}

// goroutineSwitch times two goroutines handing a token back and forth over
// unbuffered channels with GOMAXPROCS=1: switches by Go's scheduler on one
// thread, in user space.
func goroutineSwitch(ctx context.Context, batches, cpu int) ([]float64, error) {
	r, err := pingpong.Goroutines(ctx, cpu, cpu, batches, 5000, nil)
	if err != nil {
		return nil, switchErr(ctx, "goroutine", err)
	}
	return micro(r.PerSwitch), nil
}

// threadSwitch times two kernel threads pinned to one CPU handing a byte
// back and forth through two pipes: each hand-off blocks one thread in
// read() and wakes the other, a switch made by the kernel. It also returns
// the switches the kernel counted for both threads.
func threadSwitch(ctx context.Context, batches, cpu int) ([]float64, probe.Usage, error) {
	r, err := pingpong.Threads(ctx, cpu, cpu, batches, 500, nil)
	if err != nil {
		return nil, probe.Usage{}, switchErr(ctx, "kernel thread", err)
	}
	return micro(r.PerSwitch), r.Kernel, nil
}

// switchErr says which ping-pong failed; a cancelled run stays cancelled.
func switchErr(ctx context.Context, kind string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("timing %s switches: %w", kind, err)
}

func micro(ns []float64) []float64 {
	for i := range ns {
		ns[i] /= 1e3
	}
	return ns
}

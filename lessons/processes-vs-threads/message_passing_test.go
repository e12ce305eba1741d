package processesvsthreads

import (
	"context"
	"errors"
	"testing"
	"time"

	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

// message-passing times round trips with pingpong.TimeFor: however short
// the time, there are enough batches for a median with a spread; every
// batch is per round trips; the last tick has every value; a round trip
// that fails, or a cancelled run, stops it with the error.
func TestTimeForRoundTrips(t *testing.T) {
	t.Parallel()
	trips := 0
	var ticked []float64
	vals, err := pingpong.TimeFor(context.Background(), 0, 7, eachRound(func() error { trips++; return nil }), func(v []float64) { ticked = v })
	if err != nil || len(vals) != pingpong.MinBatches || trips != 7*pingpong.MinBatches {
		t.Errorf("got %d batches, %d round trips, err %v; want %d batches of 7", len(vals), trips, err, pingpong.MinBatches)
	}
	if len(ticked) != len(vals) {
		t.Errorf("the last tick had %d values, want %d", len(ticked), len(vals))
	}

	broken := errors.New("the other side closed the pipe")
	trips = 0
	if _, err := pingpong.TimeFor(context.Background(), 0, 7, eachRound(func() error { trips++; return broken }), nil); !errors.Is(err, broken) || trips != 1 {
		t.Errorf("got %v after %d round trips, want %v after 1", err, trips, broken)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if vals, err := pingpong.TimeFor(ctx, 0, 7, eachRound(func() error { return nil }), nil); !errors.Is(err, context.Canceled) || len(vals) != 0 {
		t.Errorf("a cancelled run gave %d batches and %v, want none and %v", len(vals), err, context.Canceled)
	}
}

// The threads' mutex-guarded queue loses no message: its reader takes
// every one the writer wrote (mutexThroughput fails otherwise), whether
// the two threads share a CPU, have one each, or go where the kernel puts
// them, for small and page-sized messages; a cancelled run stops it with
// the context's error.
func TestMutexQueueDeliversEveryMessage(t *testing.T) {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{64, 4096} {
		for _, pl := range []placement{{a: -1, b: -1}, {a: cpus[0], b: cpus[0]}, {a: cpus[0], b: cpus[len(cpus)-1]}} {
			n, elapsed, err := mutexThroughput(context.Background(), size, 20*time.Millisecond, pl)
			if err != nil || n <= 0 || elapsed <= 0 {
				t.Errorf("size %d, placement %v: %d messages in %s, err %v; want some and no error", size, pl, n, elapsed, err)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := mutexThroughput(ctx, 64, time.Minute, placement{a: -1, b: -1}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled run gave %v, want %v", err, context.Canceled)
	}
}

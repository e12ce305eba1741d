// Package kit is the measuring kit the lessons share: one way to calibrate
// a piece of work to a duration, one slow local server for I/O that really
// waits. Experiments measure with these rather than with copies of their
// own, so a fix to how something is measured reaches every lesson.
package kit

import (
	"fmt"
	"runtime"
	"time"

	"conclab/internal/probe"
)

// Clock is what Calibrate times the work with.
type Clock int

const (
	// Wall times the work with the wall clock.
	Wall Clock = iota
	// ThreadCPU times it with the thread's CPU clock: on a busy machine
	// another program may take the CPU away in the middle of a batch, and
	// that time must not count as the work's.
	ThreadCPU
)

// Rate is how fast one thread did a piece of work.
type Rate struct {
	PerMs float64       // units of work per millisecond
	N     int           // units in the batch that decided it
	Took  time.Duration // how long that batch took, on the chosen clock
}

// Units is how many units take about d at this rate; at least 1.
func (r Rate) Units(d time.Duration) int {
	return max(1, int(r.PerMs*float64(d)/float64(time.Millisecond)+0.5))
}

// Per is how long one unit takes at this rate.
func (r Rate) Per() time.Duration {
	if r.PerMs <= 0 {
		return 0
	}
	return time.Duration(float64(time.Millisecond) / r.PerMs)
}

// Calibration says how to calibrate.
type Calibration struct {
	CPU   int           // pin the thread to this CPU; -1 for no pin
	Clock Clock         // Wall (default) or ThreadCPU
	Start int           // the first batch's size (default 16)
	Min   time.Duration // double the batch until one takes at least this (default 20 ms)
	Max   int           // stop doubling past this many units (default 1<<30)
}

// Calibrate measures how many units of work one thread does per
// millisecond: it doubles the batch n, calling work(n), until one batch
// takes at least c.Min. It runs on a fresh goroutine locked to its OS
// thread (pinned to c.CPU unless it is negative), which exits locked, so
// the pinned thread goes away with it and leaves no idle thread behind.
// It fails only when the thread cannot be pinned: a rate measured on
// another CPU than asked would be a wrong figure, not a rough one.
func Calibrate(c Calibration, work func(n int)) (Rate, error) {
	if c.Start <= 0 {
		c.Start = 16
	}
	if c.Min <= 0 {
		c.Min = 20 * time.Millisecond
	}
	if c.Max <= 0 {
		c.Max = 1 << 30
	}
	type answer struct {
		r   Rate
		err error
	}
	ch := make(chan answer)
	go func() {
		runtime.LockOSThread() // exits locked on purpose, see above
		if c.CPU >= 0 {
			if err := probe.PinThread(c.CPU); err != nil {
				ch <- answer{err: fmt.Errorf("calibrate: pin to CPU %d: %w", c.CPU, err)}
				return
			}
		}
		now := time.Now
		if c.Clock == ThreadCPU {
			now = func() time.Time { return time.Unix(0, int64(probe.ThreadCPUTime())) }
		}
		for n := c.Start; ; n *= 2 {
			t := now()
			work(n)
			took := max(now().Sub(t), time.Microsecond)
			if took >= c.Min || n >= c.Max {
				ch <- answer{r: Rate{PerMs: float64(n) / (float64(took) / float64(time.Millisecond)), N: n, Took: took}}
				return
			}
		}
	}()
	a := <-ch
	return a.r, a.err
}

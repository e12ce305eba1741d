// Package pingpong times two parties handing control back and forth:
// coroutines, goroutines, OS threads, processes. One round trip is two
// switches (there and back); round trips are timed in batches, because the
// clock costs about as much as a coroutine switch, and each batch gives one
// figure: nanoseconds per switch. Several lessons measure switches, and
// they all measure them this way.
package pingpong

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// Result is what one ping-pong measured.
type Result struct {
	PerSwitch []float64   // ns per switch, one value per timed batch
	Rounds    int         // round trips made
	Kernel    probe.Usage // what the kernel counted: both threads, or the whole process for user-space switches
	CPUs      [2]int      // the CPUs the two parties were seen on (-1: not seen)
}

// Tick receives the per-switch values so far, between batches (never
// inside one): where live events go out. It may be nil.
type Tick func(nsPerSwitch []float64)

// TimeBatches runs batches of per round trips and records ns per switch.
// It calls tick at most every 100 ms, and once at the end.
func TimeBatches(ctx context.Context, batches, per int, rounds func(n int) error, tick Tick) ([]float64, error) {
	vals := make([]float64, 0, batches)
	return timeBatches(ctx, vals, per, func(done int) bool { return done < batches }, rounds, tick)
}

// MinBatches is how many batches TimeFor runs at the least, however short
// the time it was given: enough for a median with a spread around it.
const MinBatches = 3

// TimeFor is TimeBatches for a length of time rather than a number of
// batches: it runs batches of per round trips until dur has passed (and
// at least MinBatches of them), and records ns per switch, one value per
// batch. It calls tick at most every 100 ms, and once at the end.
func TimeFor(ctx context.Context, dur time.Duration, per int, rounds func(n int) error, tick Tick) ([]float64, error) {
	start := time.Now()
	return timeBatches(ctx, nil, per, func(done int) bool { return time.Since(start) < dur || done < MinBatches }, rounds, tick)
}

// timeBatches times batches of per round trips while more says to go on,
// appending ns per switch to vals. The clock is read only between
// batches, never inside one.
func timeBatches(ctx context.Context, vals []float64, per int, more func(done int) bool, rounds func(n int) error, tick Tick) ([]float64, error) {
	every := lab.NewThrottle(lab.LiveEvery)
	every.Due() // the first tick comes an interval after the start, not at once
	for more(len(vals)) {
		if err := ctx.Err(); err != nil {
			return vals, err
		}
		// snippet:pingpong-time
		t := time.Now() // the clock is read once per batch, never per switch
		if err := rounds(per); err != nil {
			return vals, err
		}
		// per round trips are 2×per switches
		vals = append(vals, float64(time.Since(t).Nanoseconds())/float64(2*per))
		// end snippet
		if tick != nil && every.Due() {
			tick(vals)
		}
	}
	if tick != nil {
		tick(vals)
	}
	return vals, nil
}

// Live returns a Tick that draws every new batch as a point on a line
// chart (x: batch number, y: ns per switch times scale).
func Live(out *lab.Emitter, chart, series string, scale float64) Tick {
	return LiveAfter(out, chart, series, scale, 0)
}

// LiveAfter is Live for a measurement that goes on where an earlier one of
// the same series stopped, after its first batches: its batches are
// numbered from first+1.
func LiveAfter(out *lab.Emitter, chart, series string, scale float64, first int) Tick {
	sent := 0
	return func(vals []float64) {
		if len(vals) == sent {
			return
		}
		xs := make([]float64, 0, len(vals)-sent)
		ys := make([]float64, 0, len(vals)-sent)
		for j := sent; j < len(vals); j++ {
			xs = append(xs, float64(first+j+1))
			ys = append(ys, vals[j]*scale)
		}
		out.Points(chart, series, xs, ys)
		sent = len(vals)
	}
}

// OnOneCPU runs f with GOMAXPROCS=1 and the whole process pinned to cpu,
// then puts both back: every goroutine then shares one thread on one CPU.
func OnOneCPU(cpu int, f func()) error {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	if err := probe.PinProcess(cpu); err != nil {
		return err
	}
	prev := runtime.GOMAXPROCS(1)
	defer func() {
		runtime.GOMAXPROCS(prev)
		probe.PinProcess(allowed...)
	}()
	f()
	return nil
}

// Coroutines resumes a coroutine made by iter.Pull that yields straight
// back, on one CPU: both switches happen in user space, with no scheduler.
func Coroutines(ctx context.Context, cpu, batches, per int, tick Tick) (Result, error) {
	res := Result{CPUs: [2]int{-1, -1}}
	var err error
	perr := OnOneCPU(cpu, func() {
		// snippet:pingpong-coroutine
		next, stop := iter.Pull(func(yield func(int) bool) {
			for i := 0; yield(i); i++ { // each yield switches back to next's caller
			}
		})
		defer stop()
		before := probe.ProcessUsage()
		res.PerSwitch, err = TimeBatches(ctx, batches, per, func(n int) error {
			for range n {
				next() // one round trip: into the iterator and back
			}
			return nil
		}, tick)
		// end snippet
		res.Kernel = probe.ProcessUsage().Sub(before)
		res.CPUs = [2]int{probe.CurrentCPU(), probe.CurrentCPU()}
	})
	res.Rounds = len(res.PerSwitch) * per
	return res, firstErr(err, perr)
}

// Goroutines passes a token between two goroutines over unbuffered
// channels. With cpuA == cpuB they share one P on one CPU, and the Go
// runtime switches between them in user space. Otherwise each goroutine is
// locked to its own thread on its own CPU, so every hand-off wakes a
// thread on the other CPU: a wake-up latency, not a switch.
func Goroutines(ctx context.Context, cpuA, cpuB, batches, per int, tick Tick) (Result, error) {
	if cpuA == cpuB {
		var res Result
		var err error
		perr := OnOneCPU(cpuA, func() { res, err = goroutines(ctx, cpuA, cpuB, false, batches, per, tick) })
		return res, firstErr(err, perr)
	}
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, 3))
	defer runtime.GOMAXPROCS(prev)
	return goroutines(ctx, cpuA, cpuB, true, batches, per, tick)
}

func goroutines(ctx context.Context, cpuA, cpuB int, locked bool, batches, per int, tick Tick) (Result, error) {
	res := Result{CPUs: [2]int{-1, -1}}
	ping, pong := make(chan struct{}), make(chan struct{})
	seenB := make(chan int, 1)
	go func() {
		if locked {
			runtime.LockOSThread() // exits locked: the pinned thread goes with it
			probe.PinThread(cpuB)
		}
		seen := -1
		for range ping {
			pong <- struct{}{}
			if seen < 0 {
				seen = probe.CurrentCPU()
			}
		}
		seenB <- seen
	}()
	type done struct {
		vals  []float64
		usage probe.Usage
		cpu   int
		err   error
	}
	result := make(chan done, 1)
	go func() {
		if locked {
			runtime.LockOSThread()
			probe.PinThread(cpuA)
		}
		before := probe.ProcessUsage()
		// snippet:pingpong-channels
		vals, err := TimeBatches(ctx, batches, per, func(n int) error {
			for range n {
				ping <- struct{}{} // the other goroutine runs...
				<-pong             // ...and hands control back
			}
			return nil
		}, tick)
		// end snippet
		result <- done{vals, probe.ProcessUsage().Sub(before), probe.CurrentCPU(), err}
	}()
	d := <-result
	close(ping)
	res.PerSwitch, res.Kernel, res.Rounds = d.vals, d.usage, len(d.vals)*per
	res.CPUs = [2]int{d.cpu, <-seenB}
	return res, d.err
}

// Threads passes a byte through two pipes between two OS threads pinned to
// cpuA and cpuB: the same exchange as `perf bench sched pipe -T`. Each
// side blocks in read until the other writes, so on one CPU every hand-off
// is the kernel putting one thread to sleep and running the other.
func Threads(ctx context.Context, cpuA, cpuB, batches, per int, tick Tick) (Result, error) {
	res := Result{CPUs: [2]int{-1, -1}}
	var there, back [2]int // [0] the read end, [1] the write end
	if err := unix.Pipe2(there[:], unix.O_CLOEXEC); err != nil {
		return res, err
	}
	if err := unix.Pipe2(back[:], unix.O_CLOEXEC); err != nil {
		unix.Close(there[0])
		unix.Close(there[1])
		return res, err
	}
	defer unix.Close(there[0])
	defer unix.Close(back[0])
	defer unix.Close(back[1])

	// Two threads blocked in turn, plus the rest of the program: make sure
	// no thread has to wait for a P when it wakes.
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, 3))
	defer runtime.GOMAXPROCS(prev)

	type side struct {
		usage probe.Usage
		cpu   int
	}
	echoed := make(chan side, 1)
	go func() {
		runtime.LockOSThread() // exits locked: the pinned thread goes with it
		probe.PinThread(cpuB)
		before := probe.ThreadUsage()
		cpu := probe.CurrentCPU()
		Echo(there[0], back[1])
		echoed <- side{probe.ThreadUsage().Sub(before), cpu}
	}()
	type done struct {
		vals []float64
		side side
		err  error
	}
	result := make(chan done, 1)
	go func() {
		runtime.LockOSThread()
		probe.PinThread(cpuA)
		before := probe.ThreadUsage()
		cpu := probe.CurrentCPU()
		vals, err := TimeBatches(ctx, batches, per, PipeRounds(there[1], back[0]), tick)
		result <- done{vals, side{probe.ThreadUsage().Sub(before), cpu}, err}
	}()
	d := <-result
	unix.Close(there[1]) // the echo thread reads end of file and stops
	e := <-echoed
	res.PerSwitch, res.Rounds = d.vals, len(d.vals)*per
	res.Kernel = Add(d.side.usage, e.usage)
	res.CPUs = [2]int{d.side.cpu, e.cpu}
	return res, d.err
}

// Echo copies one byte at a time from in to out until in reaches end of
// file: the far side of a pipe ping-pong.
func Echo(in, out int) {
	b := make([]byte, 1)
	for readByte(in, b) == nil {
		if _, err := unix.Write(out, b); err != nil {
			return
		}
	}
}

// snippet:pingpong-pipe

// PipeRounds returns round trips that send a byte on out and wait for it
// to come back on in.
func PipeRounds(out, in int) func(n int) error {
	b := []byte{1}
	return func(n int) error {
		for range n {
			if _, err := unix.Write(out, b); err != nil { // wake the other side...
				return err
			}
			if err := readByte(in, b); err != nil { // ...and sleep until it answers
				return err
			}
		}
		return nil
	}
}

// end snippet

// readByte reads exactly one byte, retrying when a signal interrupts.
func readByte(fd int, b []byte) error {
	for {
		n, err := unix.Read(fd, b[:1])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		case n == 0:
			return fmt.Errorf("the other side closed the pipe")
		}
		return nil
	}
}

// Add sums two usages, such as the two threads of a ping-pong.
func Add(a, b probe.Usage) probe.Usage {
	return probe.Usage{User: a.User + b.User, System: a.System + b.System, Voluntary: a.Voluntary + b.Voluntary, Involuntary: a.Involuntary + b.Involuntary}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

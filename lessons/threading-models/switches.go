package threadingmodels

import (
	"context"
	"iter"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/probe"
)

// Switch costs. Each kind of switch is timed in batches of many switches,
// never one at a time (the clock costs as much as a coroutine switch);
// one switch is half a round trip.

// timeBatches runs batches of per round trips and returns µs per switch,
// one value per batch.
func timeBatches(ctx context.Context, batches, per int, roundTrips func(n int)) []float64 {
	out := make([]float64, 0, batches)
	for range batches {
		if ctx.Err() != nil {
			break
		}
		t := time.Now()
		roundTrips(per)
		out = append(out, float64(time.Since(t).Nanoseconds())/1e3/float64(2*per))
	}
	return out
}

// coroutineSwitch times the switches of the N:1 scheduler: on one locked
// thread, the scheduler resumes a coroutine that yields straight back.
// Resume and yield are two switches, both in user space.
func coroutineSwitch(ctx context.Context, batches int) []float64 {
	ch := make(chan []float64)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		next, stop := iter.Pull(func(yield func(struct{}) bool) {
			for yield(struct{}{}) {
			}
		})
		defer stop()
		ch <- timeBatches(ctx, batches, 20000, func(n int) {
			for range n {
				next()
			}
		})
	}()
	return <-ch
}

// goroutineSwitch times two goroutines handing a token back and forth over
// unbuffered channels with GOMAXPROCS=1, so that every hand-off is a
// switch by Go's scheduler on one thread, in user space.
func goroutineSwitch(ctx context.Context, batches int) []float64 {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	defer close(ping)
	return timeBatches(ctx, batches, 5000, func(n int) {
		for range n {
			ping <- struct{}{}
			<-pong
		}
	})
}

// threadSwitch times two kernel threads, both pinned to one CPU, handing a
// byte back and forth through two pipes: each hand-off blocks one thread
// in read() and wakes the other, a switch made by the kernel. It also
// returns the switches the kernel counted for the timing thread.
func threadSwitch(ctx context.Context, batches int, cpu int) ([]float64, probe.Usage, error) {
	var a, b [2]int // a: to the partner, b: back
	if err := unix.Pipe2(a[:], unix.O_CLOEXEC); err != nil {
		return nil, probe.Usage{}, err
	}
	if err := unix.Pipe2(b[:], unix.O_CLOEXEC); err != nil {
		unix.Close(a[0])
		unix.Close(a[1])
		return nil, probe.Usage{}, err
	}
	defer unix.Close(a[0])
	defer unix.Close(b[0])
	defer unix.Close(b[1])

	// Two threads that block in turn, plus the rest of the program: give
	// each a P so neither waits for Go's scheduler.
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, 3))
	defer runtime.GOMAXPROCS(prev)

	partner := make(chan struct{})
	go func() {
		defer close(partner)
		runtime.LockOSThread() // exits locked: the pinned thread goes with it
		probe.PinThread(cpu)
		buf := make([]byte, 1)
		for {
			if n, err := syscall.Read(a[0], buf); n <= 0 && err != syscall.EINTR {
				return // the write end closed: done
			}
			syscall.Write(b[1], buf)
		}
	}()
	type res struct {
		vals  []float64
		usage probe.Usage
	}
	ch := make(chan res)
	go func() {
		runtime.LockOSThread() // exits locked: the pinned thread goes with it
		probe.PinThread(cpu)
		buf := make([]byte, 1)
		before := probe.ThreadUsage()
		vals := timeBatches(ctx, batches, 500, func(n int) {
			for range n {
				syscall.Write(a[1], buf)
				for {
					if _, err := syscall.Read(b[0], buf); err != syscall.EINTR {
						break
					}
				}
			}
		})
		ch <- res{vals, probe.ThreadUsage().Sub(before)}
	}()
	r := <-ch
	unix.Close(a[1]) // the partner reads end-of-file and exits
	<-partner
	return r.vals, r.usage, nil
}

package threadingmodels

import (
	"context"
	"fmt"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/probe"
)

// The workload of scheduler-trace: goroutines in four roles, run once with
// the execution trace off and once with it on. Each goroutine names its
// role in the trace (a trace log event) as it starts, so that the analysis
// knows who is who; with the trace off that costs nothing.

// Roles a goroutine of the workload plays, as the chart and table name them.
const (
	roleComputing = "computing" // computes in chunks, calling a function for each
	roleSpinner   = "spinner"   // a loop that calls nothing: only a signal can stop it
	roleBlocking  = "blocking"  // read() on a pipe that stays empty until the lab writes
	roleWaiting   = "waiting"   // parked on a channel, woken now and then
	roleLab       = "lab"       // the lab's own: the driver, the trace's reader
	roleOther     = "other"     // the runtime's own goroutines, and anything unnamed
)

// roleCategory is the trace log category a goroutine's role is logged under.
const roleCategory = "conclab.role"

// chunkRounds is one chunk of a computing goroutine's work (a few tens of
// µs); the cost comparison counts chunks.
const chunkRounds = 20000

// schedWork is one run of the workload.
type schedWork struct {
	computing, waiters int
	block              time.Duration // how long each read() waits for its byte

	chunks []atomic.Int64 // chunks done by each computing goroutine
	reads  atomic.Int64   // read() calls that returned a byte
	stop   atomic.Bool
	wg     sync.WaitGroup
}

// phase is what one run of the workload did.
type phase struct {
	elapsed time.Duration
	chunks  []int64   // by computing goroutine
	threads []float64 // the process's threads, every sampleEvery
	reads   int64
}

// rates are the computing goroutines' chunks per second.
func (p phase) rates() []float64 {
	out := make([]float64, len(p.chunks))
	for i, c := range p.chunks {
		out[i] = float64(c) / p.elapsed.Seconds()
	}
	return out
}

// nameRole logs the calling goroutine's role in the trace.
func nameRole(role string) { trace.Log(context.Background(), roleCategory, role) }

// snippet:sched-spinner

// spinner loops until stop is set, calling no function: the loop has no
// place where the goroutine would check whether it should stop running, so
// only the runtime's preemption signal takes its P away.
func spinner(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// end snippet

// run runs the workload for d, or until ctx ends or enough is set; every
// goroutine it started has returned when it does.
func (w *schedWork) run(ctx context.Context, d time.Duration, enough *atomic.Bool) (phase, error) {
	nameRole(roleLab)
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return phase{}, fmt.Errorf("pipe: %w", err)
	}
	defer unix.Close(pipe[0])
	w.stop.Store(false)
	w.chunks = make([]atomic.Int64, w.computing)
	ch := make(chan int)
	w.start(pipe[0], ch)
	t0 := time.Now()
	p, err := w.drive(ctx, d, pipe[1], ch, enough)
	p.elapsed = time.Since(t0)
	w.stop.Store(true)
	close(ch)
	unix.Close(pipe[1]) // the reader's read() returns at end of file
	w.wg.Wait()
	p.chunks = make([]int64, w.computing)
	for i := range w.chunks {
		p.chunks[i] = w.chunks[i].Load()
	}
	p.reads = w.reads.Swap(0)
	return p, err
}

// start starts every goroutine of the workload.
func (w *schedWork) start(readEnd int, ch chan int) {
	for i := range w.computing {
		w.wg.Go(func() {
			nameRole(roleComputing)
			for !w.stop.Load() {
				spin(chunkRounds)
				w.chunks[i].Add(1)
			}
		})
	}
	w.wg.Go(func() {
		nameRole(roleSpinner)
		sink.Add(spinner(&w.stop))
	})
	w.wg.Go(func() {
		nameRole(roleBlocking)
		var b [1]byte
		for {
			n, err := syscall.Read(readEnd, b[:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n == 0 || w.stop.Load() {
				return
			}
			w.reads.Add(1)
		}
	})
	for range w.waiters {
		w.wg.Go(func() {
			nameRole(roleWaiting)
			for n := range ch {
				spin(n)
			}
		})
	}
}

// drive is the lab's side of the workload: every block it writes the byte
// the reader waits for and wakes one waiting goroutine; every sampleEvery
// it counts the process's threads.
func (w *schedWork) drive(ctx context.Context, d time.Duration, writeEnd int, ch chan int, enough *atomic.Bool) (phase, error) {
	var p phase
	tick, sample := time.NewTicker(w.block), time.NewTicker(sampleEvery)
	defer tick.Stop()
	defer sample.Stop()
	end := time.NewTimer(d)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-end.C:
			return p, nil
		case <-sample.C:
			if n := probe.Threads(); n > 0 { // -1 when /proc could not be read: no reading, not zero threads
				p.threads = append(p.threads, float64(n))
			}
			if enough != nil && enough.Load() {
				return p, nil
			}
		case <-tick.C:
			if _, err := unix.Write(writeEnd, []byte{1}); err != nil {
				return p, fmt.Errorf("writing to the reader's pipe: %w", err)
			}
			select {
			case ch <- chunkRounds / 10:
			default: // every waiter is busy: nobody to wake this time
			}
		}
	}
}

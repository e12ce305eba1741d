package greenthreads

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// The second half of coroutine-switch: T tasks, each a fixed number of
// slices of pure computation. Run as coroutines, one loop resumes each task
// in turn for one slice, on one thread, like an event loop. Run as
// goroutines, the Go runtime spreads them over every CPU it may use.

// sliceRounds is the size of one slice of work: a few tens of µs.
const sliceRounds = 20_000

// workSlice does one slice of work.
func workSlice(x uint64) uint64 {
	for range sliceRounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// sliceCost measures how long one slice takes here, the best of a few.
func sliceCost() time.Duration {
	best := time.Duration(0)
	for range 5 {
		t := time.Now()
		x := uint64(1)
		for range 20 {
			x = workSlice(x)
		}
		workSink.Add(x)
		d := time.Since(t) / 20
		if best == 0 || d < best {
			best = d
		}
	}
	return best
}

// workRun is what one way of running the tasks measured.
type workRun struct {
	wall, cpu time.Duration
}

// cpusUsed is CPU time over wall time: how many CPUs were busy on average.
func (w workRun) cpusUsed() float64 {
	if w.wall <= 0 {
		return 0
	}
	return w.cpu.Seconds() / w.wall.Seconds()
}

// task is one task as a coroutine body: a slice of work, then a yield.
func task(slices int) iter.Seq[struct{}] {
	return func(yield func(struct{}) bool) {
		x := uint64(slices) | 1
		for range slices {
			x = workSlice(x)
			if !yield(struct{}{}) {
				break
			}
		}
		workSink.Add(x)
	}
}

// workSink keeps the work's results alive, so the compiler keeps the work.
var workSink atomic.Uint64

// snippet:coroutine-switch

// onCoroutines runs the tasks as coroutines resumed in turn by one loop.
func onCoroutines(ctx context.Context, tasks, slices int) {
	nexts := make([]func() (struct{}, bool), tasks)
	for i := range nexts {
		next, stop := iter.Pull(task(slices))
		defer stop()
		nexts[i] = next
	}
	for alive := tasks; alive > 0 && ctx.Err() == nil; {
		for i, next := range nexts {
			if next == nil {
				continue
			}
			if _, ok := next(); !ok {
				nexts[i] = nil
				alive--
			}
		}
	}
}

// end snippet

// onGoroutines runs each task in a goroutine of its own.
func onGoroutines(ctx context.Context, tasks, slices int) {
	var wg sync.WaitGroup
	for range tasks {
		wg.Go(func() {
			x := uint64(slices) | 1
			for i := 0; i < slices && (i%64 != 0 || ctx.Err() == nil); i++ {
				x = workSlice(x)
			}
			workSink.Add(x)
		})
	}
	wg.Wait()
}

// timeWork runs f while sampling, every 100 ms, how many CPUs the process
// keeps busy, and draws that on the "cpus" chart as series.
func timeWork(out *lab.Emitter, series string, f func()) workRun {
	stop := make(chan struct{})
	sampled := make(chan struct{})
	start := time.Now()
	before := probe.ProcessUsage()
	go func() {
		defer close(sampled)
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		prevT, prevCPU := start, before.CPU()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				// The time of the reading, not of the tick: with every CPU
				// busy, this goroutine may wait a while for its turn.
				now, cpu := time.Now(), probe.ProcessUsage().CPU()
				out.Point("cpus", series, float64(now.Sub(start).Milliseconds()), (cpu-prevCPU).Seconds()/now.Sub(prevT).Seconds())
				prevT, prevCPU = now, cpu
			}
		}
	}()
	f()
	w := workRun{wall: time.Since(start), cpu: probe.ProcessUsage().Sub(before).CPU()}
	close(stop)
	<-sampled
	return w
}

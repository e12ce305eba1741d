package contextswitching

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

// item is one tiny piece of work.
func item(x uint64) uint64 { return x*6364136223846793005 + 1442695040888963407 }

// yieldGoroutines runs two goroutines with GOMAXPROCS=1 on one CPU; each
// yields with runtime.Gosched after every batch items.
func yieldGoroutines(cpu, items, batch int, deadline time.Time) (done int, wall time.Duration, err error) {
	perr := pingpong.OnOneCPU(cpu, func() {
		done, wall, err = twoWorkers(items, batch, deadline, false, cpu, runtime.Gosched)
	})
	if perr != nil {
		return 0, 0, fmt.Errorf("put the goroutines on CPU %d: %w", cpu, perr)
	}
	return done, wall, err
}

// yieldThreads runs two OS threads pinned to one CPU; each yields with
// sched_yield after every batch items.
func yieldThreads(cpu, items, batch int, deadline time.Time) (int, time.Duration, error) {
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, 3))
	defer runtime.GOMAXPROCS(prev)
	// sched_yield always succeeds on Linux (sched_yield(2)): there is no
	// error to check inside the timed loop.
	return twoWorkers(items, batch, deadline, true, cpu, func() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) })
}

// twoWorkers splits items between two workers that yield after every batch
// items and stop early at the deadline. It returns the items done and the
// wall time. With locked set each worker is an OS thread pinned to cpu.
func twoWorkers(items, batch int, deadline time.Time, locked bool, cpu int, yield func()) (int, time.Duration, error) {
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	var ready sync.WaitGroup
	ready.Add(2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if locked {
				runtime.LockOSThread() // exits locked: the pinned thread goes with it
				if err := probe.PinThread(cpu); err != nil {
					errs[w] = fmt.Errorf("pin a worker thread to CPU %d: %w", cpu, err)
					ready.Done()
					return
				}
			}
			ready.Done()
			<-start
			if errs[0] != nil || errs[1] != nil {
				return
			}
			x := uint64(w)
			n, share := 0, items/2
			// snippet:yield-batching
			for n < share {
				end := min(n+batch, share)
				for ; n < end; n++ {
					x = item(x) // a few nanoseconds of work
				}
				yield() // runtime.Gosched, or sched_yield for threads
				if n&0x3ff < batch && time.Now().After(deadline) {
					break
				}
			}
			// end snippet
			counts[w] = n
			sink.Add(x)
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	for _, err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	return counts[0] + counts[1], wall, nil
}

package processesvsthreads

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// threadMem is what holding N OS threads alive added to this process.
type threadMem struct {
	n            int
	before, peak int     // threads in this process before and with all alive
	distinct     int     // distinct thread ids the new threads reported
	rss, vm      float64 // bytes added per thread: resident, reserved
	stacks       int     // new stack regions found in the address space
	stackSize    float64 // bytes reserved by each
	stackRSS     float64 // bytes resident in each, on average
	mapsErr      error   // why the address space could not be read, so no stacks were looked for
}

// threadMemory starts n goroutines that each lock themselves to an OS
// thread and wait, so n threads are alive at once; it measures, then lets
// them return, which ends their threads.
func threadMemory(ctx context.Context, out *lab.Emitter, n int) (threadMem, error) {
	res := threadMem{n: n}
	before, err := probe.ProcessMemory(0)
	if err != nil {
		return res, err
	}
	res.before = before.Threads
	maps0, mapsErr := probe.Mappings()

	release := make(chan struct{})
	tids := make(chan int)
	defer func() {
		close(release)
		if !awaitThreads(res.before + 4) { // the runtime may keep a few more threads than before
			out.Log(fmt.Sprintf("The threads had not all ended a second after they were let go (%d threads left); the goroutines' figures may be a little low.", probe.Threads()))
		}
	}()
	s := out.Series("growth", "OS threads")
	gauge := lab.NewThrottle(lab.LiveEvery)
	seen := map[int]bool{}
	for i := range n {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		// snippet:memory-footprint
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			tids <- probe.Tid()
			<-release // parked, alive, until every thread has been counted
		}()
		seen[<-tids] = true
		// end snippet
		if (i+1)%max(1, n/50) == 0 {
			if grown := float64(probe.RSS()-before.RSS) / (1 << 20); grown > 0 { // nothing to draw on a log axis
				s.Add(float64(i+1), grown)
			}
			if gauge.Due() {
				out.Gauge("Threads in this process", float64(probe.Threads()), "")
			}
		}
	}
	s.Flush()
	// snippet:memory-per-thread
	after, err := probe.ProcessMemory(0) // /proc/self/status and smaps_rollup, again
	if err != nil {
		return res, err
	}
	out.Gauge("Threads in this process", float64(after.Threads), "")
	res.peak, res.distinct = after.Threads, len(seen)
	res.rss = float64(after.RSS-before.RSS) / float64(n) // resident: pages really in RAM
	res.vm = float64(after.VM-before.VM) / float64(n)    // reserved: address space promised
	// end snippet
	maps1, err := probe.Mappings()
	if res.mapsErr = firstError(mapsErr, err); res.mapsErr == nil {
		res.stacks, res.stackSize, res.stackRSS = newStacks(maps0, maps1)
	}
	return res, nil
}

// newStacks finds the thread stacks among the regions that appeared in the
// address space: private, writable, anonymous regions of a megabyte or
// more, the most common size among them. The C library maps one such
// region per thread (plus a guard page below it).
func newStacks(before, after []probe.Mapping) (count int, size, rss float64) {
	old := map[uint64]bool{}
	for _, m := range before {
		old[m.Start] = true
	}
	bySize := map[int64][]probe.Mapping{}
	for _, m := range after {
		if old[m.Start] || m.Name != "" || m.Perms != "rw-p" || m.Size < 1<<20 {
			continue
		}
		bySize[m.Size] = append(bySize[m.Size], m)
	}
	var best []probe.Mapping
	for _, ms := range bySize {
		if len(ms) > len(best) || (len(ms) == len(best) && len(ms) > 0 && ms[0].Size > best[0].Size) {
			best = ms
		}
	}
	if len(best) < 2 { // one big region is a heap arena, not a stack per thread
		return 0, 0, 0
	}
	var total int64
	for _, m := range best {
		total += m.RSS
	}
	return len(best), float64(best[0].Size), float64(total) / float64(len(best))
}

// awaitThreads waits (up to a second) until this process is back to at
// most n threads, so the threads' memory is gone before the next part
// measures, and reports whether it is. The kernel gives no signal when
// another thread has exited, so it polls /proc/self/status.
func awaitThreads(n int) bool {
	deadline := time.Now().Add(time.Second)
	for probe.Threads() > n {
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// goroutineMem is what holding N goroutines alive added to this process.
type goroutineMem struct {
	n          int
	rss, stack float64 // bytes added per goroutine
}

// goroutineMemory starts n goroutines that wait, measures, and releases
// them.
func goroutineMemory(ctx context.Context, out *lab.Emitter, n int) (goroutineMem, error) {
	res := goroutineMem{n: n}
	runtime.GC()
	rss0, stack0 := probe.RSS(), runtimeStack()
	release := make(chan struct{})
	defer close(release)
	var running sync.WaitGroup
	s := out.Series("growth", "goroutines")
	gauge := lab.NewThrottle(lab.LiveEvery)
	for i := range n {
		if i%1000 == 0 && ctx.Err() != nil {
			return res, ctx.Err()
		}
		running.Add(1)
		go func() {
			running.Done()
			<-release
		}()
		if (i+1)%max(1, n/50) == 0 {
			if grown := float64(probe.RSS()-rss0) / (1 << 20); grown > 0 { // nothing to draw on a log axis
				s.Add(float64(i+1), grown)
			}
			if gauge.Due() {
				out.Gauge("Goroutines", float64(runtime.NumGoroutine()), "")
			}
		}
	}
	running.Wait() // every one has run, so its stack has been touched
	s.Flush()
	out.Gauge("Goroutines", float64(runtime.NumGoroutine()), "")
	res.rss = float64(probe.RSS()-rss0) / float64(n)
	res.stack = (runtimeStack() - stack0) / float64(n)
	return res, nil
}

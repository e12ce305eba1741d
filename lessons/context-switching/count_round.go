package contextswitching

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"conclab/internal/kit"
	"conclab/internal/probe"
)

// unitIters is the size of one work unit.
const unitIters = 2000

// sink keeps the compiler from removing the work.
var sink atomic.Uint64

// work does n units of pure integer computation.
func work(n int64) {
	x := uint64(n) | 1
	for range n {
		for range unitIters {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	sink.Add(x)
}

// calibrateWork measures work units per millisecond of wall time on one
// thread pinned to cpu.
func calibrateWork(cpu int) (float64, error) {
	r, err := kit.Calibrate(kit.Calibration{CPU: cpu, Clock: kit.Wall, Start: 64, Min: 30 * time.Millisecond},
		func(n int) { work(int64(n)) })
	return r.PerMs, err
}

// snippet:switch-count

// workCounted does one thread's share of a round's work and returns what
// the kernel counted for the thread meanwhile.
func workCounted(ctx context.Context, share int64) probe.Usage {
	before := probe.ThreadUsage() // getrusage(RUSAGE_THREAD): this thread's switches so far
	for done := int64(0); done < share && ctx.Err() == nil; done += 16 {
		work(min(16, share-done)) // pure computing: the thread never waits
	}
	return probe.ThreadUsage().Sub(before) // Involuntary: each a turn the scheduler ended
}

// end snippet

// sampleEvery is how often countOnce reads the threads' switch counters.
const sampleEvery = 50 * time.Millisecond

// countOnce runs units of work split across n threads restricted to cpus,
// sampling their involuntary switches while they run; the last sample,
// with final set, is getrusage's count once all have finished.
func countOnce(ctx context.Context, n int, cpus []int, units int64, sample func(ms float64, inv int64, final bool)) (countRound, error) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		tids    []int
		pinErr  error
		total   countRound
		abandon atomic.Bool // set when the round cannot be measured: threads stop at once
	)
	ready := make(chan struct{})
	start := make(chan struct{})
	var readyCount atomic.Int32
	signalReady := func() {
		if readyCount.Add(1) == int32(n) {
			close(ready)
		}
	}
	for i := range n {
		share := units / int64(n)
		if int64(i) < units%int64(n) {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // exits locked: the pinned thread goes with it
			if err := probe.PinThread(cpus...); err != nil {
				mu.Lock()
				pinErr = fmt.Errorf("pin a thread to CPUs %v: %w", cpus, err)
				mu.Unlock()
				signalReady()
				return
			}
			mu.Lock()
			tids = append(tids, probe.Tid())
			mu.Unlock()
			signalReady()
			<-start
			if abandon.Load() {
				return
			}
			u := workCounted(ctx, share)
			mu.Lock()
			total.voluntary += u.Voluntary
			total.involuntary += u.Involuntary
			mu.Unlock()
		}()
	}
	<-ready
	// Every thread is ready and waiting: read where its counter starts.
	mu.Lock()
	err := pinErr
	base := map[int]int64{}
	for _, tid := range tids {
		if err != nil {
			break
		}
		s, serr := probe.Thread(tid)
		if serr != nil {
			err = fmt.Errorf("read the switch counter of thread %d: %w", tid, serr)
			break
		}
		base[tid] = s.Involuntary
	}
	mu.Unlock()
	if err != nil {
		abandon.Store(true)
		close(start)
		wg.Wait()
		return countRound{}, err
	}

	t0 := time.Now()
	close(start)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	last := map[int]int64{} // a thread that has finished has gone: its last reading stands
	for {
		select {
		case <-finished:
			total.wall = time.Since(t0)
			sample(float64(total.wall.Microseconds())/1e3, total.involuntary, true)
			return total, ctx.Err()
		case <-tick.C:
			var inv int64
			for tid, b := range base {
				if s, err := probe.Thread(tid); err == nil {
					last[tid] = s.Involuntary - b
				}
				inv += last[tid]
			}
			sample(float64(time.Since(t0).Microseconds())/1e3, inv, false)
		}
	}
}

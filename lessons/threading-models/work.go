package threadingmodels

import (
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/kit"
	"conclab/internal/probe"
)

// sink keeps the compiler from removing the work.
var sink atomic.Uint64

// spin does n rounds of pure integer mixing: CPU work that touches no
// memory and makes no system call.
func spin(n int) {
	x := uint64(n) | 1
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	sink.Add(x)
}

// calibrate returns how many rounds of spin take about d on one thread of
// this machine, timed on the wall clock on a thread that is not pinned:
// the tasks themselves run unpinned, wherever the kernel puts them.
func calibrate(d time.Duration) (int, error) {
	r, err := kit.Calibrate(kit.Calibration{CPU: -1, Clock: kit.Wall, Start: 1 << 12, Min: 20 * time.Millisecond}, spin)
	return r.Units(d), err
}

// interval is a stretch of time in ms since a model started.
type interval struct{ from, to float64 }

// task is one user thread of the workload. It computes in small chunks and
// counts them; the sampler reads the counts while it runs. The fields
// after the atomics are written only by the task itself and read once it
// has finished.
type task struct {
	name   string
	reader bool // the task that makes the blocking call

	chunks atomic.Int64 // chunks of work finished
	tid    atomic.Int32 // kernel thread it last ran on
	cpu    atomic.Int32 // CPU it last ran on

	tids []int      // distinct kernel threads it ran on
	cpus []int      // distinct CPUs it was seen on
	gaps []interval // stretches longer than the model's gap without a finished chunk
	last time.Time  // when the last chunk finished
}

// maxGaps bounds the gaps a task records; the longest stalls are what
// matter, and a task that stalls thousands of times has made its point.
const maxGaps = 4096

// step does one chunk of work and records where and when it ran.
func (t *task) step(m *model) {
	spin(m.unit)
	now := time.Now()
	t.pause(m, now)
	t.last = now
	tid, cpu := unix.Gettid(), probe.CurrentCPU()
	if !slices.Contains(t.tids, tid) {
		t.tids = append(t.tids, tid)
	}
	if !slices.Contains(t.cpus, cpu) {
		t.cpus = append(t.cpus, cpu)
	}
	t.tid.Store(int32(tid))
	t.cpu.Store(int32(cpu))
	t.chunks.Add(1)
}

// pause records the time since the task last finished a chunk as a gap,
// if it was long enough to count as a stall.
func (t *task) pause(m *model, now time.Time) {
	if now.Sub(t.last) > m.gap && len(t.gaps) < maxGaps {
		t.gaps = append(t.gaps, interval{m.ms(t.last), m.ms(now)})
	}
}

// retireThreads ends up to n of the process's threads, idle ones first.
// Each round starts a goroutine that locks itself to the thread running it
// and exits, which ends that thread; the runtime then wakes an idle thread,
// if it has one, to carry on. Run before the 1:1 model, it leaves no idle
// thread for the locked tasks to reuse, so every thread they need shows up
// in the count as a new one.
func retireThreads(n int) {
	for range n {
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread() // exits locked: that is the point
			close(done)
		}()
		<-done
	}
}

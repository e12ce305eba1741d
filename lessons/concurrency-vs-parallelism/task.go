package concurrencyvsparallelism

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"conclab/internal/kit"
	"conclab/internal/probe"
)

// errGetcpu is a task's error when the kernel would not say which CPU it
// was on: without that answer there is no timeline to draw.
var errGetcpu = errors.New("getcpu failed: the kernel did not say which CPU the task ran on")

// chunkIters is how many loop iterations a task does between two looks at
// which CPU it is on and what time it is: about 20–40 µs of work, short
// next to a time slice of milliseconds, and long enough that the getcpu
// call (0.1 µs on bare metal, 1 µs or so in some virtual machines) adds
// only a few per cent.
const chunkIters = 16384

// pieceLen is the longest span a task reports in one piece. A task that
// runs for a second without a break would otherwise show nothing until it
// ended; cut into pieces, its lane grows while it runs.
const pieceLen = 60 * time.Millisecond

// span is a stretch of time one task spent running on one CPU, in time
// since its phase started.
type span struct {
	start, end time.Duration
	cpu        int
}

// task is one CPU-bound task: a goroutine locked to its own OS thread,
// restricted to some CPUs, doing a fixed number of chunks of arithmetic.
// As it runs it notes which CPU it is on after every chunk and turns those
// samples into spans.
type task struct {
	name   string
	cpus   []int // the CPUs its thread may run on
	chunks int64 // its fixed amount of work

	done atomic.Int64 // chunks done so far, for progress

	mu     sync.Mutex
	closed []span // spans finished but not yet taken by the reporter

	// Set by the task when it finishes; read after it has.
	samples int
	usage   probe.Usage   // getrusage(RUSAGE_THREAD) over the work
	end     time.Duration // when its last chunk finished
	err     error
}

// take returns the spans closed since the last call.
func (t *task) take() []span {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.closed
	t.closed = nil
	return s
}

func (t *task) push(s span) {
	t.mu.Lock()
	t.closed = append(t.closed, s)
	t.mu.Unlock()
}

// run does the task's work on its own pinned thread. It signals ready once
// pinned, waits for start, and measures time from t0 (read by the
// coordinator when it closed start). gap is the pause between two samples
// beyond which the task counts as having been off the CPU.
func (t *task) run(ctx context.Context, ready func(), start <-chan struct{}, t0 *time.Time, gap time.Duration) {
	runtime.LockOSThread() // exits locked: the pinned thread goes with it
	if err := probe.PinThread(t.cpus...); err != nil {
		t.err = err
		ready()
		return
	}
	ready()
	<-start
	base := *t0
	before := probe.ThreadUsage()
	x := uint64(len(t.name)) | 0x9e3779b97f4a7c15
	now := time.Since(base)
	cur := span{start: now, end: now, cpu: probe.CurrentCPU()}
	if cur.cpu < 0 {
		t.err = errGetcpu
	}
	samples := 1
	// snippet:cpu-timeline
	for i := int64(1); i <= t.chunks && t.err == nil; i++ {
		x = mix(x, chunkIters)    // 20–40 µs of pure arithmetic
		cpu := probe.CurrentCPU() // getcpu: which CPU am I on now?
		if cpu < 0 {
			t.err = errGetcpu
			break
		}
		now := time.Since(base)
		samples++
		switch {
		case cpu != cur.cpu || now-cur.end > gap:
			// It was off the CPU, or moved, somewhere between the last
			// sample and this one: the span ends at the last sample.
			t.push(cur)
			cur = span{start: now, end: now, cpu: cpu}
		case now-cur.start > pieceLen:
			cur.end = now
			t.push(cur)
			cur = span{start: now, end: now, cpu: cpu}
		default:
			cur.end = now
		}
		// end snippet
		if i%64 == 0 {
			t.done.Store(i)
			if ctx.Err() != nil {
				break
			}
		}
	}
	if cur.cpu >= 0 {
		t.push(cur)
	}
	t.usage = probe.ThreadUsage().Sub(before)
	t.end = time.Since(base)
	t.samples = samples
	t.done.Store(t.chunks)
	sink.Add(x)
}

// sink keeps the compiler from removing the work.
var sink atomic.Uint64

// mix is the work: n rounds of xorshift, pure integer arithmetic on one
// register, with no memory traffic to speak of.
func mix(x uint64, n int) uint64 {
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// calibrate measures how many chunks one thread pinned to cpu does per
// millisecond of its own CPU time (not wall time, so that a busy machine
// does not shrink the work), and how long one chunk takes.
func calibrate(cpu int) (perMs float64, chunk time.Duration, err error) {
	x := uint64(1)
	r, err := kit.Calibrate(kit.Calibration{CPU: cpu, Clock: kit.ThreadCPU, Start: 16, Min: 40 * time.Millisecond}, func(n int) {
		for range n {
			x = mix(x, chunkIters)
		}
	})
	sink.Add(x)
	return r.PerMs, r.Per(), err
}

// sampleCost is the mean time of one getcpu call on this thread.
func sampleCost() time.Duration {
	const n = 20000
	start := time.Now()
	for range n {
		probe.CurrentCPU()
	}
	return time.Since(start) / n
}

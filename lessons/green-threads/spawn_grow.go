package greenthreads

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// grown is what one phase of spawn-many measured: how far it got, what the
// OS and the runtime counted at the peak, and what it cost.
type grown struct {
	target, reached int
	before, peak    int // NumGoroutine or the thread count before the phase and at its peak
	distinct        int // distinct thread ids seen (threads only)
	wall            time.Duration
	rss, vm         int64       // growth of resident and virtual memory at the peak, bytes
	kstack          int64       // growth of the machine's kernel stacks, bytes (threads only)
	stacks          int64       // growth of goroutine stack memory, bytes (goroutines only)
	faults          int64       // minor page faults while growing
	cpu             probe.Usage // CPU time of the whole process while growing
	left            int         // goroutines or threads above the baseline after release
	release         time.Duration
	stopped         string
}

// feed sends a phase's samples to the two line charts and the gauges,
// together and at most ten times a second (lab.LiveEvery).
type feed struct {
	out        *lab.Emitter
	series     string
	phase      string
	total      int
	every      *lab.Throttle
	mx, my, tx []float64
	ty         []float64
}

func newFeed(out *lab.Emitter, series, phase string, total int) *feed {
	return &feed{out: out, series: series, phase: phase, total: total, every: lab.NewThrottle(0)}
}

func (f *feed) add(count int, rssGrowth int64, since time.Duration) {
	f.mx = append(f.mx, float64(count))
	f.my = append(f.my, float64(rssGrowth)/(1<<20))
	f.tx = append(f.tx, since.Seconds())
	f.ty = append(f.ty, float64(count))
	if f.every.Due() {
		f.flush()
	}
}

func (f *feed) flush() {
	if len(f.mx) == 0 {
		return
	}
	f.out.Points("memory", f.series, f.mx, f.my)
	f.out.Points("time", f.series, f.tx, f.ty)
	f.out.Gauge(strings.ToUpper(f.series[:1])+f.series[1:]+" parked", f.ty[len(f.ty)-1], "")
	f.out.Gauge("Resident memory added, "+f.series, f.my[len(f.my)-1], "MiB")
	f.out.Progress(f.phase, int(f.ty[len(f.ty)-1]), f.total)
	f.mx, f.my, f.tx, f.ty = nil, nil, nil, nil
}

// settle collects garbage and hands free memory back to the OS, so that a
// phase starts from (and ends at) a clean baseline.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// minorFaults is the process's minor page faults so far.
func minorFaults() (int64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("counting page faults: %w", err)
	}
	return ru.Minflt, nil
}

// memNow reads the process's memory and thread count; a failed reading is
// returned, never taken for zero.
func memNow() (probe.Status, error) {
	s, err := probe.Self()
	if err != nil {
		return s, fmt.Errorf("reading the process's memory: %w", err)
	}
	return s, nil
}

// growThreads parks m OS threads: each is a goroutine locked to its thread
// with runtime.LockOSThread and blocked on a channel, so the runtime must
// start a new thread for every one. At the end the goroutines return while
// still locked, which makes the runtime end their threads.
func growThreads(ctx context.Context, m int, out *lab.Emitter) (grown, error) {
	g := grown{target: m}
	settle()
	base, err := memNow()
	if err != nil {
		return g, err
	}
	kbase := probe.ReadMachineMemory().KernelStack
	faults, err := minorFaults()
	if err != nil {
		return g, err
	}
	usage := probe.ProcessUsage()

	release := make(chan struct{})
	tids := make(chan int, m)
	seen := make(map[int]bool, m)
	var exited sync.WaitGroup
	released := false
	free := func() {
		if released {
			return
		}
		released = true
		t0 := time.Now()
		close(release)
		exited.Wait()
		// A thread ends a moment after its goroutine returns; wait until
		// the kernel no longer lists any of ours (bounded: one that stays
		// is reported, not waited for).
		for time.Since(t0) < 5*time.Second && len(alive(seen)) > 0 {
			time.Sleep(2 * time.Millisecond)
		}
		g.release = time.Since(t0)
		g.left = len(alive(seen))
	}
	defer free()

	f := newFeed(out, "OS threads", "parking OS threads", m)
	batch := max(m/50, 5)
	start := time.Now()
	for g.reached < m {
		if ctx.Err() != nil {
			return g, ctx.Err()
		}
		n := min(batch, m-g.reached)
		exited.Add(n)
		for range n {
			go func() {
				defer exited.Done()
				runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
				tids <- probe.Tid()
				<-release
			}()
		}
		for range n {
			seen[<-tids] = true
		}
		g.reached += n
		s, err := memNow()
		if err != nil {
			return g, err
		}
		f.add(g.reached, s.RSS-base.RSS, time.Since(start))
	}
	g.wall = time.Since(start)
	f.flush()

	peak, err := memNow()
	if err != nil {
		return g, err
	}
	g.before, g.peak = base.Threads, peak.Threads
	g.distinct = len(seen)
	g.rss, g.vm = peak.RSS-base.RSS, peak.VM-base.VM
	g.kstack = probe.ReadMachineMemory().KernelStack - kbase
	if g.faults, err = minorFaults(); err != nil {
		return g, err
	}
	g.faults -= faults
	g.cpu = probe.ProcessUsage().Sub(usage)
	out.Log(fmt.Sprintf("%d OS threads parked in %s: /proc/self/status counts %d threads (%d before), and %d distinct thread ids answered gettid.",
		g.reached, g.wall.Round(time.Millisecond), peak.Threads, base.Threads, g.distinct))
	out.Log(cpuNote(g))
	free()
	out.Log(fmt.Sprintf("Released: the goroutines returned and the kernel had ended %d of the %d threads after %s; the process has %d threads now, %d before the phase.",
		g.distinct-g.left, g.distinct, g.release.Round(time.Millisecond), probe.Threads(), base.Threads))
	return g, nil
}

// alive returns the threads of tids that the kernel still lists, leaving
// out the main thread: if a locked goroutine happened to run there, the
// runtime parks that thread for good instead of ending it.
func alive(tids map[int]bool) []int {
	now, err := probe.TaskIDs()
	if err != nil {
		return nil
	}
	var out []int
	for _, id := range now {
		if tids[id] && id != os.Getpid() {
			out = append(out, id)
		}
	}
	return out
}

// snippet:spawn-many

// park starts k goroutines that each park on release, and returns once
// every one of them has run: the chunk growGoroutines counts and weighs.
func park(k int, ready, exited *sync.WaitGroup, release <-chan struct{}) {
	ready.Add(k)
	exited.Add(k)
	for range k {
		go func() {
			ready.Done()
			<-release // parked: a goroutine that waits holds no thread
			exited.Done()
		}()
	}
	ready.Wait() // every goroutine of the chunk has run and is about to park
}

// end snippet

// growGoroutines parks up to n goroutines on a channel, in chunks, and
// stops early when the time budget runs out or the next chunk would take
// more memory than allow bytes.
func growGoroutines(ctx context.Context, n int, budget time.Duration, allow int64, out *lab.Emitter) (grown, error) {
	g := grown{target: n}
	settle()
	base, err := memNow()
	if err != nil {
		return g, err
	}
	gbase := runtime.NumGoroutine()
	sbase, err := stackBytes()
	if err != nil {
		return g, err
	}
	faults, err := minorFaults()
	if err != nil {
		return g, err
	}
	usage := probe.ProcessUsage()

	release := make(chan struct{})
	var ready, exited sync.WaitGroup
	released := false
	free := func() {
		if released {
			return
		}
		released = true
		t0 := time.Now()
		close(release)
		exited.Wait()
		// Done comes just before each goroutine's end; let the last ones
		// finish before counting what is left.
		for time.Since(t0) < 5*time.Second && runtime.NumGoroutine() > gbase {
			time.Sleep(time.Millisecond)
		}
		g.release = time.Since(t0)
		g.left = max(0, runtime.NumGoroutine()-gbase)
	}
	defer free()

	f := newFeed(out, "goroutines", "parking goroutines", n)
	chunk := max(n/200, 500)
	start := time.Now()
	for g.reached < n {
		if ctx.Err() != nil {
			return g, ctx.Err()
		}
		k := min(chunk, n-g.reached)
		if g.reached >= 10_000 {
			s, err := memNow()
			if err != nil {
				return g, err
			}
			per := float64(s.RSS-base.RSS) / float64(g.reached)
			if need := int64(per * float64(g.reached+k)); need > allow {
				g.stopped = fmt.Sprintf("the next %d would take the memory past this run's allowance of %s", k, mib(allow))
				break
			}
		}
		if time.Since(start) > budget {
			g.stopped = fmt.Sprintf("the time budget of %s ran out", budget)
			break
		}
		park(k, &ready, &exited, release)
		g.reached += k
		s, err := memNow()
		if err != nil {
			return g, err
		}
		f.add(g.reached, s.RSS-base.RSS, time.Since(start))
	}
	g.wall = time.Since(start)
	f.flush()

	peak, err := memNow()
	if err != nil {
		return g, err
	}
	g.before, g.peak = gbase, runtime.NumGoroutine()
	g.rss, g.vm = peak.RSS-base.RSS, peak.VM-base.VM
	if g.stacks, err = stackBytes(); err != nil {
		return g, err
	}
	g.stacks -= sbase
	if g.faults, err = minorFaults(); err != nil {
		return g, err
	}
	g.faults -= faults
	g.cpu = probe.ProcessUsage().Sub(usage)
	out.Log(fmt.Sprintf("%d goroutines parked in %s; runtime.NumGoroutine counts %d (%d before). The process still has %d OS threads.",
		g.reached, g.wall.Round(time.Millisecond), g.peak, gbase, peak.Threads))
	out.Log(cpuNote(g))
	if g.stopped != "" {
		out.Log(fmt.Sprintf("Stopped at %d of %d goroutines: %s.", g.reached, n, g.stopped))
	}
	free()
	out.Log(fmt.Sprintf("Released: all goroutines returned in %s and %d are left. Their memory goes back to the OS when this run's process exits, a moment from now.",
		g.release.Round(time.Millisecond), g.left))
	return g, nil
}

// cpuNote says where a phase's time went.
func cpuNote(g grown) string {
	s := fmt.Sprintf("While growing, the process used %s of CPU in user space and %s in the kernel, in %s of wall time; the kernel counted %d page faults (fresh memory being handed out).",
		g.cpu.User.Round(time.Millisecond), g.cpu.System.Round(time.Millisecond), g.wall.Round(time.Millisecond), g.faults)
	if g.cpu.CPU() < g.wall/3 {
		s += " The CPU time is far below the wall time: most of the time the process was waiting, not running. On a virtual machine, touching fresh memory can stall while the host provides the page."
	}
	return s
}

// stackBytes is the memory the runtime holds for goroutine stacks.
func stackBytes() (int64, error) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0, fmt.Errorf("this Go runtime does not report %s", s[0].Name)
	}
	return int64(s[0].Value.Uint64()), nil
}

// mib formats bytes for a person.
func mib(b int64) string {
	switch {
	case b >= 10<<30:
		return fmt.Sprintf("%.0f GiB", float64(b)/(1<<30))
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 10<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
}

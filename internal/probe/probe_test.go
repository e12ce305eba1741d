package probe

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	in := "Name:\tx\nThreads:\t7\nVmRSS:\t    2048 kB\nVmSize:\t10 kB\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n"
	got := parseStatus([]byte(in))
	want := Status{Threads: 7, RSS: 2048 * 1024, VM: 10 * 1024, Voluntary: 12, Involuntary: 3}
	if got != want {
		t.Errorf("parseStatus = %+v, want %+v", got, want)
	}
}

// Pinning a locked thread to one CPU means getcpu reports that CPU.
func TestPinThreadAndCurrentCPU(t *testing.T) {
	t.Parallel()
	cpus, err := AllowedCPUs()
	if err != nil || len(cpus) == 0 {
		t.Fatalf("AllowedCPUs = %v, %v", cpus, err)
	}
	for _, cpu := range cpus[:min(2, len(cpus))] {
		got := make(chan int)
		go func() {
			runtime.LockOSThread() // exits locked: the pinned thread goes with it
			if err := PinThread(cpu); err != nil {
				t.Error(err)
			}
			runtime.Gosched()
			got <- CurrentCPU()
		}()
		if c := <-got; c != cpu {
			t.Errorf("pinned to CPU %d, getcpu says %d", cpu, c)
		}
	}
}

// Goroutines locked to threads and blocked raise the thread count that
// /proc reports. The runtime may keep idle threads and hand them to locked
// goroutines, so a few locked goroutines need not start any new thread;
// but each locked goroutine holds a thread of its own, so holding more of
// them than the process had threads at the start forces at least n new
// ones, on any machine and whatever the runtime kept idle.
func TestThreadsRise(t *testing.T) {
	before := Threads()
	if before < 1 {
		t.Fatalf("Threads() = %d before the test: /proc/self/status unreadable?", before)
	}
	const n = 5
	held := before + n
	release := make(chan struct{})
	defer close(release)
	ready := make(chan int)
	for range held {
		go func() {
			runtime.LockOSThread()
			ready <- Tid()
			<-release // blocked in the runtime, holding its own thread
		}()
	}
	tids := map[int]bool{}
	for range held {
		tids[<-ready] = true
	}
	after := Threads()
	if len(tids) != held {
		t.Errorf("%d distinct thread ids for %d locked goroutines", len(tids), held)
	}
	if after < before+n {
		t.Errorf("threads %d → %d with %d goroutines locked to threads, want at least %d", before, after, held, before+n)
	}
}

func TestReadHost(t *testing.T) {
	t.Parallel()
	h := ReadHost()
	if h.Logical < 1 || h.Usable < 1 || h.GOMAXPROCS < 1 || h.Kernel == "" || h.GoVersion == "" || h.Virtual == "" {
		t.Errorf("host facts incomplete: %+v", h)
	}
	if h.EffectiveCPUs() > h.Usable {
		t.Errorf("EffectiveCPUs %d > usable %d", h.EffectiveCPUs(), h.Usable)
	}
}

// KeepOff leaves no thread of the process on the CPU it keeps free, and
// its restore lets every thread back. Not parallel: it moves every thread
// of the test binary.
func TestKeepOff(t *testing.T) {
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	affinity := func(tid int) map[int]bool {
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(tid, &set); err != nil {
			return nil // the thread has gone
		}
		m := map[int]bool{}
		for _, c := range cpus {
			if set.IsSet(c) {
				m[c] = true
			}
		}
		return m
	}
	restore, err := KeepOff(cpus[0])
	if err != nil {
		t.Fatal(err)
	}
	tids, err := TaskIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		a := affinity(tid)
		if a == nil {
			continue
		}
		if len(cpus) > 1 && a[cpus[0]] {
			t.Errorf("thread %d may still run on CPU %d, which KeepOff kept free", tid, cpus[0])
		}
		if len(cpus) == 1 && !a[cpus[0]] {
			t.Errorf("with one CPU, KeepOff moved thread %d off it", tid)
		}
	}
	restore()
	if tids, err = TaskIDs(); err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		if a := affinity(tid); a != nil && len(a) != len(cpus) {
			t.Errorf("after restore, thread %d may run on %d of the %d CPUs", tid, len(a), len(cpus))
		}
	}
}

package probe

import (
	"runtime"
	"testing"
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
// /proc reports.
func TestThreadsRise(t *testing.T) {
	before := Threads()
	release := make(chan struct{})
	ready := make(chan int)
	const n = 5
	for range n {
		go func() {
			runtime.LockOSThread()
			ready <- Tid()
			<-release // blocked in the runtime, holding its own thread
		}()
	}
	tids := map[int]bool{}
	for range n {
		tids[<-ready] = true
	}
	after := Threads()
	close(release)
	if len(tids) != n {
		t.Errorf("%d distinct thread ids for %d locked goroutines", len(tids), n)
	}
	// Each locked goroutine holds a thread of its own, and this test runs
	// on yet another.
	if after < n+1 {
		t.Errorf("threads %d → %d with %d goroutines locked to threads, want at least %d", before, after, n, n+1)
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

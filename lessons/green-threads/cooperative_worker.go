package greenthreads

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"conclab/internal/probe"
)

// The cooperative experiment runs each of its three settings in a worker
// process of its own, because GODEBUG=asyncpreemptoff=1 only takes effect
// when a Go program starts. The worker runs with GOMAXPROCS=1 and pinned to
// one CPU, so its goroutines take turns on a single thread, and reports on
// stdout, one JSON object per line:
//
//	{"e":"ready", ...}           settings, as the worker sees them
//	{"e":"beat","t":ms}          one heartbeat, ms since the worker began
//	{"e":"start","t":ms}         the spinner begins
//	{"e":"spin","t0":..,"t1":..} the spinner has finished, with its yields
//	{"e":"done"}

// workerMsg is one line of the worker's report.
type workerMsg struct {
	E         string  `json:"e"`
	T         float64 `json:"t,omitempty"`
	T0        float64 `json:"t0,omitempty"`
	T1        float64 `json:"t1,omitempty"`
	Yields    int64   `json:"yields,omitempty"`
	Procs     int     `json:"gomaxprocs,omitempty"`
	GODEBUG   string  `json:"godebug,omitempty"`
	CPU       int     `json:"cpu,omitempty"`
	NsPerIter float64 `json:"ns_per_iter,omitempty"`
	Iters     int64   `json:"iters,omitempty"`
}

// spinWorker is the worker: args are mode (off, yield or on), CPU, spinner
// length in ms, heartbeat interval in µs, K, and the lead-in in ms.
func spinWorker(args []string) int {
	if len(args) != 6 {
		fmt.Fprintln(os.Stderr, "spin worker: want mode cpu spin-ms tick-µs every lead-ms")
		return 2
	}
	mode := args[0]
	var nums [5]int64
	for i, a := range args[1:] {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "spin worker:", err)
			return 2
		}
		nums[i] = n
	}
	cpu, spinMs, tick, every, lead := int(nums[0]), nums[1], time.Duration(nums[2])*time.Microsecond, nums[3], time.Duration(nums[4])*time.Millisecond
	if err := probe.PinProcess(cpu); err != nil {
		fmt.Fprintln(os.Stderr, "spin worker:", err)
		return 1
	}
	// A collection would have to stop the spinner too; with almost nothing
	// allocated, switching it off keeps it out of the picture.
	debug.SetGCPercent(-1)

	start := time.Now()
	now := func() float64 { return float64(time.Since(start).Nanoseconds()) / 1e6 }
	var mu sync.Mutex
	send := func(m workerMsg) {
		b, _ := json.Marshal(m)
		mu.Lock()
		os.Stdout.Write(append(b, '\n'))
		mu.Unlock()
	}

	ns := calibrateSpin()
	iters := int64(float64(spinMs) * 1e6 / ns)
	send(workerMsg{E: "ready", Procs: runtime.GOMAXPROCS(0), GODEBUG: os.Getenv("GODEBUG"), CPU: probe.CurrentCPU(), NsPerIter: ns, Iters: iters})

	stop := make(chan struct{})
	stopped := make(chan struct{})
	// snippet:cooperative-heartbeat
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			case <-time.After(tick):
				send(workerMsg{E: "beat", T: now()})
			}
		}
	}()
	// end snippet
	time.Sleep(lead)

	send(workerMsg{E: "start", T: now()})
	// Let a heartbeat that fell due meanwhile run now, so the spin begins
	// from a clean hand-over.
	runtime.Gosched()
	t0 := now()
	var yields int64
	if mode == "yield" {
		yields = spinYielding(iters, every)
	} else {
		runtime.KeepAlive(spinTight(iters))
	}
	t1 := now()
	send(workerMsg{E: "spin", T0: t0, T1: t1, Yields: yields})

	time.Sleep(lead)
	close(stop)
	<-stopped
	send(workerMsg{E: "done"})
	return 0
}

// spinTight runs n rounds of integer mixing. The loop calls nothing, so it
// offers the Go scheduler no point at which to stop it: only an
// asynchronous preemption (a signal) can take the thread away.
//
//go:noinline
func spinTight(n int64) uint64 {
	// snippet:cooperative
	x := uint64(n) | 1
	for i := int64(0); i < n; i++ { // no call in the loop: no point where Go could switch goroutines
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	// end snippet
	return x
}

// spinYielding does the same work but calls runtime.Gosched after every
// `every` rounds, the way a cooperative task must. It returns the number
// of yields.
//
//go:noinline
func spinYielding(n, every int64) int64 {
	x := uint64(n) | 1
	var yields int64
	for i := int64(0); i < n; {
		end := min(i+every, n)
		for ; i < end; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		runtime.Gosched()
		yields++
	}
	runtime.KeepAlive(x) // the loop's result is used, so it is not removed
	return yields
}

// calibrateSpin returns the nanoseconds one round of spinTight takes, the
// best of a few short tries.
func calibrateSpin() float64 {
	const n = 1 << 22
	best := 0.0
	for range 3 {
		t := time.Now()
		runtime.KeepAlive(spinTight(n))
		ns := float64(time.Since(t).Nanoseconds()) / n
		if best == 0 || ns < best {
			best = ns
		}
	}
	return best
}

package contextswitching

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var claimPerf = lab.Claim{
	Claim:    "These same-CPU thread and process figures agree with perf bench sched pipe, a standard tool, within 25%.",
	Expected: "within ±25% of perf's figures, measured in the same run",
}

// judgePerf compares the same-CPU medians with perf's. Without perf there
// is nothing to compare with, and the verdict says so.
func judgePerf(ref *perfRef, perfErr error, thread, process float64) lab.Claim {
	if ref == nil {
		why := "perf is not installed on this machine (on Debian it is the linux-perf package), so there is no reference to compare with."
		if perfErr != nil {
			why = "perf is installed but could not run here: " + perfErr.Error()
		}
		return claimPerf.Judge("no reference: perf was not run", lab.Inconclusive, why)
	}
	dt, dp := thread/ref.thread-1, process/ref.process-1
	m := fmt.Sprintf("threads %.2f µs vs perf %.2f µs (%+.0f%%); processes %.2f µs vs perf %.2f µs (%+.0f%%)",
		thread, ref.thread, 100*dt, process, ref.process, 100*dp)
	if math.Abs(dt) <= 0.25 && math.Abs(dp) <= 0.25 {
		return claimPerf.Judge(m, lab.Holds, "")
	}
	pcid, pti := probe.TLBFacts()
	why := "The figures differ by more than 25%. Both sides ran pinned to the same CPU in the same run, so the difference is in what each side does per switch."
	if dp > 0.25 {
		why = "The process figure is above perf's. perf's two processes are tiny C loops; these are Go programs whose runtime touches more memory on each system call, and the next process has to bring that memory back into the TLB and caches."
		if !pcid || pti {
			why += " On this CPU every switch between processes flushes the TLB (no PCID, or page-table isolation is on), which makes that refill cost more."
		}
	}
	return claimPerf.Judge(m, lab.Differs, why)
}

// perfRef is what perf bench sched pipe measured, in µs per switch.
type perfRef struct {
	process, thread float64
}

var usecsPerOp = regexp.MustCompile(`([0-9.]+)\s+usecs/op`)

// perfReference runs `perf bench sched pipe` pinned to one CPU, as two
// processes and with -T as two threads. perf reports microseconds per
// round trip; one switch is half of that.
func perfReference(ctx context.Context, perf string, cpu, loops int) (perfRef, error) {
	var ref perfRef
	for _, threads := range []bool{false, true} {
		args := []string{"bench", "sched", "pipe", "-l", strconv.Itoa(loops)}
		if threads {
			args = append(args, "-T")
		}
		out, err := pinnedOutput(exec.CommandContext(ctx, perf, args...), cpu)
		if err != nil {
			return ref, fmt.Errorf("perf %v: %w", args, err)
		}
		m := usecsPerOp.FindSubmatch(out)
		if m == nil {
			return ref, fmt.Errorf("perf printed no usecs/op: %q", out)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		if threads {
			ref.thread = v / 2
		} else {
			ref.process = v / 2
		}
	}
	return ref, nil
}

// pinnedOutput runs cmd pinned to one CPU, as `taskset -c cpu` would: a
// process inherits the CPU affinity of the thread that starts it, so the
// command is started from a thread pinned to cpu. That thread is thrown
// away afterwards (its goroutine exits locked).
func pinnedOutput(cmd *exec.Cmd, cpu int) ([]byte, error) {
	type result struct {
		out []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := probe.PinThread(cpu); err != nil {
			ch <- result{nil, err}
			return
		}
		out, err := cmd.CombinedOutput()
		ch <- result{out, err}
	}()
	r := <-ch
	return r.out, r.err
}

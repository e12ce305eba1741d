package contextswitching

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// perfRef is what perf bench sched pipe measured, in µs per switch: the
// median of its rounds, and each round (one per round of switch-cost, in
// turn with the ping-pongs).
type perfRef struct {
	process, thread         float64
	processRuns, threadRuns []float64
}

// add records one round of both ways and updates the medians.
func (r *perfRef) add(process, thread float64) {
	r.processRuns = append(r.processRuns, process)
	r.threadRuns = append(r.threadRuns, thread)
	r.process, r.thread = lab.Summarize(r.processRuns).P50, lab.Summarize(r.threadRuns).P50
}

var usecsPerOp = regexp.MustCompile(`([0-9.]+)\s+usecs/op`)

// perfRound runs `perf bench sched pipe` pinned to one CPU for loops round
// trips, as two processes and then with -T as two threads. perf reports
// microseconds per round trip; one switch is half of that.
func perfRound(ctx context.Context, perf string, cpu, loops int) (process, thread float64, err error) {
	for _, threads := range []bool{false, true} {
		args := []string{"bench", "sched", "pipe", "-l", strconv.Itoa(max(1, loops))}
		if threads {
			args = append(args, "-T")
		}
		out, err := pinnedOutput(exec.CommandContext(ctx, perf, args...), cpu)
		if err != nil {
			return 0, 0, fmt.Errorf("perf %v: %w", args, err)
		}
		m := usecsPerOp.FindSubmatch(out)
		if m == nil {
			return 0, 0, fmt.Errorf("perf printed no usecs/op: %q", out)
		}
		v, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			return 0, 0, fmt.Errorf("perf printed usecs/op %q, not a number", m[1])
		}
		if threads {
			thread = v / 2
		} else {
			process = v / 2
		}
	}
	return process, thread, nil
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

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
// median of its rounds, and each round.
type perfRef struct {
	process, thread         float64
	processRuns, threadRuns []float64
}

// perfRounds is how many times perf runs each way; its rounds alternate,
// so that a slow moment of the machine does not fall on one way alone.
const perfRounds = 3

var usecsPerOp = regexp.MustCompile(`([0-9.]+)\s+usecs/op`)

// perfReference runs `perf bench sched pipe` pinned to one CPU, as two
// processes and with -T as two threads, perfRounds times each with a
// share of loops. perf reports microseconds per round trip; one switch is
// half of that.
func perfReference(ctx context.Context, perf string, cpu, loops int) (perfRef, error) {
	var ref perfRef
	per := max(1, loops/perfRounds)
	for range perfRounds {
		for _, threads := range []bool{false, true} {
			args := []string{"bench", "sched", "pipe", "-l", strconv.Itoa(per)}
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
			v, err := strconv.ParseFloat(string(m[1]), 64)
			if err != nil {
				return ref, fmt.Errorf("perf printed usecs/op %q, not a number", m[1])
			}
			if threads {
				ref.threadRuns = append(ref.threadRuns, v/2)
			} else {
				ref.processRuns = append(ref.processRuns, v/2)
			}
		}
	}
	ref.process, ref.thread = lab.Summarize(ref.processRuns).P50, lab.Summarize(ref.threadRuns).P50
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

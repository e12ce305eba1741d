package processesvsthreads

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// threadOutcome is what became of the process with N threads.
type threadOutcome struct {
	pid         int
	tids        []int // reported by each thread, by index
	steps       []int // steps each thread reported
	crashed     bool
	exit        string
	detail      string
	peak        int // most threads seen in the process while it ran
	zombieTasks int // tasks listed under /proc/<pid>/task after it died, before it was reaped; -1: not readable
	aliveAfter  int // reported thread ids that still existed afterwards in that process
	start, end  time.Time
}

// runThreadProc starts one worker process whose n threads work in
// parallel until thread victim faults. It shows one live row per thread,
// watches the process die, and checks that every thread went with it.
// The process is separate from this one on purpose: this process must
// live on to report what happened.
func runThreadProc(ctx context.Context, out *lab.Emitter, a crashArgs, n, victim int) (threadOutcome, error) {
	res := threadOutcome{tids: make([]int, n), steps: make([]int, n)}
	args := append([]string{strconv.Itoa(n), strconv.Itoa(victim)}, a.strings()...)
	cmd, err := lab.Worker(ctx, "crash-isolation", "threads", args...)
	if err != nil {
		return res, err
	}
	stderr := &tailBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := lab.Start(cmd); err != nil {
		return res, fmt.Errorf("start the threads worker: %w", err)
	}
	res.pid, res.start = cmd.Process.Pid, time.Now()

	type line struct{ kind, i, v int } // kind 0: tid, 1: step, 2: end of output
	lines := make(chan line, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var i, v int
			if _, err := fmt.Sscanf(sc.Text(), "tid %d %d", &i, &v); err == nil {
				lines <- line{0, i, v}
			} else if _, err := fmt.Sscanf(sc.Text(), "step %d %d", &i, &v); err == nil {
				lines <- line{1, i, v}
			}
		}
		lines <- line{kind: 2} // every thread is gone: nobody holds the pipe open
	}()

	rowEvery := make([]*lab.Throttle, n) // each thread's live row, at most ten a second
	for i := range rowEvery {
		rowEvery[i] = lab.NewThrottle(lab.LiveEvery)
	}
	row := func(i int, state, what string) {
		out.Row("threads", fmt.Sprintf("t%d", i+1), map[string]any{
			"thread": fmt.Sprintf("thread %d", i+1), "tid": kid(res.tids[i]), "state": state,
			"steps": fmt.Sprintf("%d / %d", res.steps[i], a.steps), "what": what,
		})
	}
	gauge := lab.NewThrottle(lab.LiveEvery)
	known := 0
	for ended := false; !ended; {
		var l line
		select {
		case l = <-lines:
		case <-ctx.Done():
			cmd.Wait() // killed with the run's context
			return res, ctx.Err()
		}
		switch {
		case l.kind == 2:
			ended = true
		case l.i < 1 || l.i > n:
		case l.kind == 0:
			if res.tids[l.i-1] == 0 {
				known++
			}
			res.tids[l.i-1] = l.v
			if known == n { // every thread is alive: show them in order
				for i := range n {
					row(i, "running", "")
				}
			}
		default:
			res.steps[l.i-1] = l.v
			if rowEvery[l.i-1].Due() {
				row(l.i-1, "running", "")
			}
		}
		if gauge.Due() {
			// It fails once the process has died, which is what this run
			// waits for; the peak is of the reads that worked.
			if st, err := probe.Process(res.pid); err == nil {
				res.peak = max(res.peak, st.Threads)
				out.Gauge("Threads in the worker process", float64(st.Threads), "")
			}
		}
	}

	// The process has died. Before reaping it, look at what is left of it.
	var info unix.Siginfo
	var werr error = unix.EINTR
	for werr == unix.EINTR {
		werr = unix.Waitid(unix.P_PID, res.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
	}
	if werr != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return res, fmt.Errorf("waiting for the threads' process %d to die: %w", res.pid, werr)
	}
	res.end = time.Now()
	res.zombieTasks = -1
	if tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", res.pid)); err == nil {
		res.zombieTasks = len(tasks)
	}
	if err := cmd.Wait(); cmd.ProcessState == nil {
		return res, fmt.Errorf("reaping the threads' process %d: %w", res.pid, err)
	}
	res.crashed, res.exit = describeExit(cmd.ProcessState)
	res.detail = stderr.firstLines(2)
	out.Gauge("Threads in the worker process", 0, "")
	for i, tid := range res.tids {
		if tid > 0 {
			pid, err := threadOf(tid)
			if err != nil {
				return res, fmt.Errorf("checking whether thread %d outlived its process: %w", tid, err)
			}
			if pid == res.pid {
				res.aliveAfter++
			}
		}
		what := "died with its process"
		if i+1 == victim {
			what = "faulted: " + res.exit
		}
		row(i, "crashed", what)
		out.Span("timeline", fmt.Sprintf("thread %d", i+1), out.Ms(res.start), out.Ms(res.end), "crashed")
	}
	return res, nil
}

// threadOf returns the process (thread group) that thread id tid belongs
// to, or 0 when no such thread exists. Any other failure to read it is an
// error: taken for "gone", it would count a living thread as dead.
func threadOf(tid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, fmt.Errorf("thread %d: Tgid %q: %w", tid, strings.TrimSpace(v), err)
			}
			return pid, nil
		}
	}
	return 0, fmt.Errorf("thread %d: no Tgid in its status", tid)
}

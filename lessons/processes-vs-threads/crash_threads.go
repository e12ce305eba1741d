package processesvsthreads

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
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
	p := &threadProc{out: out, a: a, n: n, victim: victim, res: threadOutcome{tids: make([]int, n), steps: make([]int, n)}}
	stdout, err := p.start(ctx)
	if err != nil {
		return p.res, err
	}
	if err := p.watch(ctx, threadLines(stdout)); err != nil {
		return p.res, err
	}
	return p.res, p.afterDeath()
}

// threadProc is the worker process of runThreadProc, watched from this one.
type threadProc struct {
	out       *lab.Emitter
	a         crashArgs
	n, victim int
	cmd       *exec.Cmd
	stderr    *tailBuffer
	res       threadOutcome
}

// start starts the worker and returns its stdout, where its threads say
// their ids and their steps.
func (p *threadProc) start(ctx context.Context) (io.Reader, error) {
	args := append([]string{strconv.Itoa(p.n), strconv.Itoa(p.victim)}, p.a.strings()...)
	cmd, err := lab.Worker(ctx, "crash-isolation", "threads", args...)
	if err != nil {
		return nil, err
	}
	p.cmd, p.stderr = cmd, &tailBuffer{}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := lab.Start(cmd); err != nil {
		return nil, fmt.Errorf("start the threads worker: %w", err)
	}
	p.res.pid, p.res.start = cmd.Process.Pid, time.Now()
	return stdout, nil
}

// threadLine is one line of the worker's threads.
type threadLine struct{ kind, i, v int }

// Kinds of threadLine.
const (
	lineTid  = iota // thread i has thread id v
	lineStep        // thread i has done v steps
	lineEnd         // the output has ended
)

// threadLines reads the worker's stdout into lines, the last of kind
// lineEnd.
func threadLines(stdout io.Reader) <-chan threadLine {
	lines := make(chan threadLine, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var i, v int
			if _, err := fmt.Sscanf(sc.Text(), "tid %d %d", &i, &v); err == nil {
				lines <- threadLine{lineTid, i, v}
			} else if _, err := fmt.Sscanf(sc.Text(), "step %d %d", &i, &v); err == nil {
				lines <- threadLine{lineStep, i, v}
			}
		}
		lines <- threadLine{kind: lineEnd} // every thread is gone: nobody holds the pipe open
	}()
	return lines
}

// watch shows the threads' rows and the worker's thread count live until
// its output ends: every thread is gone.
func (p *threadProc) watch(ctx context.Context, lines <-chan threadLine) error {
	rowEvery := make([]*lab.Throttle, p.n) // each thread's live row, at most ten a second
	for i := range rowEvery {
		rowEvery[i] = lab.NewThrottle(lab.LiveEvery)
	}
	gauge := lab.NewThrottle(lab.LiveEvery)
	known := 0
	for ended := false; !ended; {
		var l threadLine
		select {
		case l = <-lines:
		case <-ctx.Done():
			p.cmd.Wait() // killed with the run's context
			return ctx.Err()
		}
		switch {
		case l.kind == lineEnd:
			ended = true
		case l.i < 1 || l.i > p.n:
		case l.kind == lineTid:
			if p.res.tids[l.i-1] == 0 {
				known++
			}
			p.res.tids[l.i-1] = l.v
			if known == p.n { // every thread is alive: show them in order
				for i := range p.n {
					p.row(i, "running", "")
				}
			}
		default:
			p.res.steps[l.i-1] = l.v
			if rowEvery[l.i-1].Due() {
				p.row(l.i-1, "running", "")
			}
		}
		if gauge.Due() {
			// It fails once the process has died, which is what this run
			// waits for; the peak is of the reads that worked.
			if st, err := probe.Process(p.res.pid); err == nil {
				p.res.peak = max(p.res.peak, st.Threads)
				p.out.Gauge("Threads in the worker process", float64(st.Threads), "")
			}
		}
	}
	return nil
}

// row is thread i's row in the live table.
func (p *threadProc) row(i int, state, what string) {
	p.out.Row("threads", fmt.Sprintf("t%d", i+1), map[string]any{
		"thread": fmt.Sprintf("thread %d", i+1), "tid": kid(p.res.tids[i]), "state": state,
		"steps": fmt.Sprintf("%d / %d", p.res.steps[i], p.a.steps), "what": what,
	})
}

// afterDeath looks at what is left of the dead process before reaping it,
// reaps it, and checks which of its threads outlived it.
func (p *threadProc) afterDeath() error {
	res := &p.res
	var info unix.Siginfo
	var werr error = unix.EINTR
	for werr == unix.EINTR {
		werr = unix.Waitid(unix.P_PID, res.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
	}
	if werr != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		return fmt.Errorf("waiting for the threads' process %d to die: %w", res.pid, werr)
	}
	res.end = time.Now()
	res.zombieTasks = -1
	if tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", res.pid)); err == nil {
		res.zombieTasks = len(tasks)
	}
	if err := p.cmd.Wait(); p.cmd.ProcessState == nil {
		return fmt.Errorf("reaping the threads' process %d: %w", res.pid, err)
	}
	res.crashed, res.exit = describeExit(p.cmd.ProcessState)
	res.detail = p.stderr.firstLines(2)
	p.out.Gauge("Threads in the worker process", 0, "")
	for i, tid := range res.tids {
		if tid > 0 {
			pid, err := threadOf(tid)
			if err != nil {
				return fmt.Errorf("checking whether thread %d outlived its process: %w", tid, err)
			}
			if pid == res.pid {
				res.aliveAfter++
			}
		}
		what := "died with its process"
		if i+1 == p.victim {
			what = "faulted: " + res.exit
		}
		p.row(i, "crashed", what)
		p.out.Span("timeline", fmt.Sprintf("thread %d", i+1), p.out.Ms(res.start), p.out.Ms(res.end), "crashed")
	}
	return nil
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

package processesvsthreads

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
)

// procOutcome is what became of one worker process.
type procOutcome struct {
	index, pid int
	steps      int // steps it reported
	afterCrash int // of those, reported after the chosen worker had died
	crashed    bool
	exit       string // how it ended, as the kernel reported it
	detail     string
	start, end time.Time
	rows       *lab.Throttle // live rows of its steps, at most ten a second
}

// procEvent is a line from a worker, or its end.
type procEvent struct {
	i     int
	step  int
	at    time.Time
	ended bool             // the worker has ended: end says how, or err why that is not known
	end   *os.ProcessState // how it ended; nil if waiting for it failed
	err   error
}

// describeExit says how a process ended and whether that was a crash.
func describeExit(ps *os.ProcessState) (bool, string) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return !ps.Success(), ps.String()
	case ws.Signaled():
		return true, "killed by signal " + unix.SignalName(ws.Signal())
	case ws.ExitStatus() != 0:
		return true, fmt.Sprintf("exit status %d", ws.ExitStatus())
	}
	return false, "exit status 0"
}

// runWorkerProcs starts n worker processes; worker victim faults half way
// through. It shows one live row per worker and returns when all have
// ended, with the moment the victim died.
func runWorkerProcs(ctx context.Context, out *lab.Emitter, a crashArgs, n, victim int) ([]procOutcome, time.Time, error) {
	res := make([]procOutcome, n)
	evs := make(chan procEvent, n*(a.steps+2))
	var cmds []*exec.Cmd
	stderrs := make([]*tailBuffer, n)
	for i := range n {
		args := a
		if i+1 != victim {
			args.crashAt = 0
		}
		cmd, err := lab.Worker(ctx, "crash-isolation", "step", args.strings()...)
		if err != nil {
			return nil, time.Time{}, err
		}
		stderrs[i] = &tailBuffer{}
		cmd.Stderr = stderrs[i]
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, time.Time{}, err
		}
		if err := lab.Start(cmd); err != nil {
			for _, c := range cmds {
				c.Process.Kill()
			}
			return nil, time.Time{}, fmt.Errorf("start worker %d: %w", i+1, err)
		}
		cmds = append(cmds, cmd)
		res[i] = procOutcome{index: i + 1, pid: cmd.Process.Pid, start: time.Now(), rows: lab.NewThrottle(lab.LiveEvery)}
		procRow(out, &res[i], a.steps, "running", "")
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var k int
				if _, err := fmt.Sscanf(sc.Text(), "step %d", &k); err == nil {
					evs <- procEvent{i: i, step: k, at: time.Now()}
				}
			}
			err := cmd.Wait() // after every line is read, as StdoutPipe requires
			evs <- procEvent{i: i, at: time.Now(), ended: true, end: cmd.ProcessState, err: err}
		}()
	}

	var crashTime time.Time
	for left := n; left > 0; {
		var e procEvent
		select {
		case e = <-evs:
		case <-ctx.Done():
			return nil, time.Time{}, ctx.Err() // the workers die with the run's context
		}
		o := &res[e.i]
		if !e.ended {
			o.steps = e.step
			if !crashTime.IsZero() {
				o.afterCrash++
			}
			if o.rows.Due() {
				procRow(out, o, a.steps, "running", "")
			}
			continue
		}
		if e.end == nil { // it was never waited for, so how it ended is not known
			return nil, time.Time{}, fmt.Errorf("waiting for worker %d (PID %d): %w", o.index, o.pid, e.err)
		}
		left--
		o.end = e.at
		o.crashed, o.exit = describeExit(e.end)
		state := "finished"
		if o.crashed || o.steps < a.steps {
			state = "crashed"
		}
		if o.index == victim {
			crashTime = e.at
			o.detail = stderrs[e.i].firstLines(2)
			out.Log(fmt.Sprintf("Worker %d (PID %d) crashed: %s. %s", o.index, o.pid, o.exit, o.detail))
		} else if !crashTime.IsZero() {
			o.detail = fmt.Sprintf("%d steps done after worker %d crashed", o.afterCrash, victim)
		}
		procRow(out, o, a.steps, state, o.exit)
		out.Gauge("Worker processes still running", float64(left), "")
	}
	for _, o := range res { // in worker order, so the lanes are too
		state := "finished"
		if o.crashed || o.steps < a.steps {
			state = "crashed"
		}
		out.Span("timeline", fmt.Sprintf("worker %d", o.index), out.Ms(o.start), out.Ms(o.end), state)
	}
	return res, crashTime, nil
}

func procRow(out *lab.Emitter, o *procOutcome, steps int, state, exit string) {
	out.Row("processes", fmt.Sprintf("w%d", o.index), map[string]any{
		"worker": fmt.Sprintf("worker %d", o.index), "pid": kid(o.pid), "state": state,
		"steps": fmt.Sprintf("%d / %d", o.steps, steps), "exit": exit, "detail": o.detail,
	})
}

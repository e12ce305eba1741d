// Package runner measures runs on this machine: it starts each run as a
// child process of this binary (`conclab experiment <id>`), in its own
// process group with the experiment's GOMAXPROCS, GODEBUG and CPU
// affinity, reads the JSON events the child writes, and kills the whole
// group on cancel, timeout or shutdown. The child side — the entry point
// that runs the experiment's function and writes its events — is here
// too (ChildMain). `conclab run`, `conclab check`, the server's local
// measuring host and `conclab worker` all run experiments through it.
package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// Runner starts runs as child processes of this binary and reads their
// events. One Runner serves both the web server and `conclab run`.
type Runner struct {
	Registry *lab.Registry
	// Exe is the binary to execute; empty means os.Executable().
	Exe string
	// Log receives what people do not need to see (a child's stderr).
	Log *slog.Logger
	// Name is the measuring host's name, passed to the child (see
	// probe.HostNameEnv); empty leaves the machine's hostname.
	Name string
}

// maxLine bounds one event line; a child writing more is broken.
const maxLine = 1 << 20

// errTimeout is the cause of a run's context when its time limit passes.
var errTimeout = errors.New("time limit reached")

// Run executes one run and calls emit for each of its events, in order,
// ending with exactly one done event (preceded by the child's result when
// it succeeded). It returns when the child and every process it started
// are gone. Cancelling ctx kills them all and ends the run as cancelled.
func (r *Runner) Run(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
	ctx, cancel := context.WithTimeoutCause(ctx, exp.TimeLimit(), errTimeout)
	defer cancel()
	start := time.Now()
	out := r.run(ctx, exp, p, emit)
	switch {
	case out.Status == protocol.StatusOK:
	case context.Cause(ctx) == errTimeout:
		out.Status = protocol.StatusTimeout
		out.Error = fmt.Sprintf("%s reached its time limit of %s and was stopped", exp.ID, exp.TimeLimit())
	case ctx.Err() != nil:
		out.Status = protocol.StatusCancelled
		out.Error = "the run was cancelled"
		if c := context.Cause(ctx); c != nil && c != context.Canceled {
			out.Error = "the run was cancelled: " + c.Error()
		}
	}
	done := protocol.Done{Status: out.Status, T: format.Ms(time.Since(start)), TS: time.Now().UnixMilli()}
	if out.Status != protocol.StatusOK {
		done.Error = out.Error
	}
	emit(runlog.Event{Type: protocol.EventDone, JSON: protocol.Encode(done)})
	out.Events++
	return out
}

func (r *Runner) run(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	fail := func(msg string) runlog.Outcome {
		return runlog.Outcome{Status: protocol.StatusFailed, Error: msg}
	}
	exe := r.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			log.Error("cannot find own executable", "err", err)
			return fail("the server could not start the experiment")
		}
	}
	spec := exp.ChildSpecFor(p)
	cmd := exec.Command(exe, lab.ChildCommand, exp.ID, "--params", p.Key())
	cmd.Env = childEnv(os.Environ(), spec, r.Name)
	// Its own process group, so one kill reaches every process of the run;
	// and SIGKILL if the thread that started it dies with the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	// Plain pipes rather than exec's copying goroutines: Wait must not
	// block on a grandchild that still holds stdout open.
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		log.Error("pipe", "err", err)
		return fail("the server could not start the experiment")
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		log.Error("pipe", "err", err)
		return fail("the server could not start the experiment")
	}
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	if err := cmd.Start(); err != nil {
		stdoutR.Close()
		stdoutW.Close()
		stderrR.Close()
		stderrW.Close()
		log.Error("start child", "experiment", exp.ID, "err", err)
		return fail("the server could not start the experiment")
	}
	stdoutW.Close()
	stderrW.Close()
	pgid := cmd.Process.Pid

	stderrDone := make(chan []byte, 1)
	go func() { stderrDone <- tail(stderrR, 16<<10); stderrR.Close() }()

	var out runlog.Outcome
	readDone := make(chan error, 1)
	go func() { readDone <- r.readEvents(stdoutR, &out, emit); stdoutR.Close() }()

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var waitErr error
	select {
	case waitErr = <-exited:
	case <-ctx.Done():
		killGroup(pgid)
		waitErr = <-exited
	}
	// Whatever the child left behind in its group goes too, and is reaped.
	killGroup(pgid)
	reapGroup(pgid)
	readErr := <-readDone
	stderr := <-stderrDone

	if ctx.Err() != nil {
		return out // Run reports cancelled or timeout
	}
	if len(stderr) > 0 {
		log.Info("experiment stderr", "experiment", exp.ID, "stderr", string(stderr))
	}
	switch {
	case readErr != nil:
		log.Error("reading events", "experiment", exp.ID, "err", readErr)
		out.Status, out.Error = protocol.StatusFailed, "the experiment wrote something that is not an event: "+readErr.Error()
	case waitErr != nil:
		out.Status, out.Error = protocol.StatusFailed, crashMessage(exp.ID, waitErr, stderr)
	case out.Result == nil:
		out.Status, out.Error = protocol.StatusFailed, exp.ID+" ended without a result"
	default:
		out.Status = protocol.StatusOK
	}
	return out
}

// readEvents reads the child's event lines and passes them on. It drops the
// child's own done (the runner owns that event) and anything after the
// result, so a run has at most one result and it comes last.
func (r *Runner) readEvents(f *os.File, out *runlog.Outcome, emit func(runlog.Event)) error {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var firstErr error
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || out.Result != nil {
			continue
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &head); err != nil || head.Type == "" || line[0] != '{' {
			if firstErr == nil {
				firstErr = fmt.Errorf("line %q", truncate(string(line), 80))
			}
			continue
		}
		if head.Type == protocol.EventDone {
			continue
		}
		ev := runlog.Event{Type: head.Type, JSON: bytes.Clone(line)}
		if head.Type == protocol.EventResult {
			out.Result = ev.JSON
		}
		out.Events++
		emit(ev)
	}
	if err := sc.Err(); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// childEnv sets GOMAXPROCS and GODEBUG for the child.
func childEnv(env []string, spec lab.ChildSpec, name string) []string {
	out := make([]string, 0, len(env)+3)
	if name != "" {
		out = append(out, probe.HostNameEnv+"="+name)
	}
	godebug := ""
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "GOMAXPROCS=") && spec.GOMAXPROCS > 0:
		case strings.HasPrefix(kv, probe.HostNameEnv+"=") && name != "":
		case strings.HasPrefix(kv, "GODEBUG="):
			godebug = strings.TrimPrefix(kv, "GODEBUG=")
		default:
			out = append(out, kv)
		}
	}
	if spec.GOMAXPROCS > 0 {
		out = append(out, "GOMAXPROCS="+strconv.Itoa(spec.GOMAXPROCS))
	}
	if spec.GODEBUG != "" {
		if godebug != "" {
			godebug += ","
		}
		godebug += spec.GODEBUG
	}
	if godebug != "" {
		out = append(out, "GODEBUG="+godebug)
	}
	return out
}

// crashMessage says in one line how the child died, using the first line
// of a panic or fatal error from its stderr when there is one.
func crashMessage(id string, waitErr error, stderr []byte) string {
	msg := id + " failed: " + waitErr.Error()
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			msg = fmt.Sprintf("%s was killed by signal %s", id, ws.Signal())
		}
	}
	for line := range strings.Lines(string(stderr)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "error:") {
			return msg + " (" + truncate(line, 200) + ")"
		}
	}
	return msg
}

// tail reads f to the end and keeps its last n bytes.
func tail(f *os.File, n int) []byte {
	var keep []byte
	buf := make([]byte, 32<<10)
	for {
		k, err := f.Read(buf)
		keep = append(keep, buf[:k]...)
		if len(keep) > n {
			keep = keep[len(keep)-n:]
		}
		if err != nil {
			return keep
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"conclab/internal/probe"
)

// ChildCommand is the first argument that turns the binary into a run's
// child process: `conclab experiment <id> --params JSON`, or
// `conclab experiment --worker <id> <name> args...` for an experiment's
// own worker processes.
const ChildCommand = "experiment"

// IsChild reports whether args (os.Args) start the child entry point.
// Test binaries that run experiments call it from TestMain.
func IsChild(args []string) bool { return len(args) > 1 && args[1] == ChildCommand }

// ChildMain runs the child side of a run and returns the exit code. args
// are os.Args[2:], after "experiment".
func ChildMain(reg *Registry, args []string, stdout io.Writer, stderr io.Writer) int {
	if len(args) >= 3 && args[0] == "--worker" {
		return workerMain(reg, args[1], args[2], args[3:], stderr)
	}
	if len(args) != 3 || args[1] != "--params" {
		fmt.Fprintln(stderr, "conclab experiment: this is the entry point the server uses to start a run; use `conclab run <id>` instead")
		return 2
	}
	exp, ok := reg.Lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "conclab experiment: unknown experiment %q\n", args[0])
		return 2
	}
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(args[2]))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		fmt.Fprintf(stderr, "conclab experiment: bad --params: %v\n", err)
		return 2
	}
	params, err := exp.Validate(raw, false)
	if err != nil {
		fmt.Fprintf(stderr, "conclab experiment: %v\n", err)
		return 2
	}

	out := NewEmitter(stdout)
	spec := childSpec(exp, params)
	if len(spec.CPUs) > 0 {
		if err := probe.PinProcess(spec.CPUs...); err != nil {
			fmt.Fprintf(stderr, "conclab experiment: %v\n", err)
			return 1
		}
	}
	host := probe.ReadHost()
	out.Event("started", map[string]any{
		"experiment": exp.ID,
		"params":     params,
		"pid":        os.Getpid(),
		"host":       host,
		"child": map[string]any{
			"gomaxprocs": runtime.GOMAXPROCS(0),
			"godebug":    os.Getenv("GODEBUG"),
			"cpus":       spec.CPUs,
		},
	})

	// The runner kills the whole process group to stop a run; a signal
	// from a terminal (^C on `conclab run`) ends the run more gently.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, exp.TimeLimit())
	defer cancel()

	if err := runProtected(ctx, exp, params, out); err != nil {
		// "error:" marks the line the runner quotes to the learner.
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	if err := out.Err(); err != nil {
		fmt.Fprintf(stderr, "writing events: %v\n", err)
		return 1
	}
	return 0
}

// runProtected runs the experiment and turns a panic into an error with its
// stack, so the runner can report it; the process still exits cleanly.
func runProtected(ctx context.Context, exp *Experiment, p Params, out *Emitter) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the experiment panicked: %v\n\n%s", r, debug.Stack())
		}
	}()
	return exp.Run(ctx, p, out)
}

func workerMain(reg *Registry, id, name string, args []string, stderr io.Writer) int {
	exp, ok := reg.Lookup(id)
	if !ok || exp.Workers[name] == nil {
		fmt.Fprintf(stderr, "conclab experiment: no worker %q in %q\n", name, id)
		return 2
	}
	return exp.Workers[name](args)
}

// childSpec returns the child's environment for these parameters.
func childSpec(exp *Experiment, p Params) ChildSpec {
	if exp.Child == nil {
		return ChildSpec{}
	}
	return exp.Child(p)
}

// Worker returns a command that starts one of the experiment's worker
// processes: this same binary in worker mode. It stays in the run's process
// group, so cancelling the run kills it too, and it gets SIGKILL when the
// run's process dies. Call it from inside a run, and start it with Start
// (never cmd.Start or cmd.Run: see Start).
func Worker(ctx context.Context, experiment, name string, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	all := append([]string{ChildCommand, "--worker", experiment, name}, args...)
	cmd := exec.CommandContext(ctx, exe, all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	return cmd, nil
}

// Start starts a worker's command (see Worker) from a thread that lives
// as long as this process. Linux sends a child its parent-death signal
// when the *thread* that started it ends, and in Go any goroutine that
// exits locked to its thread ends that thread — experiments do it on
// purpose, to drop a pinned thread. Started from an arbitrary thread, a
// worker could be killed the moment an unrelated goroutine exits; started
// here, it dies only with the process, which is what Pdeathsig is for.
func Start(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawns = make(chan spawn)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread must outlive every worker
			for sp := range spawns {
				sp.done <- sp.cmd.Start()
			}
		}()
	})
	sp := spawn{cmd: cmd, done: make(chan error, 1)}
	spawns <- sp
	return <-sp.done
}

type spawn struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawns    chan spawn
)

package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
)

// IsChild reports whether args (os.Args) start the child entry point.
// Test binaries that run experiments call it from TestMain.
func IsChild(args []string) bool { return len(args) > 1 && args[1] == lab.ChildCommand }

// ChildMain runs the child side of a run and returns the exit code. args
// are os.Args[2:], after "experiment".
func ChildMain(reg *lab.Registry, args []string, stdout io.Writer, stderr io.Writer) int {
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

	out := lab.NewEmitter(stdout)
	spec := exp.ChildSpecFor(params)
	if len(spec.CPUs) > 0 {
		if err := probe.PinProcess(spec.CPUs...); err != nil {
			fmt.Fprintf(stderr, "conclab experiment: %v\n", err)
			return 1
		}
	}
	host := probe.ReadHost()
	out.Event(protocol.EventStarted, map[string]any{
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
func runProtected(ctx context.Context, exp *lab.Experiment, p lab.Params, out *lab.Emitter) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the experiment panicked: %v\n\n%s", r, debug.Stack())
		}
	}()
	return exp.Run(ctx, p, out)
}

func workerMain(reg *lab.Registry, id, name string, args []string, stderr io.Writer) int {
	exp, ok := reg.Lookup(id)
	if !ok || exp.Workers[name] == nil {
		fmt.Fprintf(stderr, "conclab experiment: no worker %q in %q\n", name, id)
		return 2
	}
	return exp.Workers[name](args)
}

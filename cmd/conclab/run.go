package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
	"conclab/internal/runner"
	"conclab/internal/store"
	"conclab/lessons"
)

// exitError carries an exit code: 2 for bad input, 1 for a run that
// failed. Its message is one line for the person at the terminal.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

// exitCode prints err (if any) and returns the process's exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "conclab:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "conclab:", err)
	return 1
}

const usage = `Concurrency Lab: a course on concurrency whose lessons measure this machine.

Usage:
  conclab [serve] [--addr 127.0.0.1:8080] [--parallel-runs 1] [--queue 32] [--data DIR] [--keep-runs 1000]
      Serve the course. Open the address it prints in a browser.
  conclab list [--json]
      List every experiment with its parameters and their allowed ranges.
  conclab run <id> [--set name=value]... [--quick] [--json] [--no-save] [--data DIR]
      Run one experiment here and print what it measured; the run is kept
      in the run store unless --no-save.
      --quick uses small sizes; --json prints the events, one per line.
  conclab history [--json] [--experiment ID] [--lesson SLUG] [--limit 50] [--data DIR]
      List the runs kept, newest first.
  conclab show ID [--data DIR]
      Print a kept run as conclab run printed it.
  conclab export ID [--data DIR] > run.ndjson
  conclab import FILE [--data DIR]
      Carry a run to another machine, keeping the host it was measured on.

  The run store: --data DIR (default $XDG_DATA_HOME/conclab, else
  ~/.local/share/conclab); --data "" keeps runs in memory only. conclab serve
  takes --data and --keep-runs N (default 1000) too.
  conclab check [--repeat N] [--quick] [--json] [--only id,id]
      Before a class: look at the machine (load, busy programs, CPU quota,
      usable CPUs, python3, perf) and warn, then run every experiment N times
      (default 1) and print each one's duration, verdicts per run, flips and
      failures. Exit 0 when every run finished, 1 otherwise.

  conclab loadtest [--addr http://127.0.0.1:8080] [--viewers 100] [--experiment switch-cost] [--set k=v]...
                   [--pages 0] [--page /lessons/...] [--duration 10s]
      Open many websocket viewers on one run of a running server and report how
      long its events take to reach them, and the server's memory; --pages
      first requests a lesson page at a fixed rate and reports its latency.

Exit status of run: 0 when the run finished, 1 when it failed, 2 for bad input.
`

// run is the whole program; main only wires signals to ctx. args are
// os.Args, the program name first.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := lessons.Course()
	reg := c.Registry()
	if runner.IsChild(args) {
		if code := runner.ChildMain(reg, args[2:], stdout, stderr); code != 0 {
			return &exitError{code: code}
		}
		return nil
	}
	args = args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, c, args, stdout, stderr)
	case "list":
		return list(reg, args, stdout)
	case "run":
		return runOne(ctx, reg, args, stdout, stderr)
	case "loadtest":
		return loadtest(ctx, reg, args, stdout, stderr)
	case "history":
		return history(args, stdout, stderr)
	case "show":
		return show(reg, args, stdout, stderr)
	case "export":
		return export(args, stdout, stderr)
	case "import":
		return importRun(args, stdout, stderr)
	case "check":
		return check(ctx, reg, args, stdout, stderr)
	case "worker":
		return worker(ctx, reg, args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError("unknown command %q; the commands are serve, worker, list, run, check, history, show, export, import and loadtest (see conclab help)", cmd)
}

// newFlags returns a flag set whose errors come back as exit code 2.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("conclab "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{code: 0}
		}
		return &exitError{code: 2} // flag already printed the problem
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func list(reg *lab.Registry, args []string, stdout io.Writer) error {
	fs := newFlags("list", stdout)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	infos := reg.Describe()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	for _, e := range infos {
		fmt.Fprintf(stdout, "%s  (%s)\n  %s\n", e.ID, e.Lesson, e.Title)
		for _, p := range e.Params {
			fmt.Fprintf(stdout, "    --set %s=%v    %s; %s\n", p.Name, p.Default, p.Help, p.Range())
		}
	}
	return nil
}

// runArgs are the arguments of `conclab run`.
type runArgs struct {
	id     string
	set    map[string]any
	quick  bool
	asJSON bool
	noSave bool
	data   string
}

// parseRunArgs reads `<id> [--set k=v]... [--quick] [--json] [--no-save]
// [--data DIR]` in any order.
func parseRunArgs(args []string) (runArgs, error) {
	ra := runArgs{set: map[string]any{}, data: defaultData()}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case !strings.HasPrefix(a, "-"):
			if ra.id != "" {
				return ra, usageError("run takes one experiment id, got %q and %q", ra.id, a)
			}
			ra.id = a
		case name == "quick" && !hasVal:
			ra.quick = true
		case name == "json" && !hasVal:
			ra.asJSON = true
		case name == "no-save" && !hasVal:
			ra.noSave = true
		case name == "data":
			if !hasVal {
				if i+1 >= len(args) {
					return ra, usageError("--data needs a directory (\"\" keeps the run in memory only)")
				}
				i++
				val = args[i]
			}
			ra.data = val
		case name == "set":
			if !hasVal {
				if i+1 >= len(args) {
					return ra, usageError("--set needs name=value")
				}
				i++
				val = args[i]
			}
			k, v, ok := strings.Cut(val, "=")
			if !ok || k == "" {
				return ra, usageError("--set needs name=value, got %q", val)
			}
			ra.set[k] = v
		default:
			return ra, usageError("unknown flag %q for run; it takes --set name=value, --quick, --json, --no-save and --data DIR", a)
		}
	}
	if ra.id == "" {
		return ra, usageError("run needs an experiment id; `conclab list` shows them")
	}
	return ra, nil
}

func runOne(ctx context.Context, reg *lab.Registry, args []string, stdout, stderr io.Writer) error {
	ra, err := parseRunArgs(args)
	if err != nil {
		return err
	}
	exp, ok := reg.Lookup(ra.id)
	if !ok {
		var ids []string
		for _, e := range reg.All() {
			ids = append(ids, e.ID)
		}
		slices.Sort(ids)
		return usageError("unknown experiment %q; the experiments are %s", ra.id, strings.Join(ids, ", "))
	}
	params, err := exp.Validate(ra.set, ra.quick)
	if err != nil {
		return usageError("%v", err)
	}
	if err := runner.BecomeSubreaper(); err != nil {
		slog.Debug("subreaper", "err", err)
	}
	rn := &runner.Runner{Registry: reg, Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	var report *reporter
	show := func(ev runlog.Event) {
		stdout.Write(ev.JSON)
		stdout.Write([]byte{'\n'})
	}
	if !ra.asJSON {
		report = &reporter{w: stdout, exp: exp}
		show = report.event
	}
	// The run is kept through the same store code as the server's runs,
	// off the measuring path; a store that cannot be opened costs the run
	// nothing but its record.
	var st *store.Store
	if !ra.noSave && ra.data != "" {
		if st, err = openCLIStore(ra.data, stderr); err != nil {
			fmt.Fprintf(stderr, "conclab: this run will not be saved: %v\n", err)
		}
	}
	emit, tape, id := show, engine.Tape(nil), engine.NewID()
	if st != nil {
		log := runlog.New(id)
		tape = st.Record(runlog.Record{ID: id, Experiment: exp.ID, Lesson: exp.Lesson, Params: params, Created: time.Now()}, log)
		emit = func(ev runlog.Event) { show(ev); log.Append(ev) }
	}
	out := rn.Run(ctx, exp, params, emit)
	if st != nil {
		tape.End(out)
		st.Flush()
		h := st.Health()
		st.Close()
		if h.Reason != "" {
			fmt.Fprintf(stderr, "conclab: this run was not saved: %s\n", h.Reason)
		} else {
			fmt.Fprintf(stderr, "Saved as run %s in %s: `conclab show %s` prints it again.\n", id, st.Where(), id)
		}
	}
	if out.Status != protocol.StatusOK {
		return &exitError{code: 1, msg: out.Error}
	}
	return nil
}

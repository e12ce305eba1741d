package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"conclab/internal/format"
	"conclab/internal/kit"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
	"conclab/internal/runner"
)

// checkArgs are the arguments of `conclab check`.
type checkArgs struct {
	repeat int
	quick  bool
	asJSON bool
	only   []string // experiment ids; none means all
}

// maxRepeat bounds --repeat: twenty runs of every experiment already take
// about an hour.
const maxRepeat = 20

func parseCheckArgs(args []string, reg *lab.Registry) (checkArgs, error) {
	ca := checkArgs{repeat: 1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			return ca, usageError("unexpected argument %q; check takes --repeat N, --quick, --json and --only id,id", a)
		}
		needValue := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", usageError("--%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case name == "quick" && !hasVal:
			ca.quick = true
		case name == "json" && !hasVal:
			ca.asJSON = true
		case name == "repeat":
			v, err := needValue()
			if err != nil {
				return ca, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxRepeat {
				return ca, usageError("--repeat must be 1–%d, got %q", maxRepeat, v)
			}
			ca.repeat = n
		case name == "only":
			v, err := needValue()
			if err != nil {
				return ca, err
			}
			for _, id := range strings.Split(v, ",") {
				if _, ok := reg.Lookup(id); !ok {
					return ca, usageError("--only names %q, which is no experiment; `conclab list` shows them", id)
				}
				ca.only = append(ca.only, id)
			}
		default:
			return ca, usageError("unknown flag %q for check; it takes --repeat N, --quick, --json and --only id,id", a)
		}
	}
	return ca, nil
}

// machineCheck is what check saw of the machine before the runs.
type machineCheck struct {
	Host     probe.Host          `json:"host"`
	Load     [3]float64          `json:"load_average"`
	Runnable int                 `json:"runnable"`
	Others   float64             `json:"other_programs_cpus"`
	Busy     []probe.BusyProcess `json:"busy_processes"`
	Python   string              `json:"python3,omitempty"`
	FreeThr  string              `json:"free_threaded_python,omitempty"`
	Perf     string              `json:"perf,omitempty"`
	Warnings []string            `json:"warnings"`
}

// checkRun is one run of one experiment.
type checkRun struct {
	Status   string      `json:"status"`
	Seconds  float64     `json:"seconds"`
	Verdicts []string    `json:"verdicts"`
	Claims   []lab.Claim `json:"claims,omitempty"`              // each claim as judged: what was measured, and why
	Others   *float64    `json:"other_programs_cpus,omitempty"` // the run's own reading
	Error    string      `json:"error,omitempty"`
}

// checkExperiment is every run of one experiment.
type checkExperiment struct {
	ID       string     `json:"id"`
	Runs     []checkRun `json:"runs"`
	Flips    int        `json:"flips"`    // claims whose verdict was not the same in every finished run
	Failures int        `json:"failures"` // runs that did not finish ok
}

// checkReport is the whole of `conclab check --json`.
type checkReport struct {
	Machine     machineCheck      `json:"machine"`
	Repeat      int               `json:"repeat"`
	Quick       bool              `json:"quick"`
	Experiments []checkExperiment `json:"experiments"`
}

// check looks at the machine, then runs every experiment (or those of
// --only) --repeat times through the runner `conclab run` uses, and prints
// a table of their verdicts. It fails (exit 1) when any run did not finish.
func check(ctx context.Context, reg *lab.Registry, args []string, stdout, stderr io.Writer) error {
	ca, err := parseCheckArgs(args, reg)
	if err != nil {
		return err
	}
	progress := stdout
	if ca.asJSON {
		progress = stderr
	}
	mc, err := surveyMachine()
	if err != nil {
		return fmt.Errorf("looking at the machine: %w", err)
	}
	if !ca.asJSON {
		printMachine(stdout, mc)
	}
	if err := runner.BecomeSubreaper(); err != nil {
		slog.Debug("subreaper", "err", err)
	}
	rn := &runner.Runner{Registry: reg, Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	rep := checkReport{Machine: mc, Repeat: ca.repeat, Quick: ca.quick}
	for _, exp := range reg.All() {
		if len(ca.only) > 0 && !slices.Contains(ca.only, exp.ID) {
			continue
		}
		params, err := exp.Validate(nil, ca.quick)
		if err != nil {
			return fmt.Errorf("%s: its defaults do not validate: %w", exp.ID, err)
		}
		ce := checkExperiment{ID: exp.ID}
		for i := range ca.repeat {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(progress, "%s, run %d of %d … ", exp.ID, i+1, ca.repeat)
			r := checkOnce(ctx, rn, exp, params)
			fmt.Fprintf(progress, "%s in %s s %s\n", r.Status, format.Number(r.Seconds), verdictLetters(r.Verdicts))
			ce.Runs = append(ce.Runs, r)
		}
		ce.Flips, ce.Failures = flips(ce.Runs), failures(ce.Runs)
		rep.Experiments = append(rep.Experiments, ce)
	}
	if ca.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printTable(stdout, rep)
	}
	failed := 0
	for _, ce := range rep.Experiments {
		failed += ce.Failures
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d run%s did not finish", failed, format.Plural(failed))}
	}
	return nil
}

// checkOnce runs an experiment once and keeps what the table needs.
func checkOnce(ctx context.Context, rn *runner.Runner, exp *lab.Experiment, params lab.Params) checkRun {
	start := time.Now()
	out := rn.Run(ctx, exp, params, func(runlog.Event) {})
	r := checkRun{Status: out.Status, Seconds: time.Since(start).Seconds(), Error: out.Error}
	if len(out.Result) > 0 {
		if body, err := lab.DecodeResult(out.Result); err == nil {
			for _, c := range body.Claims {
				r.Verdicts = append(r.Verdicts, c.Verdict)
			}
			r.Claims = body.Claims
			if m, ok := lab.FindMetric(body.Metrics, lab.KeyLoad); ok && !strings.HasPrefix(m.Note, "not measured") {
				v := m.Value
				r.Others = &v
			}
		}
	}
	return r
}

// flips counts the claims whose verdict differed between finished runs.
func flips(runs []checkRun) int {
	var done [][]string
	for _, r := range runs {
		if r.Status == protocol.StatusOK {
			done = append(done, r.Verdicts)
		}
	}
	if len(done) < 2 {
		return 0
	}
	n := 0
	for c := range done[0] {
		for _, vs := range done[1:] {
			if c >= len(vs) || vs[c] != done[0][c] {
				n++
				break
			}
		}
	}
	return n
}

func failures(runs []checkRun) int {
	n := 0
	for _, r := range runs {
		if r.Status != protocol.StatusOK {
			n++
		}
	}
	return n
}

// verdictLetters writes a run's verdicts claim by claim: H holds,
// D differs, I inconclusive.
func verdictLetters(vs []string) string {
	var b strings.Builder
	for _, v := range vs {
		switch v {
		case lab.Holds:
			b.WriteByte('H')
		case lab.Differs:
			b.WriteByte('D')
		default:
			b.WriteByte('I')
		}
	}
	return b.String()
}

// surveyMachine looks at the machine for a second and says, in plain
// words, what would spoil the class's numbers.
func surveyMachine() (machineCheck, error) {
	s, err := probe.TakeSurvey(time.Second)
	if err != nil {
		return machineCheck{}, err
	}
	h := probe.ReadHost()
	mc := machineCheck{Host: h, Load: [3]float64{s.Load1, s.Load5, s.Load15}, Runnable: s.Runnable, Others: s.Others, Busy: s.Busy,
		Python: kit.Python3(), FreeThr: kit.FreeThreaded(), Perf: h.Perf}
	mc.Warnings = machineWarnings(s, mc)
	return mc, nil
}

// machineWarnings says in plain words what, in a survey of the machine
// and the tools check found, would spoil the class's numbers.
func machineWarnings(s probe.Survey, mc machineCheck) []string {
	h := mc.Host
	usable := h.EffectiveCPUs()
	warnings := []string{}
	warn := func(format string, a ...any) { warnings = append(warnings, fmt.Sprintf(format, a...)) }
	// The same rule a run uses to call the machine busy (lab.Load.Busy).
	busyNow := lab.Load{Known: true, Others: s.Others, CPUs: s.CPUs}.Busy()
	if busyNow {
		warn("Other programs used %.2f of this server's %d CPUs over the last second. Experiments measured now will mostly be inconclusive (a busy machine); stop them, or check again when it is quiet.", s.Others, s.CPUs)
	}
	switch {
	case s.Load1 <= 0.5*float64(usable):
	case !busyNow && s.Runnable <= usable:
		// The load average counts tasks waiting on a disk as well as
		// those that want a CPU, and inside some containers and virtual
		// machines it is the host's; what was measured says otherwise.
		warn("The load average over the last minute is %.2f on %d usable CPU%s, yet other programs used only %.2f CPUs over the last second and %d task%s could run at that moment (this check among them). "+
			"The load average also counts tasks waiting on a disk, and inside some containers and virtual machines it is the host's, not this machine's; if nothing else is running here, trust the measured figure.",
			s.Load1, usable, format.Plural(usable), s.Others, s.Runnable, format.Plural(s.Runnable))
	default:
		warn("The load average over the last minute is %.2f on %d usable CPU%s: something has been keeping them busy. Check again in a minute or two.", s.Load1, usable, format.Plural(usable))
	}
	var names []string
	for _, p := range s.Busy {
		if len(names) == 5 {
			break
		}
		names = append(names, fmt.Sprintf("%s (pid %d, %.0f%% of a CPU)", p.Name, p.PID, 100*p.CPUs))
	}
	if len(names) > 0 {
		warn("Busy right now: %s.", strings.Join(names, ", "))
	}
	if h.Quota > 0 {
		warn("A cgroup CPU quota gives this server %.2f CPUs' worth of time, though it may run on %d: runs that need every CPU get throttled.", h.Quota, h.Usable)
	}
	if usable < 2 {
		warn("Only %d CPU is usable here: the claims about parallelism will be inconclusive, because nothing can run at the same time.", usable)
	}
	if strings.Contains(h.Virtual, "VM") {
		warn("This looks like a virtual machine: wake-ups across CPUs go through the hypervisor and are slow, and its CPUs may be shared with other machines (steal time).")
	}
	if mc.Python == "" {
		warn("python3 is not installed: python-gil, asyncio-await and yield-batching's asyncio variant will say so and measure nothing.")
	} else if mc.FreeThr == "" {
		warn("No free-threaded Python (python3.14t, python3.13t) is installed: python-gil will measure the default build only, and say so.")
	}
	if mc.Perf == "" {
		warn("perf is not installed (Debian: linux-perf): switch-cost will have no reference figure from a standard tool.")
	}
	return warnings
}

func printMachine(w io.Writer, mc machineCheck) {
	h := mc.Host
	fmt.Fprintf(w, "This machine: %s · %d usable CPUs (of %d) · %s · Go %s · virtualization: %s\n", h.CPUModel, h.EffectiveCPUs(), h.Logical, h.Kernel, h.GoVersion, h.Virtual)
	fmt.Fprintf(w, "Load average %.2f %.2f %.2f; other programs used %.2f CPUs over the last second.\n", mc.Load[0], mc.Load[1], mc.Load[2], mc.Others)
	fmt.Fprintf(w, "python3: %s · free-threaded Python: %s · perf: %s\n", orNone(mc.Python), orNone(mc.FreeThr), orNone(mc.Perf))
	if len(mc.Warnings) == 0 {
		fmt.Fprintln(w, "Nothing to warn about: the machine looks quiet.")
	}
	for _, s := range mc.Warnings {
		fmt.Fprintln(w, "warning: "+s)
	}
	fmt.Fprintln(w)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// printTable prints one row per experiment: how long its runs took, each
// run's verdicts (H holds, D differs, I inconclusive, claim by claim),
// how many claims flipped between runs, and how many runs failed.
func printTable(w io.Writer, rep checkReport) {
	fmt.Fprintf(w, "\n%d run%s of each experiment%s. Verdicts claim by claim: H holds, D differs, I inconclusive.\n\n",
		rep.Repeat, format.Plural(rep.Repeat), map[bool]string{true: ", quick sizes", false: " at their defaults"}[rep.Quick])
	rows := [][]string{{"experiment", "duration", "verdicts per run", "flips", "failures"}}
	flipped, failed := 0, 0
	for _, ce := range rep.Experiments {
		var secs []float64
		var vs []string
		for _, r := range ce.Runs {
			secs = append(secs, r.Seconds)
			if r.Status == protocol.StatusOK {
				vs = append(vs, verdictLetters(r.Verdicts))
			} else {
				vs = append(vs, r.Status)
			}
		}
		s := lab.Summarize(secs)
		dur := format.Number(s.P50) + " s"
		if s.N > 1 {
			dur = format.Number(s.Min) + "–" + format.Number(s.Max) + " s"
		}
		rows = append(rows, []string{ce.ID, dur, strings.Join(vs, " "), strconv.Itoa(ce.Flips), strconv.Itoa(ce.Failures)})
		flipped += ce.Flips
		failed += ce.Failures
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintf(w, "\n%d claim%s flipped between runs; %d run%s failed.\n", flipped, format.Plural(flipped), failed, format.Plural(failed))
	for _, ce := range rep.Experiments {
		for i, r := range ce.Runs {
			if r.Status != protocol.StatusOK {
				fmt.Fprintf(w, "  %s, run %d: %s: %s\n", ce.ID, i+1, r.Status, r.Error)
			}
		}
	}
}

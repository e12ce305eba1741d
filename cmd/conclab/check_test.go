package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"conclab/internal/probe"
)

// check looks at the machine, runs the experiments it is given through the
// runner, and prints one row each with a verdict per claim for every run.
// Two quick, short experiments keep it fast.
func TestCheck(t *testing.T) {
	t.Parallel()
	code, out, stderr := conclab(t, "check", "--quick", "--repeat", "2", "--only", "isolation,crash-isolation")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	for _, want := range []string{"This machine:", "Load average", "python3:", "experiment", "verdicts per run", "flips", "failures",
		"isolation, run 2 of 2", "0 runs failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || (f[0] != "isolation" && f[0] != "crash-isolation") {
			continue
		}
		// experiment, duration and "s", two runs' verdicts, flips, failures
		if len(f) != 7 || len(f[3]) != 2 || len(f[4]) != 2 || strings.Trim(f[3]+f[4], "HDI") != "" || f[6] != "0" {
			t.Errorf("row %q: want two runs of two verdicts (H, D or I) and no failures", line)
		}
	}
}

// --json prints the machine and every run as one JSON object, and the
// progress goes to stderr.
func TestCheckJSON(t *testing.T) {
	t.Parallel()
	code, out, stderr := conclab(t, "check", "--quick", "--json", "--only", "isolation")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("check --json is not one JSON object: %v\n%s", err, out)
	}
	if rep.Repeat != 1 || len(rep.Experiments) != 1 || rep.Experiments[0].ID != "isolation" {
		t.Fatalf("report %+v, want one run of isolation", rep)
	}
	r := rep.Experiments[0].Runs
	if len(r) != 1 || r[0].Status != "ok" || len(r[0].Verdicts) != 2 || r[0].Seconds <= 0 {
		t.Errorf("runs %+v, want one finished run with two verdicts", r)
	}
	if rep.Machine.Host.Usable < 1 || rep.Machine.Warnings == nil {
		t.Errorf("machine %+v: want the host and a (possibly empty) list of warnings", rep.Machine)
	}
	if !strings.Contains(stderr, "isolation, run 1 of 1") {
		t.Errorf("progress %q went elsewhere than stderr", stderr)
	}
}

func TestCheckBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"check", "--repeat", "0"}, "--repeat must be 1–20"},
		{[]string{"check", "--repeat", "x"}, "--repeat must be 1–20"},
		{[]string{"check", "--only", "no-such"}, `--only names "no-such"`},
		{[]string{"check", "--fast"}, `unknown flag "--fast" for check`},
		{[]string{"check", "extra"}, `unexpected argument "extra"`},
		{[]string{"check", "--repeat"}, "--repeat needs a value"},
	}
	for _, tt := range tests {
		code, _, stderr := conclab(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("conclab %s: exit %d, stderr %q; want 2 and %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
	}
}

func TestFlips(t *testing.T) {
	t.Parallel()
	runs := []checkRun{
		{Status: "ok", Verdicts: []string{"holds", "differs", "holds"}},
		{Status: "ok", Verdicts: []string{"holds", "inconclusive", "holds"}},
		{Status: "failed"},
		{Status: "ok", Verdicts: []string{"holds", "differs", "differs"}},
	}
	if got := flips(runs); got != 2 {
		t.Errorf("flips = %d, want 2", got)
	}
	if got := failures(runs); got != 1 {
		t.Errorf("failures = %d, want 1", got)
	}
	if got := verdictLetters(runs[1].Verdicts); got != "HIH" {
		t.Errorf("letters = %q, want HIH", got)
	}
}

// The load average alone does not make a machine busy: when what was
// measured over the last second says it is quiet, the warning says the
// two disagree and which to trust; when both say busy, it says busy.
func TestLoadAverageWarnings(t *testing.T) {
	t.Parallel()
	quiet := machineCheck{Host: probe.Host{Logical: 2, Usable: 2}, Python: "python3", FreeThr: "python3.14t", Perf: "perf"}
	for _, c := range []struct {
		name string
		s    probe.Survey
		want string // a phrase one warning must have; "" for no warning
	}{
		{"idle", probe.Survey{Load1: 0.2, Runnable: 1, CPUs: 2}, ""},
		{"a high load average, an idle machine", probe.Survey{Load1: 91.8, Runnable: 1, CPUs: 2}, "trust the measured figure"},
		{"a high load average, many runnable", probe.Survey{Load1: 3, Runnable: 6, CPUs: 2}, "something has been keeping them busy"},
		{"a high load average, busy", probe.Survey{Load1: 3, Runnable: 2, Others: 1.5, CPUs: 2}, "something has been keeping them busy"},
	} {
		got := machineWarnings(c.s, quiet)
		if c.want == "" {
			if len(got) != 0 {
				t.Errorf("%s: warned %q, want nothing", c.name, got)
			}
			continue
		}
		if !slices.ContainsFunc(got, func(w string) bool { return strings.Contains(w, c.want) }) {
			t.Errorf("%s: warned %q, want one saying %q", c.name, got, c.want)
		}
		if c.want == "trust the measured figure" && slices.ContainsFunc(got, func(w string) bool { return strings.Contains(w, "keeping them busy") }) {
			t.Errorf("%s: called the machine busy: %q", c.name, got)
		}
	}
}

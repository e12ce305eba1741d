package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"conclab/internal/app"
	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/learner"
	"conclab/internal/runlog"
	"conclab/internal/store"
	"conclab/lessons"
)

// The commands on stored runs: history, show, export, import; and the
// data directory every command that keeps runs shares.

// defaultData is where runs are kept unless --data says otherwise: the
// user's data directory.
func defaultData() string {
	if x := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "conclab")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".local", "share", "conclab")
}

const dataHelp = `directory of the run store (default $XDG_DATA_HOME/conclab, else ~/.local/share/conclab); "" keeps runs in memory only`

func dataFlag(fs *flag.FlagSet) *string { return fs.String("data", defaultData(), dataHelp) }

// openCLIStore opens the store for a command other than serve.
func openCLIStore(dir string, stderr io.Writer) (*store.Store, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return store.Open(store.Options{Dir: dir, Source: store.SourceCLI, Log: log, LessonOf: app.LessonOf(lessons.Course())})
}

// idArg parses `<command> ID [flags]`.
func idArg(cmd string, args []string, stderr io.Writer) (id, data string, err error) {
	fs := newFlags(cmd, stderr)
	d := dataFlag(fs)
	var rest []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", "", &exitError{code: 0}
			}
			return "", "", &exitError{code: 2}
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 && cmd == "import" {
		return "", "", usageError("import takes one file, as conclab export writes it")
	}
	if len(rest) != 1 {
		return "", "", usageError("%s takes one run id, as `conclab history` lists them", cmd)
	}
	return rest[0], *d, nil
}

func history(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("history", stderr)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	exp := fs.String("experiment", "", "only this experiment's runs")
	lesson := fs.String("lesson", "", "only this lesson's runs")
	limit := fs.Int("limit", 50, "at most this many runs, newest first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 100_000 {
		return usageError("--limit must be 1–100000, got %d", *limit)
	}
	st, err := openCLIStore(*data, stderr)
	if err != nil {
		return fmt.Errorf("cannot read the runs in %s: %v", *data, err)
	}
	defer st.Close()
	l, err := st.List(store.Query{Experiment: *exp, Lesson: *lesson, Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]historyEntry, 0, len(l.Others))
		for _, r := range l.Others {
			out = append(out, entryOf(r))
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if *data == "" {
		fmt.Fprintln(stderr, `conclab: --data "" keeps nothing between runs of conclab, so there is no history here`)
	}
	if len(l.Others) == 0 {
		fmt.Fprintf(stdout, "No runs kept in %s yet.\n", where(st))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWHEN (UTC)\tSTATUS\tEXPERIMENT\tHEADLINE\tVERDICTS\tWHO")
	for _, r := range l.Others {
		e := entryOf(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Created.UTC().Format("2006-01-02 15:04:05"), r.Status, r.Experiment, orDash(e.Headline), verdicts(r), orDash(e.Who))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d of %d runs kept in %s. `conclab show ID` prints one.\n", len(l.Others), l.OthersTotal, where(st))
	fmt.Fprintln(stdout, "Runs started with `conclab run` have no learner: they show as “terminal”.")
	return nil
}

func where(st *store.Store) string {
	if st.Where() == "" {
		return "memory"
	}
	return st.Where()
}

// historyEntry is one run of `conclab history --json`.
type historyEntry struct {
	ID         string         `json:"id"`
	Experiment string         `json:"experiment"`
	Lesson     string         `json:"lesson"`
	Status     string         `json:"status"`
	Error      string         `json:"error,omitempty"`
	Params     map[string]any `json:"params"`
	Created    string         `json:"created"`
	Ended      string         `json:"ended,omitempty"`
	Source     string         `json:"source"`
	Who        string         `json:"who"` // a learner's short name, "terminal" for conclab run, "" for nobody known
	Headline   string         `json:"headline,omitempty"`
	Holds      int            `json:"holds"`
	Differs    int            `json:"differs"`
	Inconc     int            `json:"inconclusive"`
	CPU        string         `json:"cpu,omitempty"`
}

func entryOf(r store.Run) historyEntry {
	e := historyEntry{ID: r.ID, Experiment: r.Experiment, Lesson: r.Lesson, Status: r.Status, Error: r.Error, Params: r.Params,
		Created: r.Created.UTC().Format("2006-01-02T15:04:05.000Z"), Source: r.Source, Holds: r.Holds, Differs: r.Differs, Inconc: r.Inconclusive}
	if !r.Ended.IsZero() {
		e.Ended = r.Ended.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	switch {
	case r.Source == store.SourceCLI:
		e.Who = "terminal"
	case r.Instructor:
		e.Who = "instructor"
	case r.Learner != "":
		e.Who = learner.ID(r.Learner).Name()
	}
	if r.Headline != nil {
		e.Headline = format.Figure(r.Headline.Value, r.Headline.Unit) + " " + r.Headline.Name
	}
	if r.Host != nil {
		e.CPU = r.Host.CPUModel
	}
	return e
}

func verdicts(r store.Run) string {
	var parts []string
	for _, v := range []struct {
		n    int
		word string
	}{{r.Holds, "holds"}, {r.Differs, "differs"}, {r.Inconclusive, "inconclusive"}} {
		if v.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", v.n, v.word))
		}
	}
	return orDash(strings.Join(parts, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// show prints a stored run as `conclab run` printed it, from its events.
func show(reg *lab.Registry, args []string, stdout, stderr io.Writer) error {
	id, data, err := idArg("show", args, stderr)
	if err != nil {
		return err
	}
	st, err := openCLIStore(data, stderr)
	if err != nil {
		return fmt.Errorf("cannot read the runs in %s: %v", data, err)
	}
	defer st.Close()
	r, err := st.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return usageError("there is no run %q in %s; `conclab history` lists the runs kept", id, where(st))
	}
	if err != nil {
		return err
	}
	e := entryOf(r)
	fmt.Fprintf(stdout, "run %s · %s · measured %s UTC · by %s · %s\n", r.ID, r.Status, r.Created.UTC().Format("2006-01-02 15:04:05"), orDash(e.Who), r.Source)
	if r.Error != "" {
		fmt.Fprintf(stdout, "error: %s\n", r.Error)
	}
	fmt.Fprintln(stdout)
	exp, ok := reg.Lookup(r.Experiment)
	if !ok {
		exp = &lab.Experiment{ID: r.Experiment, Title: "(an experiment this conclab does not have)"}
	}
	evs, err := st.Events(id)
	if err != nil {
		return err
	}
	rep := &reporter{w: stdout, exp: exp}
	for _, ev := range evs {
		rep.event(runlog.Event{Type: ev.Type, JSON: ev.JSON})
	}
	if r.Dropped+r.Lost > 0 {
		fmt.Fprintf(stdout, "\n(%d events past the limit per run and %d the disk could not keep up with were not stored)\n", r.Dropped, r.Lost)
	}
	return nil
}

func export(args []string, stdout, stderr io.Writer) error {
	id, data, err := idArg("export", args, stderr)
	if err != nil {
		return err
	}
	st, err := openCLIStore(data, stderr)
	if err != nil {
		return fmt.Errorf("cannot read the runs in %s: %v", data, err)
	}
	defer st.Close()
	if err := st.Export(id, stdout); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return usageError("there is no run %q in %s; `conclab history` lists the runs kept", id, where(st))
		}
		return err
	}
	return nil
}

func importRun(args []string, stdout, stderr io.Writer) error {
	file, data, err := idArg("import", args, stderr)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return usageError("cannot read %s: %v", file, err)
	}
	defer f.Close()
	st, err := openCLIStore(data, stderr)
	if err != nil {
		return fmt.Errorf("cannot open the run store in %s: %v", data, err)
	}
	defer st.Close()
	imp, err := st.Import(f, "")
	var ie *store.ImportError
	if errors.As(err, &ie) {
		return usageError("%s: %v", file, ie)
	}
	if err != nil {
		return err
	}
	if imp.Already {
		fmt.Fprintf(stdout, "Run %s is already kept in %s; nothing new was imported.\n", imp.ID, where(st))
		return nil
	}
	fmt.Fprintf(stdout, "Imported run %s into %s: `conclab show %s` prints it; on a server it is at /runs/%s.\n", imp.ID, where(st), imp.ID, imp.ID)
	return nil
}

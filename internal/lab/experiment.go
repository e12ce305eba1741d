package lab

import (
	"conclab/internal/protocol"
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Experiment is one fixed program that measures something on this host and
// holds a lesson's claims against what it measured.
type Experiment struct {
	ID      string  // stable id, part of the contract (e.g. "switch-cost")
	Lesson  string  // slug of the lesson it belongs to
	Title   string  // short title for the panel and `conclab list`
	Summary string  // one or two sentences: what it does and how
	Params  []Param // bounded parameters, in form order
	Claims  []Claim // the claims it tests, with Claim and Expected filled in
	// Predictions are what a learner may guess before a run, at least for
	// the headline claim: declared here, beside the claims.
	Predictions []Prediction
	Charts      []Chart // live charts the panel draws from its events
	Tables      []Table // live tables the panel fills from row events

	// Conditional lists metric keys a run emits only when the host can
	// measure them (perf installed, python3 found); a page that shows one
	// says "not measured here" without it. Every other key a page or the
	// recap names must be in every run's result.
	Conditional []string

	// Limit is the run's time limit, enforced by the runner (default 60 s).
	Limit time.Duration

	// Child returns how to start the child process for these parameters:
	// GOMAXPROCS, GODEBUG and CPU affinity. Nil means the host's defaults.
	Child func(Params) ChildSpec

	// Run measures. It runs inside the child process, emits events as it
	// goes, and ends by calling Emitter.Result. It must honour ctx.
	Run func(ctx context.Context, p Params, out *Emitter) error

	// Workers are extra entry points of the child binary for experiments
	// that need processes of their own: Worker(ctx, id, name, args...)
	// starts one. Each gets its arguments and returns an exit code.
	Workers map[string]func(args []string) int
}

// ChildSpec is the environment of a run's child process.
type ChildSpec struct {
	GOMAXPROCS int    // 0: the runtime's default
	GODEBUG    string // appended to the inherited GODEBUG
	CPUs       []int  // pin every thread to these CPUs; nil: no pin
}

// Chart declares a live chart. Kinds:
//   - "line": points {series, x, y}, appended as they arrive
//   - "bars": bars {label, series, value, lo, hi}, replaced by label+series
//   - "hist": histograms {series, bins: [[lo, hi, count]...]}, replaced by series
//   - "lanes": spans {lane, start, end, label} on a time axis, appended
//   - "sched": a scheduler's lanes: spans {lane, start, end, label, g, m,
//     why} (a goroutine g running on P lane, on thread m, coloured by its
//     role label) and marks {lane, x, label, text} (what the runtime did,
//     in plain words), stepped through with the keyboard
//
// A "mark" event {chart, x, label} draws a labelled line across a line
// chart, such as the number of cores.
type Chart struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Kind  string `json:"kind"`
	X     string `json:"x,omitempty"` // x axis label, with unit
	Y     string `json:"y,omitempty"` // y axis label, with unit
	LogX  bool   `json:"logx,omitempty"`
	LogY  bool   `json:"logy,omitempty"`
	Note  string `json:"note,omitempty"` // caption: what was measured and how
}

// Table declares a live table filled by row events keyed by "key".
type Table struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Columns []Column `json:"columns"`
}

// Column is one column of a Table; Key names the cell in row events.
type Column struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// ChildSpecFor is the child's environment for these parameters (none
// when the experiment sets no Child).
func (e *Experiment) ChildSpecFor(p Params) ChildSpec {
	if e.Child == nil {
		return ChildSpec{}
	}
	return e.Child(p)
}

// DefaultLimit is the time limit of an experiment that sets none.
const DefaultLimit = 60 * time.Second

// TimeLimit is the experiment's time limit.
func (e *Experiment) TimeLimit() time.Duration {
	if e.Limit > 0 {
		return e.Limit
	}
	return DefaultLimit
}

// Registry holds every experiment, in registration order.
type Registry struct {
	list []*Experiment
	byID map[string]*Experiment
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byID: map[string]*Experiment{}} }

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,40}$`)

// Register adds experiments. A malformed experiment is a programming error
// and panics at start-up rather than surprising a learner later.
func (r *Registry) Register(exps ...*Experiment) {
	for _, e := range exps {
		if err := e.check(); err != nil {
			panic("lab: " + err.Error())
		}
		if r.byID[e.ID] != nil {
			panic("lab: experiment " + e.ID + " registered twice")
		}
		r.byID[e.ID] = e
		r.list = append(r.list, e)
	}
}

// Lookup finds an experiment by id.
func (r *Registry) Lookup(id string) (*Experiment, bool) {
	e, ok := r.byID[id]
	return e, ok
}

// All returns every experiment in registration order.
func (r *Registry) All() []*Experiment { return slices.Clone(r.list) }

func (e *Experiment) check() error {
	if !idPattern.MatchString(e.ID) {
		return fmt.Errorf("experiment id %q is not lower-case words joined by '-'", e.ID)
	}
	if e.Lesson == "" || e.Title == "" || e.Run == nil {
		return fmt.Errorf("%s needs a lesson, a title and a Run func", e.ID)
	}
	seen := map[string]bool{}
	for _, p := range e.Params {
		if seen[p.Name] {
			return fmt.Errorf("%s: parameter %s declared twice", e.ID, p.Name)
		}
		seen[p.Name] = true
		if p.Kind == KindInt || p.Kind == KindFloat {
			if p.Min > p.Max {
				return fmt.Errorf("%s: parameter %s has min > max", e.ID, p.Name)
			}
		}
		if _, err := p.convert(p.Default); err != nil {
			return fmt.Errorf("%s: default of parameter %s: %v", e.ID, p.Name, err)
		}
		if p.Quick != nil {
			if _, err := p.convert(p.Quick); err != nil {
				return fmt.Errorf("%s: quick value of parameter %s: %v", e.ID, p.Name, err)
			}
		}
	}
	for _, c := range e.Charts {
		if !slices.Contains(protocol.ChartKinds, c.Kind) {
			return fmt.Errorf("%s: chart %s has unknown kind %q", e.ID, c.ID, c.Kind)
		}
	}
	for _, c := range e.Claims {
		if c.Claim == "" || c.Expected == "" {
			return fmt.Errorf("%s: every declared claim needs its statement and expected value", e.ID)
		}
	}
	for _, p := range e.Predictions {
		if err := p.check(len(e.Claims)); err != nil {
			return fmt.Errorf("%s: %v", e.ID, err)
		}
	}
	return nil
}

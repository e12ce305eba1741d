// Package labtest runs experiments the way `conclab run --quick` does, in a
// child process of the test binary, and checks the event contract every
// run must keep. The test binary's TestMain must call runner.ChildMain when
// runner.IsChild(os.Args).
package labtest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
	"conclab/internal/runner"
)

// Run is a finished run's events, decoded.
type Run struct {
	Exp     *lab.Experiment
	Outcome runlog.Outcome
	Events  []map[string]any
	Elapsed time.Duration
	Metrics []lab.Metric
	Claims  []lab.Claim
}

// RunQuick runs an experiment with its quick parameters, overridden by set
// (values as strings, as with --set), and fails the test if it does not
// finish ok.
func RunQuick(t testing.TB, reg *lab.Registry, id string, set map[string]string) *Run {
	t.Helper()
	exp, ok := reg.Lookup(id)
	if !ok {
		t.Fatalf("no experiment %q", id)
	}
	raw := map[string]any{}
	for k, v := range set {
		raw[k] = v
	}
	params, err := exp.Validate(raw, true)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	rn := &runner.Runner{Registry: reg, Log: slog.New(slog.NewTextHandler(logWriter{t}, nil))}
	r := &Run{Exp: exp}
	ctx, cancel := context.WithTimeout(context.Background(), exp.TimeLimit()+10*time.Second)
	defer cancel()
	start := time.Now()
	r.Outcome = rn.Run(ctx, exp, params, func(ev runlog.Event) {
		var m map[string]any
		if err := json.Unmarshal(ev.JSON, &m); err != nil {
			t.Errorf("event is not a JSON object: %s", ev.JSON)
			return
		}
		r.Events = append(r.Events, m)
	})
	r.Elapsed = time.Since(start)
	if r.Outcome.Status != protocol.StatusOK {
		t.Fatalf("%s ended %s: %s", id, r.Outcome.Status, r.Outcome.Error)
	}
	if res := r.Last(protocol.EventResult); res != nil {
		b, _ := json.Marshal(res)
		var body struct {
			Metrics []lab.Metric `json:"metrics"`
			Claims  []lab.Claim  `json:"claims"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("result does not decode: %v", err)
		}
		r.Metrics, r.Claims = body.Metrics, body.Claims
	}
	return r
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// Of returns the events of one type, in order.
func (r *Run) Of(typ string) []map[string]any {
	var out []map[string]any
	for _, e := range r.Events {
		if e["type"] == typ {
			out = append(out, e)
		}
	}
	return out
}

// Last returns the last event of a type, or nil.
func (r *Run) Last(typ string) map[string]any {
	evs := r.Of(typ)
	if len(evs) == 0 {
		return nil
	}
	return evs[len(evs)-1]
}

// Rows returns the latest cells of every row of a live table, by key.
func (r *Run) Rows(table string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, e := range r.Of("row") {
		if e["table"] == table {
			cells, _ := e["cells"].(map[string]any)
			out[fmt.Sprint(e["key"])] = cells
		}
	}
	return out
}

// CheckContract checks what every run must do, whatever the experiment:
// start with "started", end with exactly one result followed by exactly one
// done with status ok; give every declared claim a verdict, with a reason
// when it does not hold; and report finite, named metrics, each with a
// well-formed key of its own.
func CheckContract(t testing.TB, r *Run) {
	t.Helper()
	evs := r.Events
	if len(evs) < 3 {
		t.Fatalf("only %d events", len(evs))
	}
	if evs[0]["type"] != protocol.EventStarted {
		t.Errorf("first event is %v, want started", evs[0]["type"])
	}
	if evs[len(evs)-1]["type"] != protocol.EventDone || evs[len(evs)-1]["status"] != protocol.StatusOK {
		t.Errorf("last event is %v, want done with status ok", evs[len(evs)-1])
	}
	if evs[len(evs)-2]["type"] != protocol.EventResult {
		t.Errorf("second-to-last event is %v, want result", evs[len(evs)-2]["type"])
	}
	if n := len(r.Of(protocol.EventResult)); n != 1 {
		t.Errorf("%d result events, want 1", n)
	}
	if n := len(r.Of(protocol.EventDone)); n != 1 {
		t.Errorf("%d done events, want 1", n)
	}
	for i, e := range evs {
		if _, ok := e["t"].(float64); !ok && e["type"] != protocol.EventDone {
			t.Errorf("event %d (%v) has no time t", i, e["type"])
		}
	}
	if len(r.Metrics) == 0 {
		t.Error("the result has no metrics")
	}
	for _, m := range r.Metrics {
		if m.Name == "" || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			t.Errorf("bad metric %+v", m)
		}
	}
	CheckKeys(t, r)
	verdicts := []string{lab.Holds, lab.Differs, lab.Inconclusive}
	for _, want := range r.Exp.Claims {
		i := slices.IndexFunc(r.Claims, func(c lab.Claim) bool { return c.Claim == want.Claim })
		if i < 0 {
			t.Errorf("claim %q got no verdict", want.Claim)
			continue
		}
		c := r.Claims[i]
		if !slices.Contains(verdicts, c.Verdict) {
			t.Errorf("claim %q: verdict %q is not holds, differs or inconclusive", c.Claim, c.Verdict)
		}
		if c.Measured == "" {
			t.Errorf("claim %q: nothing measured", c.Claim)
		}
		if c.Verdict != lab.Holds && c.Why == "" {
			t.Errorf("claim %q is %s without a why", c.Claim, c.Verdict)
		}
	}
	known := map[string]bool{}
	for _, c := range r.Exp.Charts {
		known[c.ID] = true
	}
	for _, e := range evs {
		if chart, ok := e["chart"].(string); ok && !known[chart] {
			t.Errorf("event %v draws on chart %q, which the experiment does not declare", e["type"], chart)
		}
	}
}

// CheckKeys checks that every metric of the result has a well-formed key
// (lab.ValidKey) and that no two share one.
func CheckKeys(t testing.TB, r *Run) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range r.Metrics {
		switch {
		case !lab.ValidKey(m.Key):
			t.Errorf("metric %q has a malformed key %q", m.Name, m.Key)
		case seen[m.Key]:
			t.Errorf("two metrics have the key %q", m.Key)
		}
		seen[m.Key] = true
	}
}

// Key returns the result metric with this key, failing the test when
// there is none.
func (r *Run) Key(t testing.TB, key string) lab.Metric {
	t.Helper()
	if m, ok := lab.FindMetric(r.Metrics, key); ok {
		return m
	}
	var keys []string
	for _, m := range r.Metrics {
		keys = append(keys, m.Key)
	}
	t.Fatalf("no metric with key %q; keys: %q", key, keys)
	return lab.Metric{}
}

package web

import (
	"fmt"
	"net/http"
	"strconv"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/store"
	"conclab/web/ui"
)

// comparePage puts two runs of one experiment side by side: parameters,
// the machines (differences marked), each metric matched by key with both
// values and their ratio, both verdicts, and the charts overlaid where
// their kind allows.
func (s *Server) comparePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := identityOf(r).Learner
		q := r.URL.Query()
		if q.Get("a") == "" || q.Get("b") == "" {
			s.render(w, r, http.StatusBadRequest, ui.RunProblem(s.Host, "Two runs are needed",
				"A comparison needs two runs of the same experiment: /compare?a=ID&b=ID. Every run's page has a “Compare with…” form."))
			return
		}
		a, ok := s.lookup(w, r, q.Get("a"), true)
		if !ok {
			return
		}
		b, ok := s.lookup(w, r, q.Get("b"), true)
		if !ok {
			return
		}
		if a.Experiment != b.Experiment {
			s.render(w, r, http.StatusBadRequest, ui.RunProblem(s.Host, "These runs cannot be compared",
				fmt.Sprintf("Run %s is of %s and run %s of %s: only two runs of the same experiment measure the same things. The page of run %s offers the runs of %s to compare it with.",
					a.ID, a.Experiment, b.ID, b.Experiment, a.ID, a.Experiment)))
			return
		}
		p := ui.ComparePage{Host: s.Host, A: s.row(a, me, false), B: s.row(b, me, false)}
		p.Title = p.A.Title
		exp, _ := s.Course.Registry().Lookup(a.Experiment)
		p.Params = paramDiffs(exp, a.Params, b.Params)
		p.Facts = hostDiffs(a.Host, b.Host)
		ra, rb := a.Body(), b.Body()
		p.Metrics = metricPairs(ra.Metrics, rb.Metrics)
		p.Claims = claimPairs(ra.Claims, rb.Claims)
		if exp != nil {
			ea, err := s.Store.Events(a.ID, drawn...)
			if err == nil {
				var eb []store.Event
				if eb, err = s.Store.Events(b.ID, drawn...); err == nil {
					p.Charts = overlays(exp.Charts, runEvents{id: a.ID, label: "A", evs: decode(ea)}, runEvents{id: b.ID, label: "B", evs: decode(eb)})
				}
			}
			if err != nil {
				s.Log.Error("reading runs' events", "a", a.ID, "b", b.ID, "err", err)
			}
		}
		s.render(w, r, http.StatusOK, ui.CompareView(p))
	})
}

// overlays draws each chart of both runs in one figure; lanes (and a
// scheduler's lanes), which put time on the axis and would hide one run
// under the other, get a figure for each.
func overlays(charts []lab.Chart, a, b runEvents) []ui.ChartView {
	var out []ui.ChartView
	for _, c := range charts {
		if c.Kind == "lanes" || c.Kind == "sched" {
			for _, run := range []runEvents{a, b} {
				one := c
				one.Title = c.Title + " — " + run.label
				single := run
				single.label = ""
				out = append(out, chartView(one, []runEvents{single}))
			}
			continue
		}
		out = append(out, chartView(c, []runEvents{a, b}))
	}
	return out
}

func paramDiffs(exp *lab.Experiment, a, b map[string]any) []ui.Diff {
	pa, pb := paramsOf(exp, a), paramsOf(exp, b)
	vb := map[string]string{}
	for _, kv := range pb {
		vb[kv.Name] = kv.Value
	}
	var out []ui.Diff
	seen := map[string]bool{}
	for _, kv := range pa {
		out = append(out, ui.Diff{Name: kv.Name, A: kv.Value, B: vb[kv.Name], Differs: kv.Value != vb[kv.Name]})
		seen[kv.Name] = true
	}
	for _, kv := range pb {
		if !seen[kv.Name] {
			out = append(out, ui.Diff{Name: kv.Name, B: kv.Value, Differs: true})
		}
	}
	return out
}

// hostDiffs are the facts a learner needs to read two runs' figures
// against each other.
func hostDiffs(a, b *probe.Host) []ui.Diff {
	facts := []struct {
		name string
		of   func(h probe.Host) string
	}{
		{"Measuring host", func(h probe.Host) string { return h.Name }},
		{"CPU", func(h probe.Host) string { return h.CPUModel }},
		{"Logical CPUs", func(h probe.Host) string { return strconv.Itoa(h.Logical) }},
		{"CPUs it could use", func(h probe.Host) string { return strconv.Itoa(h.EffectiveCPUs()) }},
		{"GOMAXPROCS default", func(h probe.Host) string { return strconv.Itoa(h.GOMAXPROCS) }},
		{"Kernel", func(h probe.Host) string { return h.Kernel }},
		{"Virtual machine or container", func(h probe.Host) string { return h.Virtual }},
		{"Go", func(h probe.Host) string { return h.GoVersion }},
		{"Architecture", func(h probe.Host) string { return h.Arch }},
	}
	var out []ui.Diff
	for _, f := range facts {
		d := ui.Diff{Name: f.name}
		if a != nil {
			d.A = f.of(*a)
		}
		if b != nil {
			d.B = f.of(*b)
		}
		d.Differs = d.A != d.B
		out = append(out, d)
	}
	return out
}

// metricPairs matches the metrics of two results by key: A's in its
// order, then those only B has.
func metricPairs(a, b []lab.Metric) []ui.MetricPair {
	var out []ui.MetricPair
	for _, m := range a {
		p := ui.MetricPair{Key: m.Key, Name: m.Name, A: format.Figure(m.Value, m.Unit)}
		if o, ok := lab.FindMetric(b, m.Key); ok {
			p.B = format.Figure(o.Value, o.Unit)
			if m.Value != 0 && m.Unit == o.Unit {
				p.Ratio = "×" + format.Number(o.Value/m.Value)
			}
		}
		out = append(out, p)
	}
	for _, m := range b {
		if _, ok := lab.FindMetric(a, m.Key); !ok {
			out = append(out, ui.MetricPair{Key: m.Key, Name: m.Name, B: format.Figure(m.Value, m.Unit)})
		}
	}
	return out
}

// claimPairs matches two results' claims by their statement.
func claimPairs(a, b []lab.Claim) []ui.ClaimPair {
	find := func(cs []lab.Claim, text string) *lab.Claim {
		for i := range cs {
			if cs[i].Claim == text {
				return &cs[i]
			}
		}
		return nil
	}
	var out []ui.ClaimPair
	for i := range a {
		out = append(out, ui.ClaimPair{Claim: a[i].Claim, Expected: a[i].Expected, A: &a[i], B: find(b, a[i].Claim)})
	}
	for i := range b {
		if find(a, b[i].Claim) == nil {
			out = append(out, ui.ClaimPair{Claim: b[i].Claim, Expected: b[i].Expected, B: &b[i]})
		}
	}
	return out
}

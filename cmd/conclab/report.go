package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// reporter prints a run's events for a person at a terminal.
type reporter struct {
	w     io.Writer
	exp   *lab.Experiment
	phase string
}

func (r *reporter) event(ev runlog.Event) {
	var e struct {
		T       float64         `json:"t"`
		Phase   string          `json:"phase"`
		Done    int             `json:"done"`
		Total   int             `json:"total"`
		Message string          `json:"message"`
		Host    probe.Host      `json:"host"`
		Params  map[string]any  `json:"params"`
		Metrics []lab.Metric    `json:"metrics"`
		Claims  []lab.Claim     `json:"claims"`
		Status  string          `json:"status"`
		Error   string          `json:"error"`
		Cells   json.RawMessage `json:"cells"`
	}
	if json.Unmarshal(ev.JSON, &e) != nil {
		return
	}
	w := r.w
	switch ev.Type {
	case protocol.EventStarted:
		fmt.Fprintf(w, "%s — %s\n", r.exp.ID, r.exp.Title)
		h := e.Host
		fmt.Fprintf(w, "host: %s · %d usable CPUs · %s · Go %s · virtualization: %s\n", h.CPUModel, h.EffectiveCPUs(), h.Kernel, h.GoVersion, h.Virtual)
		if len(e.Params) > 0 {
			var ps []string
			for _, p := range r.exp.Params {
				ps = append(ps, fmt.Sprintf("%s=%v", p.Name, e.Params[p.Name]))
			}
			fmt.Fprintf(w, "parameters: %s\n", strings.Join(ps, " "))
		}
		fmt.Fprintln(w)
	case "progress":
		if e.Phase != r.phase {
			r.phase = e.Phase
			fmt.Fprintf(w, "[%6.2f s] %s\n", e.T/1000, e.Phase)
		}
	case "log":
		fmt.Fprintf(w, "[%6.2f s] note: %s\n", e.T/1000, e.Message)
	case protocol.EventResult:
		fmt.Fprintln(w, "\nMeasured:")
		width := 0
		for _, m := range e.Metrics {
			width = max(width, len([]rune(m.Name)))
		}
		for _, m := range e.Metrics {
			pad := strings.Repeat(" ", width-len([]rune(m.Name)))
			line := fmt.Sprintf("  %s%s  %s %s", m.Name, pad, format.Figure(m.Value, ""), m.Unit)
			if m.Min != nil && m.P99 != nil && m.Max != nil {
				line += fmt.Sprintf("   (min %s · p99 %s · max %s, n=%d)", format.Figure(*m.Min, ""), format.Figure(*m.P99, ""), format.Figure(*m.Max, ""), m.N)
			}
			fmt.Fprintln(w, line)
		}
		fmt.Fprintln(w, "\nClaims:")
		for _, c := range e.Claims {
			fmt.Fprintf(w, "  [%s] %s\n      expected: %s\n      measured: %s\n", strings.ToUpper(c.Verdict), c.Claim, c.Expected, c.Measured)
			if c.Why != "" {
				fmt.Fprintf(w, "      why: %s\n", c.Why)
			}
		}
	case protocol.EventDone:
		fmt.Fprintf(w, "\n%s after %.2f s\n", e.Status, e.T/1000)
	}
}

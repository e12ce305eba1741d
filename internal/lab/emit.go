package lab

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
	"sync"
	"time"

	"conclab/internal/format"
	"conclab/internal/protocol"
)

// Verdicts a claim can get.
const (
	Holds        = protocol.Holds
	Differs      = protocol.Differs
	Inconclusive = protocol.Inconclusive
)

// Claim is one of a lesson's claims held against this machine. Declared on
// an Experiment, only Claim and Expected are set; in a result every field
// is, and Why explains any verdict other than holds in one or two
// sentences.
type Claim struct {
	Claim    string `json:"claim"`
	Expected string `json:"expected"`
	Measured string `json:"measured,omitempty"`
	Verdict  string `json:"verdict,omitempty"`
	Why      string `json:"why,omitempty"`
}

// Judge returns a copy of the declared claim with what was measured and the
// verdict filled in.
func (c Claim) Judge(measured, verdict, why string) Claim {
	c.Measured, c.Verdict, c.Why = measured, verdict, why
	return c
}

// Metric is one measured figure of a result, with its spread when it is a
// distribution. Key is stable and for machines: pages, the recap and the
// command line find a figure by its key, never by the words of its Name,
// which are for people and may change. See ValidKey.
type Metric struct {
	Key   string   `json:"key"`
	Name  string   `json:"name"`
	Value float64  `json:"value"`
	Unit  string   `json:"unit"`
	P50   *float64 `json:"p50,omitempty"`
	P99   *float64 `json:"p99,omitempty"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	N     int      `json:"n,omitempty"`
	Note  string   `json:"note,omitempty"` // how it was measured
}

// Emitter writes a run's events, one JSON object per line. Experiments get
// one from the child entry point; its methods are safe to call from several
// goroutines. Every event carries "t", milliseconds since the run started,
// and "ts", the Unix time in milliseconds (to the microsecond), which lets a
// viewer measure how long the event took to reach it.
type Emitter struct {
	mu    sync.Mutex
	w     *bufio.Writer
	start time.Time
	err   error
	load  *loadWatch
}

// NewEmitter writes events to w. Tests of experiment code can use it with
// a buffer.
func NewEmitter(w io.Writer) *Emitter {
	return &Emitter{w: bufio.NewWriterSize(w, 64<<10), start: time.Now(), load: newLoadWatch()}
}

// Load is how much other programs competed for this run's CPUs since it
// started (see Load). A run reads it just before it judges its claims and
// hands it to the verdict rule; the result reports the last reading, so
// the figure on the page is the one the verdicts used.
func (e *Emitter) Load() Load {
	l := e.load.read()
	e.mu.Lock()
	e.load.last = &l
	e.mu.Unlock()
	return l
}

// Since returns milliseconds since the run started, the time base of
// every event's "t" (and of span events' start and end).
func (e *Emitter) Since() float64 { return format.Ms(time.Since(e.start)) }

// Ms converts a time on this run's clock to milliseconds since its start.
func (e *Emitter) Ms(t time.Time) float64 { return format.Ms(t.Sub(e.start)) }

// Event emits an event of any type. Fields are copied into the object next
// to "type", "t" and "ts".
func (e *Emitter) Event(typ string, fields map[string]any) {
	obj := make(map[string]any, len(fields)+3)
	for k, v := range fields {
		obj[k] = v
	}
	now := time.Now()
	obj["type"] = typ
	obj["t"] = format.Round(format.Ms(now.Sub(e.start)), 3)
	obj["ts"] = float64(now.UnixMicro()) / 1e3 // ms, to the µs
	b, err := json.Marshal(obj)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.err = err
		return
	}
	if e.err != nil {
		return
	}
	e.w.Write(b)
	e.w.WriteByte('\n')
	e.err = e.w.Flush()
}

// Err reports the first error writing events, if any.
func (e *Emitter) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Progress reports how far a phase has got.
func (e *Emitter) Progress(phase string, done, total int) {
	e.Event(protocol.EventProgress, map[string]any{"phase": phase, "done": done, "total": total})
}

// Log emits a line of text for the run's log.
func (e *Emitter) Log(msg string) { e.Event(protocol.EventLog, map[string]any{"message": msg}) }

// Point appends a point to a series of a line chart.
func (e *Emitter) Point(chart, series string, x, y float64) {
	e.Event(protocol.EventPoint, map[string]any{"chart": chart, "series": series, "x": x, "y": y})
}

// Points appends several points to a series of a line chart at once, for
// experiments that collect samples faster than they should emit them.
func (e *Emitter) Points(chart, series string, xs, ys []float64) {
	e.Event(protocol.EventPoints, map[string]any{"chart": chart, "series": series, "x": xs, "y": ys})
}

// Mark draws a labelled vertical line across a line chart at x.
func (e *Emitter) Mark(chart string, x float64, label string) {
	e.Event(protocol.EventMark, map[string]any{"chart": chart, "x": x, "label": label})
}

// Bar sets one bar of a bar chart; lo and hi draw its spread (pass the
// value for both when there is none).
func (e *Emitter) Bar(chart, series, label string, value, lo, hi float64) {
	e.Event(protocol.EventBar, map[string]any{"chart": chart, "series": series, "label": label, "value": value, "lo": lo, "hi": hi})
}

// Hist sets one series of a histogram.
func (e *Emitter) Hist(chart, series string, bins []Bin) {
	e.Event(protocol.EventHist, map[string]any{"chart": chart, "series": series, "bins": bins})
}

// Span appends a span to a lanes chart; start and end are milliseconds on
// the run's clock (see Ms).
func (e *Emitter) Span(chart, lane string, start, end float64, label string) {
	e.Event(protocol.EventSpan, map[string]any{"chart": chart, "lane": lane, "start": format.Round(start, 3), "end": format.Round(end, 3), "label": label})
}

// Row inserts or replaces the row with this key in a live table.
func (e *Emitter) Row(table, key string, cells map[string]any) {
	e.Event(protocol.EventRow, map[string]any{"table": table, "key": key, "cells": cells})
}

// Gauge shows a live figure, replaced each time the same name is emitted.
func (e *Emitter) Gauge(name string, value float64, unit string) {
	e.Event(protocol.EventGauge, map[string]any{"name": name, "value": value, "unit": unit})
}

// Result ends the run with its metrics and the verdicts on its claims.
// Call it once, last. It adds the machine's load (KeyLoad): the reading
// the verdicts used, or one taken now when the run read none.
func (e *Emitter) Result(metrics []Metric, claims []Claim) {
	e.mu.Lock()
	last := e.load.last
	e.mu.Unlock()
	if last == nil {
		l := e.load.read()
		last = &l
	}
	if _, ok := FindMetric(metrics, KeyLoad); !ok {
		metrics = append(slices.Clip(metrics), last.Metric())
	}
	if claims == nil {
		claims = []Claim{}
	}
	e.Event(protocol.EventResult, map[string]any{"metrics": metrics, "claims": claims})
}

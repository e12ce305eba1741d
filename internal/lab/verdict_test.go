package lab

import (
	"math"
	"strings"
	"testing"
	"time"
)

// band is a measurement with median mid and p25–p75 lo–hi.
func band(lo, mid, hi float64) Band { return Band{Mid: mid, Lo: lo, Hi: hi, N: 100, Unit: "µs"} }

var (
	idle = Load{Known: true, Others: 0.05, CPUs: 2, Wall: 5 * time.Second}
	busy = Load{Known: true, Others: 0.6, CPUs: 2, Wall: 5 * time.Second}
)

func TestDecide(t *testing.T) {
	t.Parallel()
	oneToTen := Between(1, 10)
	about := Between(1, 10).About() // 0.8–12.5
	tests := []struct {
		name    string
		b       Band
		e       Expect
		load    Load
		verdict string
		side    Side
	}{
		{"inside", band(2, 3, 4), oneToTen, idle, Holds, Inside},
		{"on both edges", band(1, 5, 10), oneToTen, idle, Holds, Inside},
		{"just below the edge", band(0.99, 3, 4), oneToTen, idle, Inconclusive, Straddles},
		{"clearly below", band(0.2, 0.3, 0.5), oneToTen, idle, Differs, Below},
		{"clearly above", band(11, 12, 14), oneToTen, idle, Differs, Above},
		{"straddling the upper edge", band(8, 10, 13), oneToTen, idle, Inconclusive, Straddles},
		{"wider than the range", band(0.5, 3, 20), oneToTen, idle, Inconclusive, Straddles},
		// A median of 0.98 µs, spread 0.95–1.33 µs, against "about
		// 1–10 µs" holds, as it does at 1.04: no flip at the words' edge.
		{"about: just under the words", band(0.95, 0.98, 1.33), about, idle, Holds, Inside},
		{"about: at the tolerance's edge", band(0.8, 1, 12.5), about, idle, Holds, Inside},
		{"about: past the tolerance", band(0.5, 0.6, 0.79), about, idle, Differs, Below},
		{"about: straddling the tolerance", band(0.7, 0.9, 1.1), about, idle, Inconclusive, Straddles},
		{"at least, clearly", band(12, 14, 20), AtLeast(10), idle, Holds, Inside},
		{"at least, not reached", band(3, 4, 5), AtLeast(10), idle, Differs, Below},
		{"at most, clearly", band(0.01, 0.02, 0.03), AtMost(0.1), idle, Holds, Inside},
		{"at most, exceeded", band(0.2, 0.3, 0.4), AtMost(0.1), idle, Differs, Above},
		{"a single figure inside", Once(5, "µs"), oneToTen, idle, Holds, Inside},
		{"a single figure outside", Once(10.01, "µs"), oneToTen, idle, Differs, Above},
		{"busy: would hold", band(2, 3, 4), oneToTen, busy, Inconclusive, Busy},
		{"busy: would differ", band(11, 12, 14), oneToTen, busy, Inconclusive, Busy},
		{"busy but not timed", band(2, 3, 4), oneToTen, NotTimed, Holds, Inside},
		{"load not known", band(2, 3, 4), oneToTen, Load{Why: "no /proc/stat"}, Holds, Inside},
		{"busy just under the share", band(2, 3, 4), oneToTen, Load{Known: true, Others: 0.29, CPUs: 2, Wall: time.Second}, Holds, Inside},
		{"busy at the share", band(2, 3, 4), oneToTen, Load{Known: true, Others: 0.3, CPUs: 2, Wall: time.Second}, Inconclusive, Busy},
		{"nothing measured", Band{}, oneToTen, idle, Inconclusive, Unmeasured},
		{"not a number", Band{Mid: math.NaN(), Lo: 1, Hi: 2, N: 3}, oneToTen, idle, Inconclusive, Unmeasured},
		{"nothing measured on a busy machine", Band{}, oneToTen, busy, Inconclusive, Unmeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(tt.b, tt.e, tt.load)
			if d.Verdict != tt.verdict || d.Side != tt.side {
				t.Errorf("Decide(%v, %+v) = %s (%s), want %s (%s)", tt.b, tt.e, d.Verdict, d.Side, tt.verdict, tt.side)
			}
			if (d.Verdict == Inconclusive) != (d.Why != "") {
				t.Errorf("verdict %s with the rule's why %q", d.Verdict, d.Why)
			}
		})
	}
}

// The rule's own sentences say which case made a verdict inconclusive.
func TestDecideSaysWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    Decision
		want []string
	}{
		{Decide(band(8, 10, 13), Between(1, 10), idle), []string{"8–13 µs", "edge at 10 µs"}},
		{Decide(band(0.7, 0.9, 1.1), Between(1, 10).About(), idle), []string{"0.7–1.1 µs", "edge at 0.8 µs", "its tolerance included"}},
		{Decide(band(2, 3, 4), Between(1, 10), busy), []string{"busy", "0.60 of the 2 CPUs", "30%"}},
		{Compare(band(2, 3, 4), band(2.5, 3, 3.5), AtLeast(1.2), idle), []string{"0.571–1.6×", "1.2×"}},
	}
	for _, tt := range tests {
		for _, w := range tt.want {
			if !strings.Contains(tt.d.Why, w) {
				t.Errorf("why %q does not say %q", tt.d.Why, w)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		a, b    Band
		e       Expect
		load    Load
		verdict string
	}{
		// The cheap samples of a still cost more than the dear ones of b.
		{"clearly more", band(4, 5, 6), band(2, 2.5, 3), AtLeast(1.2), idle, Holds},
		{"more, but within the noise of both", band(2.8, 3.4, 4), band(2.5, 3, 3.5), AtLeast(1.2), idle, Inconclusive},
		{"about the same, tight", band(3.0, 3.05, 3.1), band(2.95, 3, 3.05), AtLeast(1.2), idle, Differs},
		{"clearly less", band(1, 1.2, 1.4), band(2.5, 3, 3.5), AtLeast(1), idle, Differs},
		{"far cheaper", band(0.1, 0.12, 0.15), band(2, 3, 4), AtMost(0.2), idle, Holds},
		{"cheaper but not far", band(0.5, 0.6, 0.7), band(1, 1.2, 1.4), AtMost(0.2), idle, Differs},
		{"within a band of each other", band(0.95, 1, 1.05), band(0.97, 1, 1.03), Between(0.9, 1.1), idle, Holds},
		{"clearly apart on a busy machine", band(4, 5, 6), band(2, 2.5, 3), AtLeast(1.2), busy, Inconclusive},
		{"against nothing", band(4, 5, 6), Band{}, AtLeast(1), idle, Inconclusive},
		{"against zero", band(4, 5, 6), Band{Mid: 0, Lo: 0, Hi: 0, N: 3}, AtLeast(1), idle, Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Compare(tt.a, tt.b, tt.e, tt.load); got.Verdict != tt.verdict {
				t.Errorf("Compare = %s (%s; ratio %v), want %s", got.Verdict, got.Side, Ratio(tt.a, tt.b), tt.verdict)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	t.Parallel()
	r := Ratio(band(4, 5, 6), band(2, 2.5, 3))
	if r.Mid != 2 || r.Lo != 4.0/3 || r.Hi != 3 || r.Unit != "×" {
		t.Errorf("Ratio = %+v, want mid 2, 1.33–3×", r)
	}
}

// Rounds taken in turns are compared round by round: a slow spell that
// falls on both figures cancels, where the bands' ratio would straddle.
func TestPaired(t *testing.T) {
	t.Parallel()
	// The machine was slow in rounds 2 and 4; a costs 1.2× b in every round.
	a := []float64{1.2, 2.4, 1.2, 2.4, 1.2}
	b := []float64{1, 2, 1, 2, 1}
	tests := []struct {
		name    string
		a, b    []float64
		e       Expect
		verdict string
	}{
		{"a slow spell on both cancels", a, b, AtLeast(1.1), Holds},
		{"the same, round by round", b, b, AtLeast(1.1), Differs},
		{"rounds that disagree", []float64{1.3, 0.9, 1.25, 0.95, 1.2}, []float64{1, 1, 1, 1, 1}, AtLeast(1.1), Inconclusive},
		{"far cheaper", []float64{0.1, 0.2, 0.1, 0.2, 0.1}, b, AtMost(0.2), Holds},
		{"too few rounds", a[:2], b[:2], AtLeast(1.1), Inconclusive},
		{"rounds without b left out", []float64{1.2, 1.2, 1.2, 1.2}, []float64{1, 0, 1, 1}, AtLeast(1.1), Holds},
		{"too few once those are left out", []float64{1.2, 1.2, 1.2}, []float64{1, 0, math.NaN()}, AtLeast(1.1), Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Decide(Paired(tt.a, tt.b), tt.e, idle); got.Verdict != tt.verdict {
				t.Errorf("Decide(Paired) = %s (%s; ratio %v), want %s", got.Verdict, got.Side, Paired(tt.a, tt.b), tt.verdict)
			}
		})
	}
	ba, bb := BandOfValues(a, "µs"), BandOfValues(b, "µs")
	if got, want := RoundByRound(a, b, ba, bb), Paired(a, b); got != want {
		t.Errorf("RoundByRound with the same rounds = %+v, want Paired's %+v", got, want)
	}
	if got, want := RoundByRound(a, b[:4], ba, bb), Ratio(ba, bb); got != want {
		t.Errorf("RoundByRound with rounds that do not match = %+v, want Ratio's %+v", got, want)
	}
	if r := Ratio(BandOfValues(a, ""), BandOfValues(b, "")); Decide(r, AtLeast(1.1), idle).Verdict != Inconclusive {
		t.Errorf("the bands' ratio %v should straddle 1.1×: that is what Paired is for", r)
	}
}

func TestAll(t *testing.T) {
	t.Parallel()
	holds := Decide(band(2, 3, 4), Between(1, 10), idle)
	differs := Decide(band(20, 30, 40), Between(1, 10), idle)
	straddles := Decide(band(8, 10, 13), Between(1, 10), idle)
	busyD := Decide(band(2, 3, 4), Between(1, 10), busy)
	tests := []struct {
		name string
		ds   []Decision
		want Side
	}{
		{"all hold", []Decision{holds, holds}, Inside},
		{"one straddles", []Decision{holds, straddles}, Straddles},
		{"one differs beats one straddling", []Decision{straddles, differs, holds}, Above},
		{"busy beats everything", []Decision{differs, busyD}, Busy},
		{"nothing", nil, Inside},
	}
	for _, tt := range tests {
		if got := All(tt.ds...); got.Side != tt.want {
			t.Errorf("%s: All = %s, want %s", tt.name, got.Side, tt.want)
		}
	}
}

func TestDecided(t *testing.T) {
	t.Parallel()
	c := Claim{Claim: "c", Expected: "e"}
	if got := c.Decided("m", Decide(band(2, 3, 4), Between(1, 10), idle), "never"); got.Verdict != Holds || got.Why != "" {
		t.Errorf("holds: %+v", got)
	}
	if got := c.Decided("m", Decide(band(20, 30, 40), Between(1, 10), idle), "too dear"); got.Verdict != Differs || got.Why != "too dear" {
		t.Errorf("differs: %+v", got)
	}
	if got := c.Decided("m", Decide(band(2, 3, 4), Between(1, 10), busy), "never"); got.Verdict != Inconclusive || !strings.Contains(got.Why, "busy") {
		t.Errorf("busy: %+v", got)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	if m := busy.Metric(); m.Key != KeyLoad || m.Value != 0.6 || m.Unit != "CPUs" {
		t.Errorf("metric %+v", m)
	}
	if m := (Load{Why: "no /proc/stat"}).Metric(); !strings.Contains(m.Note, "no /proc/stat") {
		t.Errorf("an unknown load's metric says %q", m.Note)
	}
	// A real reading: this test process reads its own machine.
	w := newLoadWatch()
	if l := w.read(); l.Known {
		t.Errorf("a load read at once is known: %+v", l)
	}
}

func TestBandString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		b    Band
		want string
	}{
		{band(2.54, 3.06, 3.52), "3.06 µs (p25–p75 2.54–3.52 µs, n = 100)"},
		{Once(1.9, "×"), "1.9×"},
		{Band{}, "not measured"},
	}
	for _, tt := range tests {
		if got := tt.b.String(); got != tt.want {
			t.Errorf("String = %q, want %q", got, tt.want)
		}
	}
}

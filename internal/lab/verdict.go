package lab

import (
	"fmt"
	"math"

	"conclab/internal/format"
)

// The course's one verdict rule. Every claim that puts a figure in a range
// ("a thread switch costs about 1–10 µs") or compares two figures ("a
// process costs more than a thread") is decided here, so that the same
// measurement gets the same verdict in every lesson, and the rule the pages
// explain (web/ui's "how verdicts are decided") is the rule the code runs.
//
// A figure is read as a Band: its median and the band the middle half of
// its samples fell in. A claim is an Expect: a range, widened by the
// tolerance the claim's words deserve. Then:
//
//   - holds when the whole band lies inside the widened range;
//   - differs when the whole band lies outside it;
//   - inconclusive when the band straddles one of its edges, or when other
//     programs kept the machine busy while a timing was taken (Load).
//
// A comparison is a range claim about a ratio (Ratio), whose band pairs the
// low end of one figure with the high end of the other: "A costs more than
// B" holds only when A's cheap samples still cost more than B's dear ones,
// a margin beyond the noise of both. Figures measured side by side, in
// rounds that take them in turns, are compared round by round instead
// (Paired): a slow moment of the machine then slows both and cancels, and
// the band of the rounds' ratios must clear the claim's edge.

// Band is a figure as the verdict rule reads it: its median (Mid) and the
// band the middle half of its samples fell in (Lo–Hi, the 25th to the 75th
// percentile). A band inside a claim's range means that at least three
// samples in four fell on the right side of each of its edges. The
// quartiles are used rather than the extremes because they are steady
// from one run to the next even with a few dozen samples, where the 10th
// and 90th percentiles jump with every stall. A figure measured once has
// no spread: Lo = Mid = Hi.
type Band struct {
	Mid, Lo, Hi float64
	N           int    // samples behind it; 0 means not measured
	Unit        string // for the rule's sentences, such as "µs" or "×"
}

// BandOf reads a distribution as a Band.
func BandOf(s Summary, unit string) Band {
	return Band{Mid: s.P50, Lo: s.P25, Hi: s.P75, N: s.N, Unit: unit}
}

// BandOfValues reads samples as a Band.
func BandOfValues(samples []float64, unit string) Band { return BandOf(Summarize(samples), unit) }

// Once is a figure measured once, with no spread to read: the rule then
// decides on the figure alone, and only the claim's tolerance keeps it
// from a knife edge. Prefer samples wherever the experiment can take them.
func Once(v float64, unit string) Band { return Band{Mid: v, Lo: v, Hi: v, N: 1, Unit: unit} }

// measured reports whether the band holds a usable figure.
func (b Band) measured() bool {
	return b.N > 0 && finite(b.Mid) && finite(b.Lo) && finite(b.Hi) && b.Lo <= b.Hi
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// String writes the band for a claim's measured text: "3.06 µs (p25–p75
// 2.84–3.32 µs, n = 300)", or the figure alone when it has no spread.
func (b Band) String() string {
	if !b.measured() {
		return "not measured"
	}
	if b.N == 1 || b.Lo == b.Hi {
		return fig(b.Mid, b.Unit)
	}
	return fmt.Sprintf("%s (p25–p75 %s, n = %d)", fig(b.Mid, b.Unit), span(b.Lo, b.Hi, b.Unit), b.N)
}

// fig prints a figure with its unit, a ratio as "1.9×".
func fig(v float64, unit string) string {
	if unit == "×" || unit == "%" {
		return format.Number(v) + unit
	}
	return format.Figure(v, unit)
}

func span(lo, hi float64, unit string) string {
	return format.Number(lo) + "–" + fig(hi, unit)
}

// Ratio is a/b as a band with a margin beyond the noise of both: its low
// end is a's low end over b's high end, its high end a's high end over b's
// low end. Either figure unmeasured, or b not above zero, gives an
// unmeasured ratio.
func Ratio(a, b Band) Band {
	if !a.measured() || !b.measured() || b.Lo <= 0 {
		return Band{Unit: "×"}
	}
	return Band{Mid: a.Mid / b.Mid, Lo: a.Lo / b.Hi, Hi: a.Hi / b.Lo, N: min(a.N, b.N), Unit: "×"}
}

// MinPaired is how many rounds Paired needs for a band: fewer, and the
// ratio is unmeasured.
const MinPaired = 3

// Paired is a/b for two figures measured side by side in rounds that take
// them in turns: a[i] and b[i] are the figures of round i (a median of its
// samples, say). Each round gives one ratio, and the ratios are read as a
// band. A slow spell of the machine that falls on a round slows both
// figures and cancels in their ratio, where Ratio would count it against
// the comparison twice; what is left of the noise of both is the spread of
// the ratios. Rounds missing either figure, or with b not above zero, are
// left out.
func Paired(a, b []float64) Band {
	var r []float64
	for i := range min(len(a), len(b)) {
		if finite(a[i]) && finite(b[i]) && b[i] > 0 {
			r = append(r, a[i]/b[i])
		}
	}
	if len(r) < MinPaired {
		return Band{Unit: "×"}
	}
	return BandOfValues(r, "×")
}

// RoundByRound is a over b as a comparison reads them: Paired on their
// rounds when both were taken in the same rounds (as many of each, at
// least MinPaired), Ratio of their bands otherwise.
func RoundByRound(roundsA, roundsB []float64, a, b Band) Band {
	if len(roundsA) >= MinPaired && len(roundsA) == len(roundsB) {
		return Paired(roundsA, roundsB)
	}
	return Ratio(a, b)
}

// Expect is what a claim says a figure is: between Lo and Hi, either of
// which may be open (math.Inf), give or take Slack, a relative tolerance
// applied as a factor: the edges widen to Lo/(1+Slack) and Hi·(1+Slack).
type Expect struct {
	Lo, Hi float64
	Slack  float64
}

// AboutSlack is the tolerance a claim that says "about" deserves: a
// quarter either way, so "about 1–10 µs" accepts 0.8–12.5 µs.
const AboutSlack = 0.25

// Between is a claim that a figure lies from lo to hi.
func Between(lo, hi float64) Expect { return Expect{Lo: lo, Hi: hi} }

// AtLeast is a claim that a figure is lo or more.
func AtLeast(lo float64) Expect { return Expect{Lo: lo, Hi: math.Inf(1)} }

// AtMost is a claim that a figure is hi or less.
func AtMost(hi float64) Expect { return Expect{Lo: math.Inf(-1), Hi: hi} }

// About widens the range by AboutSlack.
func (e Expect) About() Expect { e.Slack = AboutSlack; return e }

// How the course reads a claim's words. A judge takes every threshold from
// one of these, or from a figure the claim itself states ("1–10 µs",
// "within 25%"), and says which in a comment beside it; "about" is
// AboutSlack. Where the figure a claim is about depends on the machine
// ("as many as there are CPUs"), the judge scales the threshold to the
// CPUs the run could use, never to what a machine it was tried on measured.
const (
	// More reads "more than", "costs more", "slower", "beats", "cheaper":
	// a ratio above 1. Its margin is the band's (Ratio pairs the cheap end
	// of one figure with the dear end of the other; Paired reads the
	// spread of round-by-round ratios), so noise alone never makes it hold.
	More = 1.0
	// Far reads "far more", "far less", "far fewer", "far cheaper": five
	// times or more, a gap that no difference between runs, or between
	// machines of one kind, comes near. Ten times is "an order of
	// magnitude", which no claim of the course says.
	Far = 5.0
	// Most reads "most", "mostly", "half or more": at least half.
	Most = 0.5
	// Nothing reads "none", "no progress", "stops", "uses no CPU": a
	// twentieth or less, the smallest share the course's clocks and
	// samplers tell apart from zero.
	Nothing = 0.05
)

// NeedsTwoCPUs ends the Expected text of every claim that cannot be tested
// on one CPU (parallelism, a CPU each for two parties): on a machine or in
// a container with one usable CPU its verdict is inconclusive, and why
// says so. The course's one-CPU test holds every such claim to that.
const NeedsTwoCPUs = "(needs two CPUs or more)"

// AboutAsMuch is a claim that a figure is about x: "about as fast as"
// (x = 1 for a ratio), "about as many as there are CPUs" (x = the CPUs),
// "drops toward 1/N" (x = N for the speedup).
func AboutAsMuch(x float64) Expect { return Between(x, x).About() }

// Unable is the decision on a claim this run cannot test, for a reason
// that is not a figure (one CPU where the claim needs two, an interpreter
// that is not installed): inconclusive, and why says what is missing.
// Hand it to All beside the figures' decisions, or to Claim.Decided.
func Unable(why string) Decision { return Decision{Inconclusive, Unmeasured, why} }

// edges are the range with its tolerance.
func (e Expect) edges() (lo, hi float64) {
	lo, hi = e.Lo, e.Hi
	if lo > 0 {
		lo /= 1 + e.Slack
	} else if finite(lo) {
		lo -= math.Abs(lo) * e.Slack
	}
	if finite(hi) {
		hi += math.Abs(hi) * e.Slack
	}
	return lo, hi
}

// Side says where a measurement fell against a claim.
type Side string

// The sides a Decision can report.
const (
	Inside     Side = "inside"     // holds
	Below      Side = "below"      // differs: the whole band is under the range
	Above      Side = "above"      // differs: the whole band is over it
	Straddles  Side = "straddles"  // inconclusive: the band reaches across an edge
	Busy       Side = "busy"       // inconclusive: other programs held the CPUs
	Unmeasured Side = "unmeasured" // inconclusive: no figure
)

// Decision is the rule's answer: a verdict, where the measurement fell,
// and, when the verdict is inconclusive, the rule's own sentence saying why.
type Decision struct {
	Verdict string
	Side    Side
	Why     string
}

// Decide holds a figure against a claim. load is the machine's load while
// it was measured; hand NotTimed for figures other programs cannot move.
func Decide(b Band, e Expect, load Load) Decision {
	if !b.measured() {
		return Decision{Inconclusive, Unmeasured, "Nothing was measured for this claim, so there is nothing to judge."}
	}
	if load.Busy() {
		return Decision{Inconclusive, Busy, "The machine was busy: " + load.Text() +
			". Timings taken meanwhile are partly those programs' doing, so this run does not judge the claim; run it again when the machine is quieter."}
	}
	lo, hi := e.edges()
	switch {
	case b.Lo >= lo && b.Hi <= hi:
		return Decision{Holds, Inside, ""}
	case b.Hi < lo:
		return Decision{Differs, Below, ""}
	case b.Lo > hi:
		return Decision{Differs, Above, ""}
	}
	edge := lo
	if b.Hi > hi {
		edge = hi
	}
	tol := ""
	if e.Slack > 0 {
		tol = " (its tolerance included)"
	}
	return Decision{Inconclusive, Straddles, fmt.Sprintf(
		"The middle half of the samples, %s, reaches across the claim's edge at %s%s, so this run cannot tell on which side it lies. Run it again, or with more samples.",
		span(b.Lo, b.Hi, b.Unit), fig(edge, b.Unit), tol)}
}

// Compare holds the ratio a/b against a claim: AtLeast(1.2) for "a costs
// clearly more than b", AtMost(0.2) for "a costs far less than b".
func Compare(a, b Band, e Expect, load Load) Decision { return Decide(Ratio(a, b), e, load) }

// All is the decision on a claim that needs every one of its parts: busy
// if any part was measured on a busy machine, differs if any part clearly
// differs, inconclusive if any part is, and holds only when all hold. The
// first part of the deciding kind gives the side and the why.
func All(ds ...Decision) Decision {
	rank := func(d Decision) int {
		switch {
		case d.Side == Busy:
			return 4
		case d.Verdict == Differs:
			return 3
		case d.Verdict == Inconclusive:
			return 2
		}
		return 1
	}
	best := Decision{Holds, Inside, ""}
	for _, d := range ds {
		if rank(d) > rank(best) {
			best = d
		}
	}
	return best
}

// Decided fills the claim in from a decision. differs is the judge's own
// explanation of a differs (which depends on its Side); an inconclusive
// verdict gets the rule's sentence, and holds gets no why.
func (c Claim) Decided(measured string, d Decision, differs string) Claim {
	switch d.Verdict {
	case Holds:
		return c.Judge(measured, Holds, "")
	case Differs:
		return c.Judge(measured, Differs, differs)
	}
	return c.Judge(measured, Inconclusive, d.Why)
}

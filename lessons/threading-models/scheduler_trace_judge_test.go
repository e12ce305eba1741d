package threadingmodels

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
)

// machine is a shape of machine the judge must answer for: its CPUs, and
// the GOMAXPROCS a learner runs it with (the parameter stops at 8).
type machine struct {
	name  string
	cpus  int
	procs int
}

var machines = []machine{
	{"1 CPU", 1, 1},
	{"2 CPUs", 2, 2},
	{"8 logical CPUs on 4 cores", 8, 8},
	{"16 CPUs", 16, 8},
	{"64 CPUs", 64, 8},
}

func quiet(cpus int) lab.Load {
	return lab.Load{Known: true, Others: 0.02 * float64(cpus), CPUs: cpus, Wall: 4 * time.Second}
}

func busyOn(cpus int) lab.Load {
	return lab.Load{Known: true, Others: 0.5 * float64(cpus), CPUs: cpus, Wall: 4 * time.Second}
}

// holdingSched is a run on a quiet machine of this shape in which every
// claim holds.
func holdingSched(mc machine) schedMeasured {
	var eps []episode
	for i := range 10 {
		at := float64(100 * i)
		eps = append(eps, episode{began: at, ended: at + 99, m: 7, endM: 7, handedOff: true, delay: 12 + float64(i%4)})
	}
	threads := make([]float64, 50)
	for i := range threads {
		threads[i] = float64(mc.procs + 5)
	}
	return schedMeasured{
		gomaxprocs: mc.procs, computing: 3, waiters: 32, block: 100, window: 2000, spans: 600,
		runningPeak: mc.procs, executingPeak: mc.procs + 2, threadsRan: mc.procs + 2, lanes: mc.procs, episodes: eps,
		spinnerRan: 700, slices: []float64{10.5, 11, 12, 15, 19, 20, 13, 10.2, 14}, preempts: 9, contended: 9,
		parks: 20, wakes: 20, parkedPeak: 32, parkedShare: 0.99, threads: threads,
		off: []float64{1000, 1010, 990}, on: []float64{900, 920, 950}, traceBytes: 200 << 10, load: quiet(mc.cpus),
	}
}

// setDelays makes every read() hand its P on after these delays.
func setDelays(m *schedMeasured, delays ...float64) {
	for i := range m.episodes {
		m.episodes[i].delay = delays[i%len(delays)]
	}
}

func TestJudgeSched(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		claim int // index in judgeSched's claims
		edit  func(m *schedMeasured, mc machine)
		want  string
	}{
		{"at most: holds", 0, func(*schedMeasured, machine) {}, lab.Holds},
		{"at most: holds on a busy machine, counts are not timings", 0, func(m *schedMeasured, mc machine) { m.load = busyOn(mc.cpus) }, lab.Holds},
		{"at most: one more running than Ps", 0, func(m *schedMeasured, mc machine) { m.runningPeak = mc.procs + 1 }, lab.Differs},
		{"at most: only GOMAXPROCS threads", 0, func(m *schedMeasured, mc machine) { m.threadsRan = mc.procs }, lab.Differs},
		{"at most: exactly one thread more", 0, func(m *schedMeasured, mc machine) { m.threadsRan = mc.procs + 1 }, lab.Holds},
		{"at most: nothing ran", 0, func(m *schedMeasured, _ machine) { m.spans, m.runningPeak, m.threadsRan = 0, 0, 0 }, lab.Inconclusive},

		{"syscall: holds", 1, func(*schedMeasured, machine) {}, lab.Holds},
		{"syscall: at the edge, 25 ms with its tolerance", 1, func(m *schedMeasured, _ machine) { setDelays(m, 25) }, lab.Holds},
		{"syscall: one read came back on another thread", 1, func(m *schedMeasured, _ machine) { m.episodes[3].endM = 8 }, lab.Differs},
		{"syscall: the P moved late", 1, func(m *schedMeasured, _ machine) { setDelays(m, 30, 32, 40) }, lab.Differs},
		{"syscall: the P never moved in 99 ms reads", 1, func(m *schedMeasured, _ machine) {
			for i := range m.episodes {
				m.episodes[i].handedOff = false
			}
		}, lab.Differs},
		{"syscall: delays straddle the edge", 1, func(m *schedMeasured, _ machine) { setDelays(m, 15, 22, 28, 35) }, lab.Inconclusive},
		{"syscall: late on a busy machine", 1, func(m *schedMeasured, mc machine) { setDelays(m, 30); m.load = busyOn(mc.cpus) }, lab.Inconclusive},
		{"syscall: no read seen", 1, func(m *schedMeasured, _ machine) { m.episodes = nil }, lab.Inconclusive},
		{"syscall: reads too short to tell", 1, func(m *schedMeasured, _ machine) {
			for i := range m.episodes {
				m.episodes[i].handedOff, m.episodes[i].ended = false, m.episodes[i].began+10
			}
		}, lab.Inconclusive},
		{"syscall: the one read outlasted the trace", 1, func(m *schedMeasured, _ machine) {
			m.episodes = []episode{{began: 1990, ended: -1, m: 7}}
		}, lab.Inconclusive},

		{"preempt: holds", 2, func(*schedMeasured, machine) {}, lab.Holds},
		{"preempt: never preempted in 700 ms", 2, func(m *schedMeasured, _ machine) { m.slices, m.preempts, m.contended = nil, 0, 0 }, lab.Differs},
		{"preempt: hardly ran", 2, func(m *schedMeasured, _ machine) { m.slices, m.preempts, m.contended, m.spinnerRan = nil, 0, 0, 15 }, lab.Inconclusive},
		{"preempt: two slices", 2, func(m *schedMeasured, _ machine) { m.slices, m.preempts, m.contended = []float64{11, 12}, 2, 2 }, lab.Inconclusive},
		{"preempt: spare Ps, nobody waited", 2, func(m *schedMeasured, _ machine) { m.slices, m.preempts, m.contended = []float64{0.5}, 40, 1 }, lab.Inconclusive},
		{"preempt: slices far shorter", 2, func(m *schedMeasured, _ machine) { m.slices = []float64{2, 3, 4, 5, 3} }, lab.Differs},
		{"preempt: slices far longer", 2, func(m *schedMeasured, _ machine) { m.slices = []float64{40, 45, 50, 38, 60} }, lab.Differs},
		{"preempt: slices straddle 25 ms", 2, func(m *schedMeasured, _ machine) { m.slices = []float64{15, 20, 30, 35, 18, 32} }, lab.Inconclusive},
		{"preempt: busy machine", 2, func(m *schedMeasured, mc machine) { m.load = busyOn(mc.cpus) }, lab.Inconclusive},

		{"parked: holds", 3, func(*schedMeasured, machine) {}, lab.Holds},
		{"parked: holds on a busy machine", 3, func(m *schedMeasured, mc machine) { m.load = busyOn(mc.cpus) }, lab.Holds},
		{"parked: a thread each", 3, func(m *schedMeasured, mc machine) {
			for i := range m.threads {
				m.threads[i] = float64(mc.procs + m.parkedPeak + 2)
			}
		}, lab.Differs},
		{"parked: one short of a thread each", 3, func(m *schedMeasured, mc machine) {
			for i := range m.threads {
				m.threads[i] = float64(mc.procs + m.parkedPeak - 1)
			}
		}, lab.Holds},
		{"parked: none parked", 3, func(m *schedMeasured, _ machine) { m.parks, m.parkedPeak = 0, 0 }, lab.Inconclusive},
		{"parked: threads counted twice", 3, func(m *schedMeasured, _ machine) { m.threads = m.threads[:2] }, lab.Inconclusive},
	}
	for _, mc := range machines {
		for _, tt := range tests {
			t.Run(mc.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				m := holdingSched(mc)
				tt.edit(&m, mc)
				claims := judgeSched(m)
				if len(claims) != 4 {
					t.Fatalf("%d claims, want 4", len(claims))
				}
				c := claims[tt.claim]
				if c.Verdict != tt.want {
					t.Errorf("verdict %s, want %s\nmeasured: %s\nwhy: %s", c.Verdict, tt.want, c.Measured, c.Why)
				}
				if c.Verdict != lab.Holds && c.Why == "" {
					t.Errorf("%s without a why", c.Verdict)
				}
				if c.Measured == "" || strings.Contains(c.Measured, "NaN") {
					t.Errorf("measured %q", c.Measured)
				}
			})
		}
	}
}

// Every metric has a valid key of its own and a finite value, even for a
// run that saw nothing; and the cost says which way the trace moved the work.
func TestSchedMetrics(t *testing.T) {
	t.Parallel()
	for _, m := range []schedMeasured{holdingSched(machines[1]), {}} {
		seen := map[string]bool{}
		for _, x := range schedMetrics(m) {
			if !lab.ValidKey(x.Key) || seen[x.Key] {
				t.Errorf("metric %q: key malformed or twice", x.Key)
			}
			seen[x.Key] = true
			if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
				t.Errorf("metric %q = %v", x.Key, x.Value)
			}
		}
		for _, p := range schedPredictions {
			if p.Kind == lab.PredictNumber && !seen[p.Key] {
				t.Errorf("prediction %q is scored against %q, which is not a metric", p.Question, p.Key)
			}
		}
	}
	m := holdingSched(machines[1])
	if got, want := m.cost(), (1-2770.0/3000)*100; math.Abs(got-want) > 1e-9 {
		t.Errorf("cost = %v%%, want %v%%", got, want)
	}
	m.on = []float64{1100, 1100, 1100}
	if got := m.cost(); got >= 0 {
		t.Errorf("cost with the trace on faster = %v%%, want below zero", got)
	}
}

func TestParkedAnswer(t *testing.T) {
	t.Parallel()
	metrics := func(procs, parked, peak float64) []lab.Metric {
		return []lab.Metric{{Key: "gomaxprocs", Value: procs}, {Key: "waiting.parked_peak", Value: parked}, {Key: "threads.process_peak", Value: peak}}
	}
	for _, c := range []struct {
		procs, parked, peak float64
		want                string
		ok                  bool
	}{
		{2, 32, 8, parkedNone, true},
		{8, 16, 14, parkedNone, true},
		{2, 32, 40, parkedOneEach, true},
		{2, 32, 25, "", false}, // between the two: the run cannot tell
		{2, 0, 8, "", false},   // nothing parked
	} {
		got, ok := parkedAnswer(metrics(c.procs, c.parked, c.peak))
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %q, %v; want %q, %v", fmt.Sprint(c.procs, " Ps, ", c.parked, " parked, ", c.peak, " threads"), got, ok, c.want, c.ok)
		}
	}
}

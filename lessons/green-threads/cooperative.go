package greenthreads

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var (
	claimStarves = lab.Claim{
		Claim:    "When a task never yields and nothing preempts it, every other task on its thread waits for as long as it runs.",
		Expected: "the heartbeat's longest gap about as long as the spinner's whole run",
	}
	claimYield = lab.Claim{
		Claim:    "A task that yields now and then lets the others run: the stall is bounded by the work between two yields.",
		Expected: "the longest gap of each fifth of the spin at most about the heartbeat's tick plus two stretches of work between yields (one to come due, one to get the thread back after its own write)",
	}
	claimPreempt = lab.Claim{
		Claim:    "Go's runtime preempts a goroutine that has run too long, typically after about 10 ms, so the heartbeat keeps going even though the spinner never yields.",
		Expected: "gaps of about 10–20 ms, typically (the middle half of them); and in every fifth of the spin the longest gap about 20 ms at most, however long the spinner runs",
	}
)

// coopMode is one of the three settings of the cooperative experiment.
type coopMode struct {
	key, label, short string
	metric            string   // the last word of its metrics' keys
	env               []string // added to the worker's environment
}

var coopModes = []coopMode{
	{"off", "preemption off", "off", "preemption_off", []string{"GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1"}},
	{"yield", "yields every K", "yield", "yielding", []string{"GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1"}},
	{"on", "preemption on", "on", "preemption_on", []string{"GOMAXPROCS=1"}},
}

// coopConditional are the metrics a run has only when heartbeats came
// around the spin (gaps during it) or with preemption on (the ratio).
var coopConditional = []string{
	"heartbeat.gap_during_spin.preemption_off", "heartbeat.gap_during_spin.yielding", "heartbeat.gap_during_spin.preemption_on",
	"heartbeat.longest_gap.off_over_on",
}

// leadMs is how long the heartbeat ticks alone before and after the spin.
const leadMs = 80

func cooperative() *lab.Experiment {
	return &lab.Experiment{
		ID:     "cooperative",
		Lesson: Slug,
		Title:  "A task that never yields",
		Summary: "A Go process with one thread on one CPU runs two goroutines: a heartbeat that wakes every few milliseconds, and a spinner " +
			"that computes without pause. It runs three times: with the runtime's preemption switched off (GODEBUG=asyncpreemptoff=1), " +
			"with preemption still off but the spinner yielding (runtime.Gosched) every K rounds, as a cooperative task must, and with preemption on. The gaps between heartbeats show who got the CPU.",
		Params: []lab.Param{
			lab.Int("spin", "Spinner runs for", 1000, 100, 5000,
				"How long the spinner computes, calibrated on this CPU before each run.").WithUnit("ms").WithQuick(300),
			lab.Int("tick", "Heartbeat every", 2, 1, 50, "How often the heartbeat wants to run.").WithUnit("ms"),
			lab.Int("every", "Yield every K rounds", 1_000_000, 1_000, 1_000_000_000,
				"In the second run, the spinner calls runtime.Gosched after this many rounds of its loop (a round is a few ns)."),
		},
		Claims:      []lab.Claim{claimStarves, claimYield, claimPreempt},
		Predictions: cooperativePredictions,
		Charts: []lab.Chart{
			{ID: "gaps", Kind: "line", Title: "Gaps between heartbeats", X: "ms since the spinner started", Y: "gap (ms)", LogY: true,
				Note: "Each step spans the time between two heartbeats, at the height of that gap: a long, high step is a heartbeat kept waiting."},
			{ID: "timeline", Kind: "lanes", Title: "Who had the CPU", X: "ms since the spinner started",
				Note: "Two lanes per run: when the spinner ran, and whether the heartbeat came on time or late (a gap of more than three ticks). off = preemption off, yield = yields every K, on = preemption on."},
		},
		Tables: []lab.Table{{ID: "runs", Title: "The three runs, as each worker process saw itself", Columns: []lab.Column{
			{Key: "mode", Label: "Run"}, {Key: "godebug", Label: "GODEBUG"}, {Key: "procs", Label: "GOMAXPROCS"}, {Key: "cpu", Label: "CPU"},
			{Key: "spin", Label: "Spinner ran (ms)"}, {Key: "yields", Label: "Yields"}, {Key: "beats", Label: "Heartbeats while it ran"},
			{Key: "longest", Label: "Longest gap (ms)"},
		}}},
		Conditional: coopConditional,
		Limit:       90 * time.Second,
		Run:         runCooperative,
		Workers: map[string]func([]string) int{
			"spin": spinWorker,
		},
	}
}

// coopRun is what one worker reported.
type coopRun struct {
	ready       workerMsg
	beats       []float64 // heartbeat times, ms on the worker's clock
	t0, t1      float64   // the spinner's start and end
	yields      int64
	longest     float64   // longest gap, ms
	during      []float64 // gaps that ended while the spinner ran or just after
	beatsDuring int
}

func (r coopRun) spinMs() float64 { return r.t1 - r.t0 }

func runCooperative(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	cpu := cpus[len(cpus)-1]
	tick := p.Int("tick")
	late := max(3*float64(tick), float64(tick)+4)
	out.Mark("gaps", 0, "spinner starts")
	runs := map[string]coopRun{}
	for i, m := range coopModes {
		out.Progress(m.label, i, len(coopModes))
		r, err := runWorker(ctx, m, cpu, p, late, out)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", m.label, err)
		}
		runs[m.key] = r
		if i == 0 {
			out.Mark("gaps", r.spinMs(), "spinner ends")
		}
		yields := any(r.yields)
		if m.key != "yield" {
			yields = "–"
		}
		out.Row("runs", m.key, map[string]any{
			"mode": m.label, "godebug": orDash(r.ready.GODEBUG), "procs": r.ready.Procs, "cpu": r.ready.CPU,
			"spin": r.spinMs(), "yields": yields, "beats": r.beatsDuring, "longest": r.longest,
		})
	}
	out.Progress("done", len(coopModes), len(coopModes))
	metrics, claims := judgeCooperative(coopMeasured{runs: runs, every: p.Int("every"), tick: tick, load: out.Load()})
	out.Result(metrics, claims)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// runWorker starts one worker, follows its report, and draws its
// heartbeats as they come.
func runWorker(ctx context.Context, m coopMode, cpu int, p lab.Params, late float64, out *lab.Emitter) (coopRun, error) {
	var r coopRun
	cmd, err := lab.Worker(ctx, "cooperative", "spin", m.key, strconv.Itoa(cpu), strconv.Itoa(p.Int("spin")),
		strconv.Itoa(p.Int("tick")*1000), strconv.Itoa(p.Int("every")), strconv.Itoa(leadMs))
	if err != nil {
		return r, err
	}
	cmd.Env = append(os.Environ(), m.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := lab.Start(cmd); err != nil {
		return r, fmt.Errorf("start worker: %w", err)
	}
	d := newDrawer(out, m, late)
	sc := bufio.NewScanner(stdout)
	started := false
	for sc.Scan() {
		var msg workerMsg
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			// A lost line may be a lost heartbeat: a gap that never was.
			cmd.Process.Kill()
			cmd.Wait()
			return r, fmt.Errorf("the worker sent %q, which is not a report: %w", sc.Text(), err)
		}
		switch msg.E {
		case "ready":
			r.ready = msg
			out.Log(fmt.Sprintf("%s: worker on CPU %d, GOMAXPROCS %d, GODEBUG %q; one round of the spinner takes %.2f ns, so %d rounds make %d ms.",
				m.label, msg.CPU, msg.Procs, msg.GODEBUG, msg.NsPerIter, msg.Iters, p.Int("spin")))
		case "beat":
			r.beats = append(r.beats, msg.T)
			if started {
				d.beat(msg.T)
			}
		case "start":
			started = true
			r.t0 = msg.T
			d.begin(msg.T, r.beats)
		case "spin":
			r.t1, r.yields = msg.T1, msg.Yields
			r.t0 = msg.T0
		}
	}
	serr := sc.Err()
	if serr != nil {
		cmd.Process.Kill()
	}
	werr := cmd.Wait()
	d.end(r.t0, r.t1)
	if serr != nil {
		return r, fmt.Errorf("reading the worker's report: %w", serr)
	}
	if werr != nil {
		return r, fmt.Errorf("worker: %w", werr)
	}
	if !started || r.t1 == 0 {
		return r, fmt.Errorf("the worker ended before its spinner ran")
	}
	r.measure(float64(p.Int("tick")))
	return r, nil
}

// measure finds the longest gap and the gaps that overlap the spinner.
// The spinner's end is read just after its loop, and reading the clock is
// a function call: a preemption request that waited for the loop to end
// fires right there, so a heartbeat can run a moment before the end is
// read. Within one tick of the end counts as after the spin.
func (r *coopRun) measure(tick float64) {
	end := r.t1 - tick
	for i := 1; i < len(r.beats); i++ {
		a, b := r.beats[i-1], r.beats[i]
		gap := b - a
		r.longest = max(r.longest, gap)
		if b > r.t0 && a < end {
			r.during = append(r.during, gap)
		}
		if b > r.t0 && b < end {
			r.beatsDuring++
		}
	}
}

// drawer turns heartbeats into chart events: a step per gap (a series
// sent at most ten times a second) and spans for the timeline.
type drawer struct {
	out      *lab.Emitter
	m        coopMode
	late     float64
	t0       float64 // spinner start, the zero of both charts
	prev     float64 // last heartbeat
	runStart float64 // first heartbeat of the current on-time stretch
	gaps     *lab.Series
}

func newDrawer(out *lab.Emitter, m coopMode, late float64) *drawer {
	return &drawer{out: out, m: m, late: late, prev: -1, gaps: out.Series("gaps", m.label)}
}

// begin is called when the spinner starts, with the beats so far.
func (d *drawer) begin(t0 float64, beats []float64) {
	d.t0 = t0
	for _, b := range beats {
		d.beat(b)
	}
}

func (d *drawer) beat(t float64) {
	if d.prev < 0 {
		d.prev, d.runStart = t, t
		return
	}
	// A flat step across the gap, at the gap's height: the chart then
	// shows for how long, and when, the heartbeat was kept waiting.
	gap := t - d.prev
	d.gaps.Add(d.prev-d.t0, gap)
	d.gaps.Add(t-d.t0, gap)
	if gap > d.late {
		if d.prev > d.runStart {
			d.out.Span("timeline", d.m.short+": beats", d.runStart-d.t0, d.prev-d.t0, "on time")
		}
		d.out.Span("timeline", d.m.short+": beats", d.prev-d.t0, t-d.t0, "late")
		d.runStart = t
	}
	d.prev = t
}

// end draws what is left, and the spinner's own span last, so that the
// timeline's colours come out the same in every run.
func (d *drawer) end(t0, t1 float64) {
	d.gaps.Flush()
	if d.prev > d.runStart {
		d.out.Span("timeline", d.m.short+": beats", d.runStart-d.t0, d.prev-d.t0, "on time")
	}
	if t1 > t0 {
		d.out.Span("timeline", d.m.short+": spinner", t0-d.t0, t1-d.t0, "spinning")
	}
}

// cooperativePredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var cooperativePredictions = []lab.Prediction{
	{Claim: 0, Question: "With preemption off, how long is the heartbeat's longest gap while the spinner runs?", Kind: lab.PredictNumber, Unit: "ms", Min: 0.1, Max: 100000, Log: true, Key: "heartbeat.longest_gap.preemption_off"},
	{Claim: 1, Question: "When the spinner yields every K iterations, how long is the longest gap?", Kind: lab.PredictNumber, Unit: "ms", Min: 0.01, Max: 100000, Log: true, Key: "heartbeat.longest_gap.yielding"},
	{Claim: 2, Question: "With Go's preemption on, how long is the longest gap?", Kind: lab.PredictNumber, Unit: "ms", Min: 0.01, Max: 100000, Log: true, Key: "heartbeat.longest_gap.preemption_on"},
}

package contextswitching

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var (
	claimInvoluntary = lab.Claim{
		Claim:    "With more runnable threads than CPUs, the kernel keeps switching them: many involuntary context switches.",
		Expected: "at least 5× the involuntary switches of one thread per CPU, round by round, beyond the spread of the rounds",
	}
	claimLostThroughput = lab.Claim{
		Claim:    "Those extra switches cost throughput: a clear loss, 5% or more.",
		Expected: "one thread per CPU gets at least 1/0.95 (1.053×) the work per second of K threads, round by round, beyond the spread of the rounds",
	}
)

func switchCount() *lab.Experiment {
	return &lab.Experiment{
		ID:     "switch-count",
		Lesson: Slug,
		Title:  "Too many threads for the CPUs",
		Summary: "The same amount of pure computation is done twice on the same CPUs: once by one thread per CPU, once by K threads " +
			"that have to share them. The kernel's own counters say how often it switched; the clock says how much work got done per second. " +
			"Each setting runs five rounds, alternating, so the spread between rounds shows the noise.",
		Params: []lab.Param{
			lab.Int("threads", "Threads that contend (K)", 8, 2, 64, "How many threads share the CPUs in the contended runs; more than the CPUs chosen.").PerCPU(0, 4).WithQuick(4),
			lab.Int("cpus", "CPUs to use", 1, 1, 64, "How many CPUs both settings may use; more than this machine has means all of them."),
			lab.Int("work", "Work per round", 600, 50, 3000, "CPU time one thread per CPU needs for a round.").WithUnit("ms").WithQuick(60),
		},
		Claims:      []lab.Claim{claimInvoluntary, claimLostThroughput},
		Predictions: switchCountPredictions,
		Charts: []lab.Chart{
			{ID: "switches", Kind: "line", Title: "Involuntary switches as they happen", X: "ms since the round started", Y: "involuntary switches (cumulative)",
				Note: "Read every 50 ms from /proc/self/task/<tid>/status of the working threads."},
			{ID: "throughput", Kind: "bars", Title: "Work done per second", Y: "million work units per second",
				Note: "Median of five rounds; whiskers span the slowest and fastest round."},
		},
		Limit: 60 * time.Second,
		// Go's own preemption would park a locked thread every 10 ms and
		// turn the kernel's involuntary switches into voluntary ones; with
		// it off, only the kernel decides who runs.
		Child: func(lab.Params) lab.ChildSpec { return lab.ChildSpec{GODEBUG: "asyncpreemptoff=1"} },
		Run:   runSwitchCount,
	}
}

// countRounds is how many rounds each setting of switch-count runs.
const countRounds = 5

func runSwitchCount(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	nCPU := p.Int("cpus")
	if nCPU > len(allowed) {
		out.Log(fmt.Sprintf("Asked for %d CPUs; this machine lets us use %d, so all %d are used.", nCPU, len(allowed), len(allowed)))
		nCPU = len(allowed)
	}
	cpus := allowed[:nCPU]
	k := p.Int("threads")
	if k <= nCPU {
		out.Log(fmt.Sprintf("%d threads on %d CPUs do not contend: each can have a CPU. Choose more threads than CPUs to see contention.", k, nCPU))
	}

	// Sampling the counters and writing events stays off the CPUs under
	// test when there are others, or its wake-ups would be counted as the
	// background of one thread per CPU.
	restore, err := probe.KeepOff(cpus...)
	if err != nil {
		return err
	}
	defer restore()

	out.Progress("calibrating the work unit", 0, 1)
	perMs, err := calibrateWork(cpus[0])
	if err != nil {
		return err
	}
	units := int64(float64(p.Int("work")) * perMs * float64(nCPU))
	out.Log(fmt.Sprintf("One work unit is %d rounds of integer mixing; a thread does about %.0f units per ms here. Each round is %d units.", unitIters, perMs, units))

	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, k+2)) // every thread gets a P: the kernel, not Go, decides who runs
	defer runtime.GOMAXPROCS(prev)

	m := countMeasured{k: k, nCPU: nCPU, units: units, labels: [2]string{
		fmt.Sprintf("%d thread(s), one per CPU", nCPU),
		fmt.Sprintf("%d threads on %d CPU(s)", k, nCPU),
	}}
	threads := [2]int{nCPU, k}
	step := 0
	for r := range countRounds {
		for i, label := range m.labels {
			out.Progress(fmt.Sprintf("round %d of %d: %s", r+1, countRounds, label), step, countRounds*len(m.labels))
			step++
			var series *lab.Series
			if r == 0 {
				series = out.Series("switches", label)
			}
			gauge := lab.NewThrottle(0)
			res, err := countOnce(ctx, threads[i], cpus, units, func(ms float64, inv int64, final bool) {
				if series != nil {
					series.Add(ms, float64(inv))
				}
				if gauge.Due() || final {
					out.Gauge("Involuntary switches, "+label, float64(inv), "")
				}
			})
			if series != nil {
				series.Flush()
			}
			if err != nil {
				return err
			}
			m.rounds[i] = append(m.rounds[i], res)
		}
	}
	out.Progress("done", countRounds*len(m.labels), countRounds*len(m.labels))

	base, cont := m.throughput(0), m.throughput(1)
	out.Bar("throughput", "", m.labels[0], base.P50, base.Min, base.Max)
	out.Bar("throughput", "", m.labels[1], cont.P50, cont.Min, cont.Max)
	m.load = out.Load()
	metrics, claims := switchCountResult(m)
	out.Result(metrics, claims)
	return nil
}

// switchCountPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var switchCountPredictions = []lab.Prediction{
	{Claim: 0, Question: "With more threads than CPUs, how many involuntary switches does one round take?", Kind: lab.PredictNumber, Unit: "per round", Min: 1, Max: 10000000, Log: true, Key: "involuntary_switches.contended"},
	{Claim: 1, Question: "Do those extra switches cost throughput?", Kind: lab.PredictChoice, Choices: []string{"a clear loss (5% or more)", "hardly any"}, Answer: lossAnswer},
}

// lossAnswer says whether the contended threads did 5% less work a second.
func lossAnswer(ms []lab.Metric) (string, bool) {
	one, ok1 := lab.FindMetric(ms, "throughput.one_per_cpu")
	many, ok2 := lab.FindMetric(ms, "throughput.contended")
	if !ok1 || !ok2 || one.Value <= 0 {
		return "", false
	}
	if many.Value/one.Value <= 1-clearLoss {
		return "a clear loss (5% or more)", true
	}
	return "hardly any", true
}

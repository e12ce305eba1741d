package processesvsthreads

import (
	"context"
	"fmt"
	"time"

	"conclab/internal/lab"
)

// Claims of shared-counter, as the lesson states them.
var (
	claimLost = lab.Claim{
		Claim:    "Threads that add to one shared counter without a lock lose updates, a different number each time.",
		Expected: "fewer counted than added in the middle half of the rounds, and not the same count every round",
	}
	claimGuarded = lab.Claim{
		Claim:    "With a mutex, or with an atomic add, no update is lost — and each costs time.",
		Expected: "every update counted in every round, both ways; each dearer per update than no lock, round by round",
	}
	claimMessages = lab.Claim{
		Claim:    "Processes that send their updates through a pipe to the one process that owns the counter need no lock and lose none.",
		Expected: "every update sent is counted, in every round",
	}
	claimDetector = lab.Claim{
		Claim:    "Go's race detector reports the unguarded increments as a data race.",
		Expected: "a DATA RACE report from a race-enabled build of the same increment (where a Go toolchain that can build one is on this server)",
	}
)

// Keys of shared-counter's figures that the page and the predictions name.
const (
	keyLostShare = "lost.share.no_lock"
	keyRaceFound = "race_detector.reports"
)

// counterWays are the ways the counter is kept, in the order every round
// runs them.
var counterWays = []struct{ key, label string }{
	{"no_lock", "threads, no lock"},
	{"mutex", "threads, a mutex"},
	{"atomic", "threads, an atomic add"},
	{"pipe", "processes, a pipe to one owner"},
}

func sharedCounter() *lab.Experiment {
	return &lab.Experiment{
		ID:     "shared-counter",
		Lesson: Slug,
		Title:  "One counter, many hands",
		Summary: "OS threads of one process add 1 to the same counter in memory, many times each: first with nothing to keep them apart, then holding a mutex, then with an atomic add. " +
			"Then as many processes send the same number of updates, one byte each, through a pipe to the one process that owns the counter. " +
			"Every round runs all four; where a Go toolchain can build with the race detector, a small program making the same unguarded increments is built with -race and run.",
		Params: []lab.Param{
			lab.Int("threads", "Threads (and processes)", 4, 2, 16, "How many threads add to the counter, and how many processes send updates.").PerCPU(1, 4),
			lab.Int("updates", "Updates per round", 8_000_000, 100_000, 40_000_000, "Updates all threads (or processes) make together in a round, shared evenly. Each thread's share must take it longer than the moment it takes to start them all, or they hardly meet.").WithQuick(2_000_000),
			lab.Int("rounds", "Rounds", 5, 3, 10, "Each round runs the four ways in turn; the lost updates of each round are shown.").WithQuick(3),
			lab.Bool("race", "Race detector", true, "Build a small program doing the same unguarded increments with go build -race and run it. The first build on a machine compiles a race-enabled standard library, which can take a minute; later ones reuse Go's build cache.").WithQuick(false),
		},
		Claims:      []lab.Claim{claimLost, claimGuarded, claimMessages, claimDetector},
		Predictions: counterPredictions,
		Conditional: []string{keyRaceFound},
		Charts: []lab.Chart{
			{ID: "lost", Kind: "line", Title: "Updates lost without a lock, round by round", X: "round", Y: "updates lost",
				Note: "Updates made minus updates counted, in each round, for the threads with no lock. The other three ways lose none: their lines lie on zero."},
			{ID: "cost", Kind: "bars", Title: "Time per update", Y: "ns per update", LogY: true,
				Note: "Wall time of the round's updates ÷ the updates, median of the rounds; whiskers from the fastest to the slowest round. For the pipe, from the signal to start until the owner has counted the last byte."},
		},
		Tables: []lab.Table{
			{ID: "rounds", Title: "Counted, round by round", Columns: []lab.Column{
				{Key: "round", Label: "Round"}, {Key: "made", Label: "Updates made"}, {Key: "no_lock", Label: "Counted, no lock"}, {Key: "lost", Label: "Lost"},
				{Key: "mutex", Label: "Counted, mutex"}, {Key: "atomic", Label: "Counted, atomic"}, {Key: "pipe", Label: "Counted, pipe"},
			}},
			{ID: "race", Title: "What the race detector said", Columns: []lab.Column{{Key: "line", Label: "Report"}}},
		},
		Limit:   150 * time.Second, // a first race-enabled build can take a minute on a small machine
		Run:     runSharedCounter,
		Workers: map[string]func([]string) int{"send": sendWorker},
	}
}

// counterPredictions are what a learner may guess before a run.
var counterPredictions = []lab.Prediction{
	{Claim: 0, Question: "Threads add 1 to a shared counter without a lock. What share of the updates is lost?", Kind: lab.PredictNumber, Unit: "%", Min: 0.001, Max: 100, Log: true, Key: keyLostShare},
	{Claim: 1, Question: "With a mutex, how many updates are lost?", Kind: lab.PredictChoice, Choices: []string{"none", "some"}, Answer: guardedAnswer},
}

// guardedAnswer reads from the result whether the mutex lost any update.
func guardedAnswer(ms []lab.Metric) (string, bool) {
	m, ok := lab.FindMetric(ms, "lost.mutex")
	if !ok {
		return "", false
	}
	if m.Value > 0 {
		return "some", true
	}
	return "none", true
}

func runSharedCounter(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	k, rounds := p.Int("threads"), p.Int("rounds")
	per := max(1, p.Int("updates")/k)
	m := counterMeasured{threads: k, perThread: per, made: int64(k * per)}
	out.Log(fmt.Sprintf("%d threads, each adding 1 to the counter %d times: %d updates a round. Each update is a load, an add and a store, made through a function call so that the compiler cannot keep the counter in a register.", k, per, m.made))
	steps := rounds*len(counterWays) + 1
	for r := range rounds {
		row := map[string]any{"round": r + 1, "made": m.made}
		for i, w := range counterWays {
			out.Progress(fmt.Sprintf("round %d of %d: %s", r+1, rounds, w.label), r*len(counterWays)+i, steps)
			var res counterRound
			var err error
			if w.key == "pipe" {
				res, err = pipeRound(ctx, k, per)
			} else {
				res, err = threadRound(ctx, k, per, increments[w.key])
			}
			if err != nil {
				return fmt.Errorf("%s: %w", w.label, err)
			}
			m.add(w.key, res)
			row[w.key] = res.counted
			if w.key == "no_lock" {
				row["lost"] = m.made - res.counted
			}
			out.Point("lost", w.label, float64(r+1), float64(m.made-res.counted))
		}
		out.Row("rounds", fmt.Sprint(r+1), row)
	}
	for _, w := range counterWays {
		s := lab.Summarize(m.nsPer(w.key))
		out.Bar("cost", "", w.label, s.P50, s.Min, s.Max)
	}
	out.Progress("the race detector", steps-1, steps)
	m.race = raceCheck(ctx, p.Bool("race"), out)
	out.Progress("done", steps, steps)
	m.load = out.Load()
	out.Result(counterMetrics(m), judgeCounter(m))
	return nil
}

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
		Expected: "fewer counted than made in most rounds, not the same count every round",
	}
	claimGuarded = lab.Claim{
		Claim:    "With a mutex, or with an atomic add, no update is lost — and each costs time.",
		Expected: "every update counted, both ways; each dearer per update than no lock",
	}
	claimMessages = lab.Claim{
		Claim:    "Processes that send their updates through a pipe to the one process that owns the counter need no lock and lose none.",
		Expected: "every update sent is counted, in every round",
	}
	claimDetector = lab.Claim{
		Claim:    "Go's race detector reports the unguarded increments as a data race.",
		Expected: "a DATA RACE report (where Go can build with -race here)",
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
		Summary: "OS threads add 1 to one counter in memory, unguarded, then with a mutex, then with an atomic add; then processes send the same updates, a byte each, " +
			"through a pipe to the process that owns the counter. Where Go can build with -race, the unguarded increments are run under the race detector.",
		Params: []lab.Param{
			lab.Int("threads", "Threads (and processes)", 4, 2, 16, "Threads adding to the counter; as many processes send.").PerCPU(1, 4),
			lab.Int("updates", "Updates per round", 8_000_000, 100_000, 40_000_000, "Updates made in a round, shared evenly: enough for the threads to meet.").WithQuick(2_000_000),
			lab.Int("rounds", "Rounds", 5, 3, 10, "Each round runs the four ways in turn.").WithQuick(3),
			lab.Bool("race", "Race detector", true, "Build the unguarded increments with go build -race and run them (a first build can take a minute).").WithQuick(false),
		},
		Claims:      []lab.Claim{claimLost, claimGuarded, claimMessages, claimDetector},
		Predictions: counterPredictions,
		Conditional: []string{keyRaceFound},
		Charts: []lab.Chart{
			{ID: "lost", Kind: "line", Title: "Updates lost without a lock, round by round", X: "round", Y: "updates lost",
				Note: "Updates made minus updates counted; the guarded ways' lines lie on zero."},
			{ID: "cost", Kind: "bars", Title: "Time per update", Y: "ns per update", LogY: true,
				Note: "Wall time ÷ updates, median of the rounds; whiskers: fastest and slowest round."},
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

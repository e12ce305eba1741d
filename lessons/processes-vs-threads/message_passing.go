package processesvsthreads

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

var (
	claimKernelSlower = lab.Claim{
		Claim:    "Passing messages through the kernel (a pipe or a socket) is slower than passing them through shared memory.",
		Expected: "pipe and socket: a longer round trip and fewer messages per second than shared memory, a channel or a mutex, beyond the noise of both " + lab.NeedsTwoCPUs,
	}
	claimShmFast = lab.Claim{
		Claim:    "Shared memory between processes is fast too: about as fast as memory shared by threads, or faster.",
		Expected: "shared memory between processes no more than a quarter slower than the same ring shared by two threads of one process, in round trips and in messages per second",
	}
)

// A way to pass messages in message-passing.
type transport struct {
	key, label string
	per        int  // round trips per timed batch
	pinned     bool // run the two sides on CPUs of their own
	throughput func(ctx context.Context, size int, dur time.Duration, pl placement) (int64, time.Duration, error)
	// latency times round trips in batches of per for dur (see
	// pingpong.TimeFor) and returns ns per hand-off, one value per batch:
	// a round trip is two hand-offs, there and back.
	latency func(ctx context.Context, size, per int, dur time.Duration, tick pingpong.Tick, pl placement) ([]float64, error)
}

// placement says where the two sides of a transport run: the sending side
// on CPU a, the answering side on CPU b (-1: wherever the kernel likes).
//
// Each way is measured where it works best. Left to itself, the kernel
// tends to run a thread it wakes on the CPU of the thread that woke it:
// ideal for a pipe or a socket, where the sender sleeps while the receiver
// runs, and on a virtual machine far quicker than waking another CPU. But
// two sides that wait by spinning need to run at the same time, so the
// shared-memory ways get a CPU each.
type placement struct{ a, b int }

var transports = []transport{
	{key: "pipe", label: "pipe between processes", per: 50,
		throughput: func(ctx context.Context, size int, d time.Duration, pl placement) (int64, time.Duration, error) {
			return kernelThroughput(ctx, false, size, d, pl)
		},
		latency: func(ctx context.Context, size, per int, d time.Duration, tick pingpong.Tick, pl placement) ([]float64, error) {
			return kernelLatency(ctx, false, size, per, d, tick, pl)
		}},
	{key: "socket", label: "unix socket between processes", per: 50,
		throughput: func(ctx context.Context, size int, d time.Duration, pl placement) (int64, time.Duration, error) {
			return kernelThroughput(ctx, true, size, d, pl)
		},
		latency: func(ctx context.Context, size, per int, d time.Duration, tick pingpong.Tick, pl placement) ([]float64, error) {
			return kernelLatency(ctx, true, size, per, d, tick, pl)
		}},
	{key: "shared_memory", label: "shared memory between processes", per: 500, pinned: true, throughput: shmThroughput, latency: shmLatency},
	// Goroutines are not pinned: the Go runtime decides which thread, and
	// so which CPU, runs each.
	{key: "channel", label: "channel between goroutines", per: 500,
		throughput: func(ctx context.Context, size int, d time.Duration, _ placement) (int64, time.Duration, error) {
			if size == 64 {
				return chanThroughput[msg64](ctx, d)
			}
			return chanThroughput[msg4k](ctx, d)
		},
		latency: func(ctx context.Context, size, per int, d time.Duration, tick pingpong.Tick, _ placement) ([]float64, error) {
			if size == 64 {
				return chanLatency[msg64](ctx, per, d, tick)
			}
			return chanLatency[msg4k](ctx, per, d, tick)
		}},
	{key: "mutex", label: "mutex-guarded memory between threads", per: 500, pinned: true, throughput: mutexThroughput, latency: mutexLatency},
	// The shared-memory ring's own code between two threads: what the
	// second process costs, with nothing else changed.
	{key: "thread_ring", label: "the same ring between threads", per: 500, pinned: true, throughput: ringThroughput, latency: ringLatency},
}

// nsPerHandOffToRTT turns pingpong's ns per hand-off into µs per round
// trip, the unit this experiment shows.
const nsPerHandOffToRTT = 2 / 1e3

// eachRound makes one round trip into what pingpong times: n of them.
func eachRound(roundTrip func() error) func(n int) error {
	return func(n int) error {
		for range n {
			if err := roundTrip(); err != nil {
				return err
			}
		}
		return nil
	}
}

// rounds is how many times each way is measured, each for a share of the
// time, the ways in turn: throughput in rounds, then round trips in
// rounds. The spread of the rounds' ratios is the noise a comparison must
// beat, and a slow spell of the machine, or its moving the two CPUs
// closer together or further apart, falls on every way of a round alike.
const rounds = 7

func messagePassing() *lab.Experiment {
	return &lab.Experiment{
		ID:     "message-passing",
		Lesson: Slug,
		Title:  "Talking: through the kernel or through shared memory",
		Summary: "Two parties pass fixed-size messages six ways: a pipe, a unix socket and a shared memory ring between two processes, " +
			"a channel between two goroutines, a mutex-guarded buffer and the same ring between two OS threads. Each way is measured twice, " +
			"in seven rounds, the ways taking turns: as many messages one way as it can carry in a fixed time, then one message there and back.",
		Params: []lab.Param{
			lab.Choice("size", "Message size", "64", []string{"64", "4096"}, "Bytes per message: a small message shows the cost of each hand-over, a page-sized one the cost of copying.").WithUnit("bytes"),
			lab.Int("ms", "Time per measurement", 300, 50, 2000, "How long each way is measured, once for throughput and once for round trips.").WithUnit("ms").WithQuick(50),
		},
		Claims:      []lab.Claim{claimKernelSlower, claimShmFast},
		Predictions: messagePredictions,
		Charts: []lab.Chart{
			{ID: "throughput", Kind: "bars", Title: "Messages per second, one way", Y: "messages per second", LogY: true,
				Note: "Messages that arrived ÷ the time from the first send until the receiver had them all: the median of seven rounds, whiskers from the slowest to the fastest."},
			{ID: "latency", Kind: "bars", Title: "Round trip: one message there and back", Y: "µs per round trip", LogY: true,
				Note: "Median of the timed batches; whiskers from the 10th to the 90th percentile. Pipes and sockets run where the kernel puts them; " +
					"the two sides of shared memory and of the mutex run on CPUs of their own (see the run log)."},
			{ID: "batches", Kind: "line", Title: "Round trips, batch by batch", X: "batch", Y: "µs per round trip", LogY: true},
		},
		Limit: 90 * time.Second,
		Run:   runMessagePassing,
		Workers: map[string]func([]string) int{
			"peer": peerWorker,
		},
	}
}

func runMessagePassing(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	size, err := strconv.Atoi(p.String("size"))
	if err != nil {
		return fmt.Errorf("message size %q is not a number", p.String("size"))
	}
	dur := time.Duration(p.Int("ms")) * time.Millisecond
	cpus, err := probe.AllowedCPUs()
	if err != nil {
		return fmt.Errorf("reading the CPUs this run may use: %w", err)
	}
	pl := placement{a: -1, b: -1}
	usable := min(len(cpus), probe.ReadHost().EffectiveCPUs())
	if usable < 2 {
		spinFor = 0
		out.Log("Only one CPU is usable here, so the two sides must take turns on it: a side that waits sleeps at once instead of spinning, and every figure includes the switches.")
	} else {
		pl = placement{a: cpus[0], b: cpus[1]}
		out.Log(fmt.Sprintf("Pipes and sockets run where the kernel puts them: it usually keeps the two sides on one CPU, which suits them best. "+
			"The shared-memory ways, whose waiting side spins, get a CPU each: CPU %d sends, CPU %d answers; a side that waits spins for up to %s, then sleeps until woken. "+
			"Goroutines go where the Go runtime puts them.", pl.a, pl.b, spinFor))
	}
	m := msgMeasured{size: size, dur: dur, cpus: usable}
	steps := 2 * rounds
	where := func(t transport) placement {
		if t.pinned {
			return pl
		}
		return placement{a: -1, b: -1}
	}
	// Throughput first, then round trips: both in rounds, the ways taking
	// turns, so that the claims can compare them round by round (lab.Paired).
	rates := make([][]float64, len(transports))
	totals := make([]int64, len(transports))
	for r := range rounds {
		out.Progress(fmt.Sprintf("throughput, round %d of %d", r+1, rounds), r, steps)
		for i, t := range transports {
			n, elapsed, err := t.throughput(ctx, size, dur/3, where(t))
			if err != nil {
				return stopped(ctx, t.label, err)
			}
			rates[i] = append(rates[i], float64(n)/elapsed.Seconds())
			totals[i] += n
			out.Gauge("Messages, "+t.label, float64(totals[i]), "")
		}
	}
	for i, t := range transports {
		rate := lab.Summarize(rates[i])
		out.Bar("throughput", "", t.label, rate.P50, rate.Min, rate.Max)
	}
	trips := make([][]float64, len(transports))   // µs per round trip, batch after batch
	medians := make([][]float64, len(transports)) // each round's median of them
	for r := range rounds {
		out.Progress(fmt.Sprintf("round trips, round %d of %d", r+1, rounds), rounds+r, steps)
		for i, t := range transports {
			tick := pingpong.LiveAfter(out, "batches", t.label, nsPerHandOffToRTT, len(trips[i]))
			vals, err := t.latency(ctx, size, t.per, dur/rounds, tick, where(t))
			if err != nil {
				return stopped(ctx, t.label, err)
			}
			for j := range vals {
				vals[j] *= nsPerHandOffToRTT
			}
			trips[i] = append(trips[i], vals...)
			medians[i] = append(medians[i], lab.Summarize(vals).P50)
		}
	}
	for i, t := range transports {
		s := lab.Summarize(trips[i])
		out.Bar("latency", "", t.label, s.P50, s.P10, s.P90)
		m.ways = append(m.ways, measured{key: t.key, label: t.label, per: t.per, rate: lab.Summarize(rates[i]), rates: rates[i], latency: s, trips: medians[i]})
	}
	out.Progress("done", steps, steps)
	m.load = out.Load()
	out.Result(msgMetrics(m), judgeMessages(m))
	return nil
}

func stopped(ctx context.Context, label string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %w", label, err)
}

// messagePredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var messagePredictions = []lab.Prediction{
	{Claim: 0, Question: "One round trip through a pipe between two processes takes about how long?", Kind: lab.PredictNumber, Unit: "µs", Min: 0.01, Max: 10000, Log: true, Key: "round_trip.pipe"},
	{Claim: 1, Question: "One round trip through memory shared by two processes takes about how long?", Kind: lab.PredictNumber, Unit: "µs", Min: 0.001, Max: 10000, Log: true, Key: "round_trip.shared_memory"},
}

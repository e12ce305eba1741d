package processesvsthreads

import (
	"fmt"
	"time"

	"conclab/internal/lab"
)

// msgMeasured is what message-passing measured: every way it passed
// messages, with the size and time it was asked for.
type msgMeasured struct {
	size int           // bytes per message
	dur  time.Duration // time per measurement
	ways []measured
	cpus int      // CPUs the run could use; 0 means not known (two or more)
	load lab.Load // what other programs used of the CPUs meanwhile
}

// measured is what one way of passing messages measured.
type measured struct {
	key, label string
	per        int         // round trips per timed batch
	rate       lab.Summary // messages per second, one way, one value per round
	rates      []float64   // those rounds, in order: round i of every way was taken in the same turn
	latency    lab.Summary // µs per round trip, one value per batch
	trips      []float64   // the median µs per round trip of each round, in order, taken in turns like rates
}

// msgMetrics are the result's figures: for each way, its throughput and
// its round trip, keyed throughput.<way> and round_trip.<way>.
func msgMetrics(m msgMeasured) []lab.Metric {
	var metrics []lab.Metric
	for _, w := range m.ways {
		tp := w.rate.Metric("throughput."+w.key, "Throughput, "+w.label, "msg/s")
		tp.Note = fmt.Sprintf("%d-byte messages for %s in %d rounds, median; %.1f MiB/s", m.size, m.dur, w.rate.N, w.rate.P50*float64(m.size)/(1<<20))
		metrics = append(metrics, tp)
		l := w.latency.Metric("round_trip."+w.key, "Round trip, "+w.label, "µs")
		l.Note = fmt.Sprintf("%d batches of %d round trips", w.latency.N, w.per)
		metrics = append(metrics, l)
	}
	return metrics
}

// msgWays are the ways both claims compare, by key.
var msgWays = []string{"pipe", "socket", "shared_memory", "channel", "mutex", "thread_ring"}

// missingWay names the first way the claims need that has no usable
// measurement — none at all, no messages, or fewer round-trip batches
// than a median with a spread needs — or "" when every way has one.
func missingWay(by map[string]measured) string {
	for _, k := range msgWays {
		w, ok := by[k]
		switch {
		case !ok:
			return wayLabel(k)
		case w.rate.N == 0 || w.rate.Min <= 0 || w.latency.N < 3 || w.latency.P50 <= 0:
			return w.label
		}
	}
	return ""
}

// wayLabel is the words for a way's key.
func wayLabel(key string) string {
	for _, t := range transports {
		if t.key == key {
			return t.label
		}
	}
	return key
}

// judgeMessages holds both claims against what the six ways measured.
func judgeMessages(m msgMeasured) []lab.Claim {
	by := map[string]measured{}
	for _, w := range m.ways {
		by[w.key] = w
	}
	if miss := missingWay(by); miss != "" {
		why := fmt.Sprintf("The %s has no usable measurement (no messages, or too few timed batches), so the ways cannot be compared.", miss)
		measuredText := fmt.Sprintf("%d of %d ways measured", len(m.ways), len(msgWays))
		return []lab.Claim{
			claimKernelSlower.Judge(measuredText, lab.Inconclusive, why),
			claimShmFast.Judge(measuredText, lab.Inconclusive, why),
		}
	}
	pipe, sock, shm, ch, mu, ring := by["pipe"], by["socket"], by["shared_memory"], by["channel"], by["mutex"], by["thread_ring"]
	rtt := func(m measured) lab.Band { return lab.BandOf(m.latency, "µs") }
	// a's round trip over b's, round by round when both were taken in the
	// same rounds.
	rttRatio := func(a, b measured) lab.Band { return lab.RoundByRound(a.trips, b.trips, rtt(a), rtt(b)) }
	// The kernel's quickest way against the memory's slowest, on each measure.
	kRTT := minBy([]measured{pipe, sock}, func(m measured) float64 { return m.latency.P50 })
	mRTT := maxBy([]measured{shm, ch, mu, ring}, func(m measured) float64 { return m.latency.P50 })
	kRate := maxBy([]measured{pipe, sock}, func(m measured) float64 { return m.rate.P50 })
	mRate := minBy([]measured{shm, ch, mu, ring}, func(m measured) float64 { return m.rate.P50 })
	rttText := func(m measured) string { return micro(m.latency.P50) }
	rateText := func(m measured) string { return fmt.Sprintf("%.3g/s", m.rate.P50) }

	slowerRTT := rttRatio(kRTT, mRTT)
	fewer := rateRatio(kRate, mRate)
	m1 := fmt.Sprintf("round trip: pipe %s, socket %s vs shared memory %s, channel %s, mutex %s, ring between threads %s — the kernel's quickest (%s) against memory's slowest (%s): %s; "+
		"messages: pipe %s, socket %s vs shared memory %s, channel %s, mutex %s, ring between threads %s — the kernel's most (%s) against memory's fewest (%s): %s",
		rttText(pipe), rttText(sock), rttText(shm), rttText(ch), rttText(mu), rttText(ring), kRTT.label, mRTT.label, slowerRTT,
		rateText(pipe), rateText(sock), rateText(shm), rateText(ch), rateText(mu), rateText(ring), kRate.label, mRate.label, fewer)
	vsMutex := "in the same range as"
	switch {
	case shm.latency.P50*3 < mu.latency.P50:
		vsMutex = "even quicker than"
	case shm.latency.P50 > 3*mu.latency.P50:
		vsMutex = "though slower than"
	}
	kernelMin := kRTT.latency.P50
	vsKernel := ratio(kernelMin, shm.latency.P50) + " quicker than"
	if shm.latency.P50 >= kernelMin {
		vsKernel = "no quicker than"
	}
	nuance := fmt.Sprintf("The nuance: shared memory between two processes took %s a round trip, %s the quickest path through the kernel and %s the threads' mutex (%s). Once the region is mapped, the kernel is out of the way; what processes pay for is setting it up and agreeing on how to take turns without one program's locks.",
		rttText(shm), vsKernel, vsMutex, rttText(mu))
	// "Slower": a longer round trip and fewer messages a second (lab.More),
	// beyond the noise of both.
	dRTT := lab.Decide(slowerRTT, lab.AtLeast(lab.More), m.load)
	dRate := lab.Decide(fewer, lab.AtMost(1/lab.More), m.load)
	var why string
	switch {
	case dRTT.Verdict == lab.Differs && dRate.Verdict == lab.Differs:
		why = "The kernel's pipes and sockets were not clearly slower here on either measure, which points at a machine too busy for the spinning waits of shared memory. " + nuance
	case dRate.Verdict == lab.Differs:
		why = fmt.Sprintf("Only partly. One message at a time, the kernel is far slower; but streaming messages one way, the %s carried as many a second as the %s, or more, because a pipe or socket buffers many messages and the reader takes them in bulk, while every hand-off of shared memory waits for the other side. ",
			kRate.label, mRate.label) + nuance
	default:
		why = "Only partly: one of the shared-memory ways was not clearly quicker per round trip than the kernel here. Spinning waits suffer when the two sides cannot run at the same time. " + nuance
	}
	d1 := lab.All(dRTT, dRate)
	if m.cpus == 1 {
		// On one CPU a side that waits cannot see the other's write until
		// the kernel switches to it: every hand-off through shared memory
		// is a futex wait and wake, a trip through the kernel too.
		d1 = lab.Unable("Only one CPU is usable here, so the two sides of every way take turns on it, and a side that waits can see the other's message only after the kernel has switched to it: through shared memory too, every hand-off is a futex wait and wake in the kernel. The difference the claim is about needs two CPUs.")
	}
	c1 := claimKernelSlower.Decided(m1, d1, why)
	if c1.Verdict == lab.Holds {
		c1.Why = nuance
	}

	// The claim is about memory, so it is held against the same ring
	// between two threads: the same layout and the same code on both
	// sides, only no second process. (The threads' mutex is another way
	// of taking turns, whose streaming rate moves with how the two CPUs
	// pass its lock back and forth; it is shown beside it, not judged.)
	m2 := fmt.Sprintf("round trip: shared memory between processes %s vs the same ring between threads %s (%s); messages per second: %s vs %s (%s); the threads' mutex for comparison: %s, %s",
		rttText(shm), rttText(ring), rttRatio(shm, ring), rateText(shm), rateText(ring), rateRatio(shm, ring), rttText(mu), rateText(mu))
	// "About as fast as …, or faster": a round trip no more than about as
	// long (the rule's quarter), and about as many messages a second or
	// more.
	d2 := lab.All(
		lab.Decide(rttRatio(shm, ring), lab.AtMost(1).About(), m.load),
		lab.Decide(rateRatio(shm, ring), lab.AtLeast(1).About(), m.load),
	)
	why2 := "Shared memory between the processes was clearly slower here than the same ring between two threads, though the code on both sides is the same. Both sides wait by spinning; if one of the two processes was made to wait for a CPU, every message waited with it."
	if m.cpus == 1 {
		why2 = "On one CPU the two sides take turns, so every hand-off is a futex wait, a wake and a switch from one side to the other. Between two threads that switch stays in one address space; between two processes it changes the memory map too (lesson 3 measures what that costs), and here that was enough to make the processes clearly slower. Memory itself was not the slower part."
	}
	c2 := claimShmFast.Decided(m2, d2, why2)
	return []lab.Claim{c1, c2}
}

// rateRatio is a's messages per second over b's: round by round when
// both took turns in the same rounds, from their spreads otherwise.
func rateRatio(a, b measured) lab.Band {
	return lab.RoundByRound(a.rates, b.rates, lab.BandOf(a.rate, "msg/s"), lab.BandOf(b.rate, "msg/s"))
}

func minBy(ws []measured, f func(measured) float64) measured {
	best := ws[0]
	for _, w := range ws[1:] {
		if f(w) < f(best) {
			best = w
		}
	}
	return best
}

func maxBy(ws []measured, f func(measured) float64) measured {
	best := ws[0]
	for _, w := range ws[1:] {
		if f(w) > f(best) {
			best = w
		}
	}
	return best
}

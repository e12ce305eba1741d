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
}

// measured is what one way of passing messages measured.
type measured struct {
	key, label string
	per        int         // round trips per timed batch
	rate       float64     // messages per second, one way
	latency    lab.Summary // µs per round trip, one value per batch
}

// msgMetrics are the result's figures: for each way, its throughput and
// its round trip, keyed throughput.<way> and round_trip.<way>.
func msgMetrics(m msgMeasured) []lab.Metric {
	var metrics []lab.Metric
	for _, w := range m.ways {
		metrics = append(metrics, lab.Metric{Key: "throughput." + w.key, Name: "Throughput, " + w.label, Value: w.rate, Unit: "msg/s",
			Note: fmt.Sprintf("%d-byte messages for %s; %.1f MB/s", m.size, m.dur, w.rate*float64(m.size)/1e6)})
		l := w.latency.Metric("round_trip."+w.key, "Round trip, "+w.label, "µs")
		l.Note = fmt.Sprintf("%d batches of %d round trips", w.latency.N, w.per)
		metrics = append(metrics, l)
	}
	return metrics
}

// msgWays are the ways both claims compare, by key.
var msgWays = []string{"pipe", "socket", "shared_memory", "channel", "mutex"}

// missingWay names the first way the claims need that has no usable
// measurement — none at all, no messages, or fewer round-trip batches
// than a median with a spread needs — or "" when every way has one.
func missingWay(by map[string]measured) string {
	for _, k := range msgWays {
		w, ok := by[k]
		switch {
		case !ok:
			return wayLabel(k)
		case w.rate <= 0 || w.latency.N < 3 || w.latency.P50 <= 0:
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

// judgeMessages holds both claims against what the five ways measured.
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
	pipe, sock, shm, ch, mu := by["pipe"], by["socket"], by["shared_memory"], by["channel"], by["mutex"]
	kernelRTT := min(pipe.latency.P50, sock.latency.P50)
	memRTT := max(shm.latency.P50, ch.latency.P50, mu.latency.P50)
	kernelRate := max(pipe.rate, sock.rate)
	memRate := min(shm.rate, ch.rate, mu.rate)
	rtt := func(m measured) string { return micro(m.latency.P50) }
	rate := func(m measured) string { return fmt.Sprintf("%.3g/s", m.rate) }

	m1 := fmt.Sprintf("round trip: pipe %s, socket %s vs shared memory %s, channel %s, mutex %s; messages: pipe %s, socket %s vs shared memory %s, channel %s, mutex %s",
		rtt(pipe), rtt(sock), rtt(shm), rtt(ch), rtt(mu), rate(pipe), rate(sock), rate(shm), rate(ch), rate(mu))
	vsMutex := "in the same range as"
	switch {
	case shm.latency.P50*3 < mu.latency.P50:
		vsMutex = "even quicker than"
	case shm.latency.P50 > 3*mu.latency.P50:
		vsMutex = "though slower than"
	}
	vsKernel := ratio(kernelRTT, shm.latency.P50) + " quicker than"
	if shm.latency.P50 >= kernelRTT {
		vsKernel = "no quicker than"
	}
	nuance := fmt.Sprintf("The nuance: shared memory between two processes took %s a round trip, %s the quickest path through the kernel and %s the threads' mutex (%s). Once the region is mapped, the kernel is out of the way; what processes pay for is setting it up and agreeing on how to take turns without one program's locks.",
		rtt(shm), vsKernel, vsMutex, rtt(mu))
	var c1 lab.Claim
	switch {
	case kernelRTT > memRTT && kernelRate < memRate:
		c1 = claimKernelSlower.Judge(m1, lab.Holds, nuance)
	case kernelRTT > memRTT || kernelRate < memRate:
		c1 = claimKernelSlower.Judge(m1, lab.Differs,
			"Only partly: one of the shared-memory ways was not faster than the kernel on one of the two measures here. Spinning waits suffer when the machine is busy and the two sides cannot run at the same time. "+nuance)
	default:
		c1 = claimKernelSlower.Judge(m1, lab.Differs,
			"The kernel's pipes and sockets were not slower here, which points at a machine too busy for the spinning waits of shared memory. "+nuance)
	}

	m2 := fmt.Sprintf("round trip: shared memory between processes %s vs mutex between threads %s (%s); messages per second: %s vs %s",
		rtt(shm), rtt(mu), ratio(shm.latency.P50, mu.latency.P50), rate(shm), rate(mu))
	var c2 lab.Claim
	switch {
	case shm.latency.P50 <= 3*mu.latency.P50 && shm.rate*3 >= mu.rate:
		c2 = claimShmFast.Judge(m2, lab.Holds, "")
	default:
		c2 = claimShmFast.Judge(m2, lab.Differs,
			"Shared memory between the processes was clearly slower than the threads' here. Both wait by spinning; if one of the two processes was made to wait for a CPU, every message waited with it.")
	}
	return []lab.Claim{c1, c2}
}

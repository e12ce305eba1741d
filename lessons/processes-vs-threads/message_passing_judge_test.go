package processesvsthreads

import (
	"testing"
	"time"

	"conclab/internal/lab"
)

// way is one way of passing messages that carried rate messages a second
// and took rtt µs a round trip.
func way(key string, rate, rtt float64) measured {
	return measured{key: key, label: wayLabel(key), per: 50, rate: spread(3, rate*0.98, rate, rate*1.02), latency: spread(20, rtt*0.9, rtt, rtt*1.1)}
}

// msgRun is the six ways as this lesson expects them: the kernel's slower
// on both measures, shared memory between processes near the same ring
// between threads.
func msgRun(pipe, socket, shm, channel, mutex, ring measured) msgMeasured {
	return msgMeasured{size: 64, dur: 300 * time.Millisecond, ways: []measured{pipe, socket, shm, channel, mutex, ring}}
}

func TestJudgeMessages(t *testing.T) {
	t.Parallel()
	pipe, socket := way("pipe", 8.7e5, 6.3), way("socket", 3.5e5, 14)
	shm, channel, mutex := way("shared_memory", 5e6, 0.42), way("channel", 1.5e7, 0.37), way("mutex", 4.5e6, 0.45)
	ring := way("thread_ring", 5.2e6, 0.42)
	busyRun := msgRun(pipe, socket, shm, channel, mutex, ring)
	busyRun.load = lab.Load{Known: true, Others: 1, CPUs: 2, Wall: time.Second}
	for _, tc := range []struct {
		name          string
		m             msgMeasured
		kernel, equal string
	}{
		{"a pipe streams a little fewer than a channel", msgRun(way("pipe", 1.64e6, 6.3), socket, shm, way("channel", 1.72e6, 0.37), mutex, ring), lab.Holds, lab.Holds},
		{"a pipe streams more than a channel", msgRun(way("pipe", 1.8e6, 6.3), socket, shm, way("channel", 1.72e6, 0.37), mutex, ring), lab.Differs, lab.Holds},
		{"throughputs within the noise of the edge", msgRun(way("pipe", 4.9e6, 6.3), socket, shm, way("channel", 5e6, 0.37), mutex, ring).noisy("pipe", 0.1), lab.Inconclusive, lab.Holds},
		{"on a busy machine", busyRun, lab.Inconclusive, lab.Inconclusive},
		{"as the lesson says", msgRun(pipe, socket, shm, channel, mutex, ring), lab.Holds, lab.Holds},
		{"shared memory 3× the ring's round trip", msgRun(pipe, socket, way("shared_memory", 5e6, 1.2), channel, mutex, ring), lab.Holds, lab.Differs},
		{"shared memory carries a third of the ring's messages", msgRun(pipe, socket, way("shared_memory", 4e6, 0.5), channel, mutex, way("thread_ring", 1.3e7, 0.42)), lab.Holds, lab.Differs},
		{"shared memory a little quicker than the ring", msgRun(pipe, socket, way("shared_memory", 5.5e6, 0.38), channel, mutex, ring), lab.Holds, lab.Holds},
		// The mutex is another way of taking turns: the claim about
		// memory is not held against it.
		{"the mutex far behind the ring", msgRun(pipe, socket, shm, channel, way("mutex", 2e6, 2), ring), lab.Holds, lab.Holds},
		{"shared memory slower than a pipe per round trip", msgRun(pipe, socket, way("shared_memory", 5e6, 9), channel, mutex, ring), lab.Differs, lab.Differs},
		{"the kernel faster on both measures", msgRun(way("pipe", 2e7, 0.1), socket, way("shared_memory", 1e6, 7), channel, mutex, ring), lab.Differs, lab.Differs},
		{"a way missing", msgRun(pipe, socket, shm, channel, mutex, ring).without("socket"), lab.Inconclusive, lab.Inconclusive},
		{"the ring between threads missing", msgRun(pipe, socket, shm, channel, mutex, ring).without("thread_ring"), lab.Inconclusive, lab.Inconclusive},
		{"no messages through a way", msgRun(pipe, socket, way("shared_memory", 0, 0.5), channel, mutex, ring), lab.Inconclusive, lab.Inconclusive},
		{"too few round-trip batches", msgRun(pipe, socket, shm, channel, measured{key: "mutex", label: wayLabel("mutex"), rate: spread(3, 1e7, 1e7, 1e7), latency: spread(2, 0.1, 0.2, 0.3)}, ring), lab.Inconclusive, lab.Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims := judgeMessages(tc.m)
			if len(claims) != 2 {
				t.Fatalf("got %d claims, want 2", len(claims))
			}
			checkClaim(t, claims[0], claimKernelSlower, tc.kernel)
			checkClaim(t, claims[1], claimShmFast, tc.equal)
		})
	}
}

// Throughput rounds the ways took in turns are compared round by round: a
// slow spell in rounds 2 and 4 slowed every way alike, which makes their
// spreads overlap and cancels in each round's ratio.
func TestJudgeMessagesRoundByRound(t *testing.T) {
	t.Parallel()
	spell := func(w measured, rate float64) measured {
		w.rates = []float64{rate, rate / 2, rate, rate / 2, rate}
		w.rate = lab.Summarize(w.rates)
		return w
	}
	pipe, socket := spell(way("pipe", 0, 6.3), 1.4e6), spell(way("socket", 0, 14), 0.9e6)
	shm, channel, mutex := spell(way("shared_memory", 0, 0.5), 8e6), spell(way("channel", 0, 0.37), 1.3e7), spell(way("mutex", 0, 0.6), 2e6)
	m := msgRun(pipe, socket, shm, channel, mutex, spell(way("thread_ring", 0, 0.5), 8e6))
	pairedThenNot(t, m, 0, func(w *measured) { w.rates = nil })
}

// pairedThenNot wants claim i of m to hold round by round, and to be
// inconclusive once unpair has taken the ways' rounds away.
func pairedThenNot(t *testing.T, m msgMeasured, i int, unpair func(*measured)) {
	t.Helper()
	if got := judgeMessages(m)[i]; got.Verdict != lab.Holds {
		t.Errorf("round by round: %s (%s), want holds", got.Verdict, got.Measured)
	}
	for j := range m.ways {
		unpair(&m.ways[j])
	}
	if got := judgeMessages(m)[i]; got.Verdict != lab.Inconclusive {
		t.Errorf("from the spreads alone: %s (%s), want inconclusive", got.Verdict, got.Measured)
	}
}

// Round trips are taken in rounds too: the host moving the two CPUs
// apart in rounds 2 and 4 slowed both rings alike, which the rounds' own
// ratios cancel and the two spreads, side by side, cannot.
func TestJudgeRoundTripsRoundByRound(t *testing.T) {
	t.Parallel()
	spell := func(w measured, rtt float64) measured {
		w.trips = []float64{rtt, 4 * rtt, rtt, 4 * rtt, rtt}
		w.latency = lab.Summarize(w.trips)
		return w
	}
	m := msgRun(way("pipe", 8.7e5, 6.3), way("socket", 3.5e5, 14), spell(way("shared_memory", 5e6, 0), 0.25),
		way("channel", 1.5e7, 0.37), way("mutex", 4.5e6, 0.45), spell(way("thread_ring", 5e6, 0), 0.24))
	pairedThenNot(t, m, 1, func(w *measured) { w.trips = nil })
}

// noisy widens one way's throughput rounds to ±f.
func (m msgMeasured) noisy(key string, f float64) msgMeasured {
	for i, w := range m.ways {
		if w.key == key {
			r := w.rate.P50
			m.ways[i].rate = spread(3, r*(1-f), r, r*(1+f))
		}
	}
	return m
}

// without drops one way, as if it had not been measured.
func (m msgMeasured) without(key string) msgMeasured {
	var ways []measured
	for _, w := range m.ways {
		if w.key != key {
			ways = append(ways, w)
		}
	}
	m.ways = ways
	return m
}

// Every way gives two figures, throughput.<way> and round_trip.<way>; the
// recap's pipe and channel figures are their throughputs.
func TestMsgMetricsKeys(t *testing.T) {
	t.Parallel()
	m := msgRun(way("pipe", 8.7e5, 6.3), way("socket", 3.5e5, 14), way("shared_memory", 4e6, 0.5), way("channel", 1.5e7, 0.37), way("mutex", 1.3e7, 0.2), way("thread_ring", 4e6, 0.5))
	metrics := msgMetrics(m)
	checkMetricKeys(t, messagePassing(), metrics)
	for _, k := range msgWays {
		if tp, ok := lab.FindMetric(metrics, "throughput."+k); !ok || tp.Unit != "msg/s" {
			t.Errorf("throughput.%s: got %+v (found %v), want msg/s", k, tp, ok)
		}
		if rt, ok := lab.FindMetric(metrics, "round_trip."+k); !ok || rt.Unit != "µs" || rt.N != 20 {
			t.Errorf("round_trip.%s: got %+v (found %v), want µs over 20 batches", k, rt, ok)
		}
	}
}

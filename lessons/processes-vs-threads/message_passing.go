package processesvsthreads

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var (
	claimKernelSlower = lab.Claim{
		Claim:    "Passing messages through the kernel (a pipe or a socket) is slower than passing them through shared memory.",
		Expected: "pipe and socket: fewer messages per second and longer round trips than shared memory, a channel or a mutex",
	}
	claimShmFast = lab.Claim{
		Claim:    "Shared memory between processes is fast too: about as fast as memory shared by threads.",
		Expected: "shared memory between processes within 3× of the mutex between threads",
	}
)

// A way to pass messages in message-passing.
type transport struct {
	key, label string
	per        int  // round trips per timed batch
	pinned     bool // run the two sides on CPUs of their own
	throughput func(ctx context.Context, size int, dur time.Duration, pl placement) (int64, time.Duration, error)
	latency    func(ctx context.Context, size, per int, dur time.Duration, tick func([]float64), pl placement) ([]float64, error)
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
		latency: func(ctx context.Context, size, per int, d time.Duration, tick func([]float64), pl placement) ([]float64, error) {
			return kernelLatency(ctx, false, size, per, d, tick, pl)
		}},
	{key: "socket", label: "unix socket between processes", per: 50,
		throughput: func(ctx context.Context, size int, d time.Duration, pl placement) (int64, time.Duration, error) {
			return kernelThroughput(ctx, true, size, d, pl)
		},
		latency: func(ctx context.Context, size, per int, d time.Duration, tick func([]float64), pl placement) ([]float64, error) {
			return kernelLatency(ctx, true, size, per, d, tick, pl)
		}},
	{key: "shm", label: "shared memory between processes", per: 500, pinned: true, throughput: shmThroughput, latency: shmLatency},
	// Goroutines are not pinned: the Go runtime decides which thread, and
	// so which CPU, runs each.
	{key: "channel", label: "channel between goroutines", per: 500,
		throughput: func(ctx context.Context, size int, d time.Duration, _ placement) (int64, time.Duration, error) {
			if size == 64 {
				return chanThroughput[msg64](ctx, d)
			}
			return chanThroughput[msg4k](ctx, d)
		},
		latency: func(ctx context.Context, size, per int, d time.Duration, tick func([]float64), _ placement) ([]float64, error) {
			if size == 64 {
				return chanLatency[msg64](ctx, per, d, tick)
			}
			return chanLatency[msg4k](ctx, per, d, tick)
		}},
	{key: "mutex", label: "mutex-guarded memory between threads", per: 500, pinned: true, throughput: mutexThroughput, latency: mutexLatency},
}

func messagePassing() *lab.Experiment {
	return &lab.Experiment{
		ID:     "message-passing",
		Lesson: Slug,
		Title:  "Talking: through the kernel or through shared memory",
		Summary: "Two parties pass fixed-size messages five ways: a pipe, a unix socket and a shared memory region between two processes, " +
			"a channel between two goroutines, and a mutex-guarded buffer between two OS threads. Each way is measured twice: " +
			"as many messages one way as it can carry in a fixed time, then one message there and back, timed in batches.",
		Params: []lab.Param{
			lab.Choice("size", "Message size", "64", []string{"64", "4096"}, "Bytes per message: a small message shows the cost of each hand-over, a page-sized one the cost of copying.").WithUnit("bytes"),
			lab.Int("ms", "Time per measurement", 300, 50, 2000, "How long each way is measured, once for throughput and once for round trips.").WithUnit("ms").WithQuick(50),
		},
		Claims: []lab.Claim{claimKernelSlower, claimShmFast},
		Charts: []lab.Chart{
			{ID: "throughput", Kind: "bars", Title: "Messages per second, one way", Y: "messages per second", LogY: true,
				Note: "Messages that arrived ÷ the time from the first send until the receiver had them all."},
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

// measured is what one transport measured.
type measured struct {
	t       transport
	rate    float64 // messages per second
	latency lab.Summary
}

func runMessagePassing(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	size, _ := strconv.Atoi(p.String("size"))
	dur := time.Duration(p.Int("ms")) * time.Millisecond
	pl := placement{a: -1, b: -1}
	if cpus, _ := probe.AllowedCPUs(); len(cpus) < 2 {
		spinFor = 0
		out.Log("Only one CPU is usable here, so the two sides must take turns on it: a side that waits sleeps at once instead of spinning, and every figure includes the switches.")
	} else {
		pl = placement{a: cpus[0], b: cpus[1]}
		out.Log(fmt.Sprintf("Pipes and sockets run where the kernel puts them: it usually keeps the two sides on one CPU, which suits them best. "+
			"The shared-memory ways, whose waiting side spins, get a CPU each: CPU %d sends, CPU %d answers; a side that waits spins for up to %s, then sleeps until woken. "+
			"Goroutines go where the Go runtime puts them.", pl.a, pl.b, spinFor))
	}
	var res []measured
	steps := 2 * len(transports)
	for i, t := range transports {
		out.Progress("throughput: "+t.label, 2*i, steps)
		where := placement{a: -1, b: -1}
		if t.pinned {
			where = pl
		}
		n, elapsed, err := t.throughput(ctx, size, dur, where)
		if err != nil {
			return stopped(ctx, t.label, err)
		}
		rate := float64(n) / elapsed.Seconds()
		out.Bar("throughput", "", t.label, rate, rate, rate)
		out.Gauge("Messages, "+t.label, float64(n), "")

		out.Progress("round trips: "+t.label, 2*i+1, steps)
		sent := 0
		tick := func(vals []float64) {
			xs := make([]float64, 0, len(vals)-sent)
			for j := sent; j < len(vals); j++ {
				xs = append(xs, float64(j+1))
			}
			out.Points("batches", t.label, xs, vals[sent:])
			sent = len(vals)
		}
		vals, err := t.latency(ctx, size, t.per, dur, tick, where)
		if err != nil {
			return stopped(ctx, t.label, err)
		}
		s := lab.Summarize(vals)
		out.Bar("latency", "", t.label, s.P50, s.P10, s.P90)
		res = append(res, measured{t: t, rate: rate, latency: s})
	}
	out.Progress("done", steps, steps)

	var metrics []lab.Metric
	for _, m := range res {
		metrics = append(metrics, lab.Metric{Name: "Throughput, " + m.t.label, Value: m.rate, Unit: "msg/s",
			Note: fmt.Sprintf("%d-byte messages for %s; %.1f MB/s", size, dur, m.rate*float64(size)/1e6)})
		l := m.latency.Named("Round trip, "+m.t.label, "µs")
		l.Note = fmt.Sprintf("%d batches of %d round trips", m.latency.N, m.t.per)
		metrics = append(metrics, l)
	}
	out.Result(metrics, judgeMessages(res))
	return nil
}

func stopped(ctx context.Context, label string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %w", label, err)
}

func judgeMessages(res []measured) []lab.Claim {
	by := map[string]measured{}
	for _, m := range res {
		by[m.t.key] = m
	}
	pipe, sock, shm, ch, mu := by["pipe"], by["socket"], by["shm"], by["channel"], by["mutex"]
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

package contextswitching

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

var (
	claimInvoluntary = lab.Claim{
		Claim:    "With more runnable threads than CPUs, the kernel keeps switching them: many involuntary context switches.",
		Expected: "many involuntary switches with K threads; next to none with one thread per CPU",
	}
	claimLostThroughput = lab.Claim{
		Claim:    "Those extra switches cost throughput.",
		Expected: "K threads get less work done per second than one thread per CPU",
	}
)

func switchCount() *lab.Experiment {
	return &lab.Experiment{
		ID:     "switch-count",
		Lesson: Slug,
		Title:  "Too many threads for the CPUs",
		Summary: "The same amount of pure computation is done twice on the same CPUs: once by one thread per CPU, once by K threads " +
			"that have to share them. The kernel's own counters say how often it switched; the clock says how much work got done per second. " +
			"Each setting runs three rounds, alternating, so the spread between rounds shows the noise.",
		Params: []lab.Param{
			lab.Int("threads", "Threads that contend (K)", 8, 2, 64, "How many threads share the CPUs in the contended runs.").WithQuick(4),
			lab.Int("cpus", "CPUs to use", 1, 1, 64, "How many CPUs both settings may use; more than this machine has means all of them."),
			lab.Int("work", "Work per round", 600, 50, 3000, "CPU time one thread per CPU needs for a round.").WithUnit("ms").WithQuick(60),
		},
		Claims: []lab.Claim{claimInvoluntary, claimLostThroughput},
		Charts: []lab.Chart{
			{ID: "switches", Kind: "line", Title: "Involuntary switches as they happen", X: "ms since the round started", Y: "involuntary switches (cumulative)",
				Note: "Read every 50 ms from /proc/self/task/<tid>/status of the working threads."},
			{ID: "throughput", Kind: "bars", Title: "Work done per second", Y: "million work units per second",
				Note: "Median of three rounds; whiskers span the slowest and fastest round."},
		},
		Limit: 60 * time.Second,
		// Go's own preemption would park a locked thread every 10 ms and
		// turn the kernel's involuntary switches into voluntary ones; with
		// it off, only the kernel decides who runs.
		Child: func(lab.Params) lab.ChildSpec { return lab.ChildSpec{GODEBUG: "asyncpreemptoff=1"} },
		Run:   runSwitchCount,
	}
}

// countRound is one round of switch-count.
type countRound struct {
	wall        time.Duration
	voluntary   int64
	involuntary int64
}

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

	out.Progress("calibrating the work unit", 0, 1)
	perMs := calibrate(cpus[0])
	units := int64(float64(p.Int("work")) * perMs * float64(nCPU))
	out.Log(fmt.Sprintf("One work unit is %d rounds of integer mixing; a thread does about %.0f units per ms here. Each round is %d units.", unitIters, perMs, units))

	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, k+2)) // every thread gets a P: the kernel, not Go, decides who runs
	defer runtime.GOMAXPROCS(prev)

	settings := []struct {
		label   string
		threads int
	}{
		{fmt.Sprintf("%d thread(s), one per CPU", nCPU), nCPU},
		{fmt.Sprintf("%d threads on %d CPU(s)", k, nCPU), k},
	}
	const rounds = 3
	results := make([][]countRound, len(settings))
	step := 0
	for r := range rounds {
		for i, s := range settings {
			out.Progress(fmt.Sprintf("round %d of %d: %s", r+1, rounds, s.label), step, rounds*len(settings))
			step++
			res, err := countOnce(ctx, s.threads, cpus, units, func(ms float64, inv int64) {
				if r == 0 {
					out.Point("switches", s.label, ms, float64(inv))
				}
				out.Gauge("Involuntary switches, "+s.label, float64(inv), "")
			})
			if err != nil {
				return err
			}
			results[i] = append(results[i], res)
		}
	}
	out.Progress("done", rounds*len(settings), rounds*len(settings))

	tput := func(rs []countRound) lab.Summary {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = float64(units) / r.wall.Seconds() / 1e6
		}
		return lab.Summarize(v)
	}
	inv := func(rs []countRound) (sum float64) {
		for _, r := range rs {
			sum += float64(r.involuntary)
		}
		return sum / float64(len(rs))
	}
	base, cont := tput(results[0]), tput(results[1])
	out.Bar("throughput", "", settings[0].label, base.P50, base.Min, base.Max)
	out.Bar("throughput", "", settings[1].label, cont.P50, cont.Min, cont.Max)
	inv1, invK := inv(results[0]), inv(results[1])

	var wallK time.Duration
	for _, r := range results[1] {
		wallK += r.wall
	}
	wallK /= rounds
	sliceMs := 0.0
	if invK > 0 {
		sliceMs = wallK.Seconds() * 1e3 * float64(nCPU) / invK
	}

	metrics := []lab.Metric{
		{Name: "Involuntary switches, " + settings[0].label, Value: inv1, Unit: "per round", Note: "getrusage(RUSAGE_THREAD) summed over the threads, mean of 3 rounds"},
		{Name: "Involuntary switches, " + settings[1].label, Value: invK, Unit: "per round", Note: "getrusage(RUSAGE_THREAD) summed over the threads, mean of 3 rounds"},
		base.Named("Throughput, "+settings[0].label, "M units/s"),
		cont.Named("Throughput, "+settings[1].label, "M units/s"),
		{Name: "Time a thread ran between involuntary switches", Value: sliceMs, Unit: "ms", Note: "wall time × CPUs ÷ involuntary switches, contended rounds"},
	}

	var claims []lab.Claim
	im := fmt.Sprintf("%.0f involuntary switches per round with %d threads vs %.0f with one thread per CPU", invK, k, inv1)
	switch {
	// "Many" means several times what one thread per CPU gets from the
	// rest of the machine (timers, kernel threads, other programs).
	case invK >= 4*max(inv1, 1) && invK >= float64(k):
		claims = append(claims, claimInvoluntary.Judge(im, lab.Holds, ""))
	case k <= nCPU:
		claims = append(claims, claimInvoluntary.Judge(im, lab.Inconclusive,
			"There were no more threads than CPUs, so there was nothing to contend for. Choose more threads than CPUs."))
	case inv1 >= invK:
		claims = append(claims, claimInvoluntary.Judge(im, lab.Differs,
			"Even one thread per CPU was pushed off its CPU at least as often: other programs on this machine were competing for the same CPUs during the run, so the contention was everywhere. Run it again when the machine is idle."))
	default:
		claims = append(claims, claimInvoluntary.Judge(im, lab.Differs,
			fmt.Sprintf("The contended threads were switched only %.1f× as often as one thread per CPU, not several times as often. The kernel may have given each thread long time slices, or something else kept these CPUs busy in both settings; run it again with more threads.", invK/max(inv1, 1))))
	}

	loss := 1 - cont.P50/base.P50
	noise := (base.Max - base.Min) / base.P50
	change := fmt.Sprintf("%.1f%% less work per second", 100*loss)
	if loss < 0 {
		change = fmt.Sprintf("%.1f%% more work per second", -100*loss)
	}
	lm := fmt.Sprintf("%s with %d threads (rounds of one thread per CPU varied by %.1f%%); a thread ran %.1f ms between switches", change, k, 100*noise, sliceMs)
	switch {
	case loss > max(0.02, 2*noise):
		claims = append(claims, claimLostThroughput.Judge(lm, lab.Holds, ""))
	case loss < noise:
		claims = append(claims, claimLostThroughput.Judge(lm, lab.Differs, fmt.Sprintf(
			"No loss beyond the noise. The kernel let each thread run about %.1f ms before switching, so a few µs per switch is well under 1%% of the time. Switching eats throughput when it happens thousands of times more often (see yield-batching), or when every switch means refilling caches.", sliceMs)))
	default:
		claims = append(claims, claimLostThroughput.Judge(lm, lab.Inconclusive,
			"Some loss, but not clearly more than the difference between rounds. Run it again with more work per round."))
	}
	out.Result(metrics, claims)
	return nil
}

// unitIters is the size of one work unit.
const unitIters = 2000

// sink keeps the compiler from removing the work.
var sink atomic.Uint64

// work does n units of pure integer computation.
func work(n int64) {
	x := uint64(n) | 1
	for range n {
		for range unitIters {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	sink.Add(x)
}

// calibrate measures work units per millisecond on one pinned thread.
func calibrate(cpu int) float64 {
	ch := make(chan float64)
	go func() {
		runtime.LockOSThread() // exits locked: the pinned thread goes with it
		probe.PinThread(cpu)
		n := int64(64)
		for {
			t := time.Now()
			work(n)
			if d := time.Since(t); d > 30*time.Millisecond {
				ch <- float64(n) / (float64(d.Nanoseconds()) / 1e6)
				return
			}
			n *= 2
		}
	}()
	return <-ch
}

// countOnce runs units of work split across n threads restricted to cpus,
// sampling their involuntary switches while they run.
func countOnce(ctx context.Context, n int, cpus []int, units int64, sample func(ms float64, inv int64)) (countRound, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		tids  []int
		total countRound
	)
	ready := make(chan struct{})
	start := make(chan struct{})
	var readyCount atomic.Int32
	for i := range n {
		share := units / int64(n)
		if int64(i) < units%int64(n) {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // exits locked: the pinned thread goes with it
			probe.PinThread(cpus...)
			mu.Lock()
			tids = append(tids, probe.Tid())
			mu.Unlock()
			if readyCount.Add(1) == int32(n) {
				close(ready)
			}
			<-start
			before := probe.ThreadUsage()
			for done := int64(0); done < share && ctx.Err() == nil; done += 16 {
				work(min(16, share-done))
			}
			u := probe.ThreadUsage().Sub(before)
			mu.Lock()
			total.voluntary += u.Voluntary
			total.involuntary += u.Involuntary
			mu.Unlock()
		}()
	}
	<-ready
	base := map[int]int64{}
	mu.Lock()
	for _, tid := range tids {
		if s, err := probe.Thread(tid); err == nil {
			base[tid] = s.Involuntary
		}
	}
	mu.Unlock()
	t0 := time.Now()
	close(start)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-finished:
			total.wall = time.Since(t0)
			sample(float64(total.wall.Microseconds())/1e3, total.involuntary)
			return total, ctx.Err()
		case <-tick.C:
			var inv int64
			for tid, b := range base {
				if s, err := probe.Thread(tid); err == nil {
					inv += s.Involuntary - b
				}
			}
			sample(float64(time.Since(t0).Microseconds())/1e3, inv)
		}
	}
}

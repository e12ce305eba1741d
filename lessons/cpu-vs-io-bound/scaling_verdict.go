package cpuvsiobound

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"conclab/internal/lab"
)

// measure times the points of one curve.
type measure struct {
	tasks, rounds int
	addr          string // the slow server, for I/O-bound tasks
	task          func(*workerState) error
}

// batch runs the tasks once with w workers.
func (m *measure) batch(ctx context.Context, w int) (batchResult, error) {
	workers, err := newWorkers(ctx, w, m.addr)
	if err != nil {
		return batchResult{}, err
	}
	defer closeWorkers(workers)
	return runBatch(ctx, m.tasks, workers, m.task)
}

// point measures the curve's speedup with w workers, restricted to one CPU
// if the curve is. Each batch is timed m.rounds times and the fastest
// kept: other programs can only slow a round down. Computing is what other
// programs on the machine disturb, so for CPU-bound work every round also
// times a one-worker batch just before, and the point compares the two:
// a busy spell elsewhere then slows both sides alike.
func (m *measure) point(ctx context.Context, c *curve, w, cpu int) error {
	if c.one {
		defer oneCPU(cpu)()
	}
	var base, best batchResult
	var slowBase, slowest time.Duration
	paired := !c.io && w > 1
	for r := range m.rounds {
		if paired {
			b, err := m.batch(ctx, 1)
			c.done += b.done
			if err != nil {
				return err
			}
			if r == 0 || b.wall < base.wall {
				base = b
			}
			slowBase = max(slowBase, b.wall)
		}
		res, err := m.batch(ctx, w)
		c.done += res.done
		if err != nil {
			return err
		}
		if r == 0 || res.wall < best.wall {
			best = res
		}
		slowest = max(slowest, res.wall)
	}
	c.noise = max(c.noise, slowest.Seconds()/best.wall.Seconds()-1)
	if paired {
		c.noise = max(c.noise, slowBase.Seconds()/base.wall.Seconds()-1)
	}
	if c.speedup == nil {
		c.speedup, c.busyAt = map[int]float64{}, map[int]float64{}
	}
	c.busyAt[w] = best.busy()
	switch {
	case w == 1:
		c.base = best.wall
	case paired:
		c.base = min(c.base, base.wall)
	default:
		base = batchResult{wall: c.base}
	}
	if w == 1 {
		base = best
	}
	c.speedup[w] = base.wall.Seconds() / best.wall.Seconds()
	c.lastBase = base.wall
	c.last = best
	return nil
}

func scalingResult(out *lab.Emitter, curves []*curve, ws []int, cores, tasks int, srv *slowServer) error {
	most := ws[len(ws)-1]
	ioAll, ioOne, cpuAll, cpuOne := curves[0], curves[1], curves[2], curves[3]

	metrics := []lab.Metric{
		{Name: "I/O queries sent", Value: float64(ioAll.done + ioOne.done), Unit: "queries", Note: "every I/O-bound task of every round"},
		{Name: "Queries answered by the local server", Value: float64(srv.Answered()), Unit: "queries", Note: "counted by the server itself"},
		{Name: "CPU-bound tasks completed", Value: float64(cpuAll.done + cpuOne.done), Unit: "tasks"},
	}
	for _, c := range curves {
		metrics = append(metrics, lab.Metric{Name: fmt.Sprintf("Speedup with the most workers (%d), %s", most, c.label),
			Value: round2(c.speedup[most]), Unit: "×", Note: fmt.Sprintf("%s with 1 worker, %s with %d", c.lastBase.Round(time.Millisecond/10), c.last.wall.Round(time.Millisecond/10), most)})
	}
	if s, ok := cpuAll.speedup[cores]; ok {
		metrics = append(metrics, lab.Metric{Name: fmt.Sprintf("Speedup at the core count (%d), CPU-bound, all CPUs", cores), Value: round2(s), Unit: "×"})
	}
	for _, c := range curves {
		metrics = append(metrics, lab.Metric{Name: fmt.Sprintf("CPUs kept busy with %d workers, %s", most, c.label), Value: round2(c.last.busy()), Unit: "CPUs",
			Note: "CPU time of the whole process ÷ wall time of the batch"})
	}

	claims := []lab.Claim{judgeIO(ioAll, ioOne, most, cores, tasks), noisy(judgeCPU(cpuAll, most, cores), cpuAll), noisy(judgeOneCPU(cpuOne), cpuOne)}
	out.Result(metrics, claims)
	return nil
}

// noisy turns a differs into inconclusive when the curve's own rounds
// disagreed by more than a quarter: other programs were competing for the
// CPUs, and the disagreement is more likely theirs than the claim's. A
// claim that holds in spite of such noise still holds: noise can only
// slow batches down, and it did not make this curve look wrong.
func noisy(c lab.Claim, cv *curve) lab.Claim {
	if c.Verdict != lab.Differs || cv.noise <= 0.25 {
		return c
	}
	c.Measured += fmt.Sprintf("; the same batch took up to %.0f%% longer in one round than in another", 100*cv.noise)
	c.Verdict = lab.Inconclusive
	c.Why = fmt.Sprintf("Other programs were competing for the CPUs while this ran: the same batch took up to %.0f%% longer in one round than in another, more than the effect being judged. Run it again when the machine is quieter, or with more rounds.", 100*cv.noise)
	return c
}

// speedupNear is the speedup at the largest worker count not above n.
func speedupNear(c *curve, n int) (int, float64) {
	bw, bs := 1, 1.0
	for w, s := range c.speedup {
		if w <= n && w >= bw {
			bw, bs = w, s
		}
	}
	return bw, bs
}

func judgeIO(all, one *curve, most, cores, tasks int) lab.Claim {
	wc, sc := speedupNear(all, cores)
	measured := fmt.Sprintf("with %d workers: %.1f× on all CPUs, %.1f× on one CPU; with %d worker%s: %.1f× (%d usable CPU%s)",
		most, all.speedup[most], one.speedup[most], wc, plural(wc), sc, cores, plural(cores))
	if most <= cores {
		return claimIOScales.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The run never had more workers than this machine has CPUs (%d). Raise the number of workers above %d to test the claim.", cores, cores))
	}
	want := min(float64(2*cores), 0.5*float64(min(most, tasks)))
	ok := true
	for _, c := range []*curve{all, one} {
		_, s := speedupNear(c, cores)
		if c.speedup[most] < want || c.speedup[most] < 1.5*s {
			ok = false
		}
	}
	if ok {
		return claimIOScales.Judge(measured, lab.Holds, "")
	}
	return claimIOScales.Judge(measured, lab.Differs,
		"The waiting tasks stopped gaining before they reached several times the core count. Each answer takes a fixed delay, so the limit should be the number of tasks in flight; a very short delay (where the cost of each round trip dominates) or a machine so busy that waking each worker takes milliseconds flattens the curve.")
}

func judgeCPU(all *curve, most, cores int) lab.Claim {
	sc := all.speedup[cores]
	beyond, peak := 0.0, maxSpeedup(all.speedup)
	for w, s := range all.speedup {
		if w > cores {
			beyond = math.Max(beyond, s)
		}
	}
	measured := fmt.Sprintf("%.2f× at %d worker%s (the core count), at most %.2f× beyond it; %d workers kept %.2f CPUs busy, %d workers %.2f",
		sc, cores, plural(cores), beyond, cores, all.busyAt[cores], most, all.last.busy())
	switch {
	case cores < 2:
		return claimCPUStops.Judge(fmt.Sprintf("at most %.2f× with up to %d workers on the only usable CPU", peak, most), lab.Inconclusive,
			"This machine lets the run use one CPU, so there is no core count above one for the curve to climb to. It can show that computing gains nothing here (the next claim), not where the curve would stop on more cores.")
	case most <= cores:
		return claimCPUStops.Judge(measured, lab.Inconclusive, fmt.Sprintf(
			"The run never had more workers than CPUs (%d), so it could not show the curve flattening beyond them. Raise the number of workers.", cores))
	}
	var problems []string
	if sc < 0.7*float64(cores) {
		problems = append(problems, fmt.Sprintf(
			"It levelled off at %.2f×, below the %d cores: %d workers kept only %.2f CPUs busy, so other programs on this machine held the rest while it ran.", sc, cores, cores, all.busyAt[cores]))
	}
	if beyond > 1.25*sc {
		problems = append(problems, fmt.Sprintf(
			"It kept rising past the core count, which pure computation cannot do: with %d workers the process kept only %.2f CPUs busy, so other programs held part of the machine then, and the later points look better by comparison.", cores, all.busyAt[cores]))
	}
	if peak > 1.25*float64(cores) {
		problems = append(problems, "It rose above the core count, which pure computation cannot do; the one-worker batch must have been slowed by something else, such as another program on its CPU.")
	}
	if len(problems) == 0 {
		return claimCPUStops.Judge(measured, lab.Holds, "")
	}
	return claimCPUStops.Judge(measured, lab.Differs, strings.Join(problems, " "))
}

func judgeOneCPU(one *curve) lab.Claim {
	peak := maxSpeedup(one.speedup)
	measured := fmt.Sprintf("at most %.2f× at any worker count; with the most workers the process kept %.2f CPUs busy", peak, one.last.busy())
	if peak <= 1.15 {
		return claimOneCPU.Judge(measured, lab.Holds, "")
	}
	return claimOneCPU.Judge(measured, lab.Differs,
		"On one CPU only one worker can compute at a time, so a gain here means the one-worker batch was slowed by something else on the same CPU while it ran. More rounds per point make that less likely.")
}

func maxSpeedup(m map[int]float64) float64 {
	best := 0.0
	for _, s := range m {
		best = math.Max(best, s)
	}
	return best
}

func ms(d time.Duration) float64 { return round3(float64(d.Nanoseconds()) / 1e6) }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

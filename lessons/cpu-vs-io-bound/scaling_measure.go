package cpuvsiobound

import (
	"context"
	"errors"
)

// measure times the points of one curve.
type measure struct {
	tasks, rounds int
	addr          string // the slow server, for I/O-bound tasks
	task          func(*workerState) error
}

// perWorker is the most tasks a batch gives each of its workers: a point
// with few workers times a batch of perWorker tasks per worker rather than
// the whole batch, and its speedup is a rate, tasks done per second against
// one worker's. On a large machine the batch (16 tasks per CPU by default)
// would otherwise keep one worker busy for seconds, round after round.
const perWorker = 64

// batch runs once with w workers: the batch's tasks, or perWorker for
// each worker when that is fewer.
func (m *measure) batch(ctx context.Context, w int) (batchResult, error) {
	workers, err := newWorkers(ctx, w, m.addr)
	if err != nil {
		return batchResult{}, err
	}
	defer closeWorkers(workers)
	return runBatch(ctx, min(m.tasks, perWorker*w), workers, m.task)
}

// rate is the batch's tasks done per second.
func (b batchResult) rate() float64 {
	if b.wall <= 0 {
		return 0
	}
	return float64(b.done) / b.wall.Seconds()
}

// point measures the curve's speedup with w workers, restricted to one CPU
// if the curve is. Each batch is timed m.rounds times and the fastest
// kept: other programs can only slow a round down. Computing is what other
// programs on the machine disturb, so for CPU-bound work every round also
// times a one-worker batch just before, and the point compares the two:
// a busy spell elsewhere then slows both sides alike.
func (m *measure) point(ctx context.Context, c *curve, w, cpu int) (err error) {
	if c.one {
		restore, perr := oneCPU(cpu)
		if perr != nil {
			return perr
		}
		defer func() { err = errors.Join(err, restore()) }()
	}
	var base, best batchResult
	var results, bases []float64 // tasks per second, round by round
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
			bases = append(bases, b.rate())
		}
		res, err := m.batch(ctx, w)
		c.done += res.done
		if err != nil {
			return err
		}
		if r == 0 || res.wall < best.wall {
			best = res
		}
		results = append(results, res.rate())
	}
	if c.speedup == nil {
		c.speedup, c.rounds, c.busyAt = map[int]float64{}, map[int][]float64{}, map[int]float64{}
	}
	c.busyAt[w] = best.busy()
	switch {
	case w == 1:
		c.base, c.baseRun = best.wall, best
	case paired:
		c.base = min(c.base, base.wall)
	default:
		base = c.baseRun
	}
	if w == 1 {
		base = best
	}
	c.speedup[w] = best.rate() / base.rate()
	// Round by round: a paired round against its own one-worker batch,
	// else against the curve's one-worker rate.
	for i, r := range results {
		b := base.rate()
		if paired {
			b = bases[i]
		}
		c.rounds[w] = append(c.rounds[w], r/b)
	}
	c.lastBase = base.wall
	c.last = best
	return nil
}

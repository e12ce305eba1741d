package cpuvsiobound

import (
	"context"
	"errors"
	"time"
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
func (m *measure) point(ctx context.Context, c *curve, w, cpu int) (err error) {
	if c.one {
		restore, perr := oneCPU(cpu)
		if perr != nil {
			return perr
		}
		defer func() { err = errors.Join(err, restore()) }()
	}
	var base, best batchResult
	var results, bases []time.Duration // round by round
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
			bases = append(bases, b.wall)
		}
		res, err := m.batch(ctx, w)
		c.done += res.done
		if err != nil {
			return err
		}
		if r == 0 || res.wall < best.wall {
			best = res
		}
		results = append(results, res.wall)
	}
	if c.speedup == nil {
		c.speedup, c.rounds, c.busyAt = map[int]float64{}, map[int][]float64{}, map[int]float64{}
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
	// Round by round: a paired round against its own one-worker batch,
	// else against the curve's one-worker time.
	for i, r := range results {
		b := base.wall
		if paired {
			b = bases[i]
		}
		c.rounds[w] = append(c.rounds[w], b.Seconds()/r.Seconds())
	}
	c.lastBase = base.wall
	c.last = best
	return nil
}

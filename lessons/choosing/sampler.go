package choosing

import (
	"fmt"
	"sync/atomic"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// sampler watches a strategy while it runs: every 25 ms it reads how many
// tasks are done and the process's resident memory; every 100 ms it sends
// what it saw to the page. It runs beside the strategy and never inside
// a task, so its cost is a few microseconds per tick.
type sampler struct {
	stopc chan struct{}
	final chan sampled
	out   *lab.Emitter
	chart string
	live  bool
	start time.Time
	n     int // tasks in the workload
}

// sampled is what the sampler hands back when it stops.
type sampled struct {
	peak   int64 // largest resident memory seen, bytes
	xs, ys []float64
}

const (
	sampleEvery = 25 * time.Millisecond
	emitEvery   = 100 * time.Millisecond
)

// startSampler starts watching done. live draws the progress line (the
// first round only, so the chart has one line per strategy); base and
// total place the run in the whole lab's progress bar.
func startSampler(out *lab.Emitter, series string, live bool, phase string, done *atomic.Int64, base, total, n int) *sampler {
	s := &sampler{stopc: make(chan struct{}), final: make(chan sampled, 1), out: out, chart: series, live: live, start: time.Now(), n: n}
	go func() {
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		smp := sampled{peak: probe.RSS()}
		if live {
			smp.xs, smp.ys = []float64{0}, []float64{0}
		}
		last := s.start
		for {
			select {
			case <-s.stopc:
				smp.peak = max(smp.peak, probe.RSS())
				s.final <- smp
				return
			case now := <-tick.C:
				k := done.Load()
				smp.peak = max(smp.peak, probe.RSS())
				if live {
					smp.xs = append(smp.xs, ms(now.Sub(s.start)))
					smp.ys = append(smp.ys, float64(k))
				}
				if now.Sub(last) < emitEvery {
					continue
				}
				last = now
				if live && len(smp.xs) > 0 {
					out.Points("progress", series, smp.xs, smp.ys)
					smp.xs, smp.ys = smp.xs[:0], smp.ys[:0]
				}
				out.Progress(phase, base+int(k), total)
				out.Gauge("Tasks done", float64(k), fmt.Sprintf("of %d", n))
			}
		}
	}()
	return s
}

// stop ends the sampling, draws the last point (the strategy's wall time
// and its final count) and returns the peak resident memory.
func (s *sampler) stop(wall time.Duration, done int) int64 {
	close(s.stopc)
	smp := <-s.final
	if s.live {
		s.out.Points("progress", s.chart, append(smp.xs, ms(wall)), append(smp.ys, float64(done)))
	}
	s.out.Gauge("Tasks done", float64(done), fmt.Sprintf("of %d", s.n))
	return smp.peak
}

package choosing

import (
	"fmt"
	"sync/atomic"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

// sampler watches a strategy while it runs: every 25 ms it reads how many
// tasks are done and the process's resident memory; at most every 100 ms
// it sends what it saw to the page. It runs beside the strategy and never
// inside a task, so its cost is a few microseconds per tick.
type sampler struct {
	stopc  chan struct{}
	final  chan int64 // the peak resident memory, when it stops
	out    *lab.Emitter
	series *lab.Series // the progress line; nil when not drawn
	start  time.Time
	n      int // tasks in the workload
}

const (
	sampleEvery = 25 * time.Millisecond
	emitEvery   = 100 * time.Millisecond
)

// startSampler starts watching done. live draws the progress line (the
// first round only, so the chart has one line per strategy); base and
// total place the run in the whole lab's progress bar.
func startSampler(out *lab.Emitter, series string, live bool, phase string, done *atomic.Int64, base, total, n int) *sampler {
	s := &sampler{stopc: make(chan struct{}), final: make(chan int64, 1), out: out, start: time.Now(), n: n}
	if live {
		s.series = out.Series("progress", series)
		s.series.Add(0, 0)
	}
	every := lab.NewThrottle(emitEvery)
	go func() {
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		peak := probe.RSS()
		for {
			select {
			case <-s.stopc:
				s.final <- max(peak, probe.RSS())
				return
			case now := <-tick.C:
				k := done.Load()
				peak = max(peak, probe.RSS())
				if s.series != nil {
					s.series.Add(format.Ms(now.Sub(s.start)), float64(k))
				}
				if every.Due() {
					out.Progress(phase, base+int(k), total)
					out.Gauge("Tasks done", float64(k), fmt.Sprintf("of %d", n))
				}
			}
		}
	}()
	return s
}

// stop ends the sampling, draws the last point (the strategy's wall time
// and its final count) and returns the peak resident memory.
func (s *sampler) stop(wall time.Duration, done int) int64 {
	close(s.stopc)
	peak := <-s.final
	if s.series != nil {
		s.series.Add(format.Ms(wall), float64(done))
		s.series.Flush()
	}
	s.out.Gauge("Tasks done", float64(done), fmt.Sprintf("of %d", s.n))
	return peak
}

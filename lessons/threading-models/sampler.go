package threadingmodels

import (
	"cmp"
	"fmt"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// sampler watches a model from outside it, on a goroutine the model's
// threads cannot stall: every 20 ms it reads each task's chunk count and
// the kernel thread it is on (for a task waiting its turn, the one it last
// ran on), and the process's thread count from /proc; every 100 ms it
// reads the process's CPU time and sends what it saw.
type sampler struct {
	m     *model
	out   *lab.Emitter
	chart string // the model's progress chart

	base, peak int       // threads in the process: before the model, highest seen
	spread     []float64 // kernel threads the tasks were on, one value per sample
	busyPeak   float64   // most CPUs busy over any 100 ms window
	err        error     // the first failed reading of the thread count; read after stop
	stopped    chan struct{}
	finished   chan struct{}
}

const (
	sampleEvery = 20 * time.Millisecond
	sendEvery   = 5 // samples per batch of events
)

func newSampler(m *model, out *lab.Emitter, chart string) (*sampler, error) {
	st, err := probe.Self()
	if err != nil {
		return nil, fmt.Errorf("%s: counting the process's threads: %w", m.name, err)
	}
	s := &sampler{m: m, out: out, chart: chart, stopped: make(chan struct{}), finished: make(chan struct{})}
	s.base, s.peak = st.Threads, st.Threads
	return s, nil
}

// start begins sampling; the model's t0 must be set.
func (s *sampler) start() { go s.loop() }

// stop ends sampling after one last sample and waits for its events.
func (s *sampler) stop() {
	close(s.stopped)
	<-s.finished
}

func (s *sampler) loop() {
	defer close(s.finished)
	n := len(s.m.tasks)
	ys := make([][]float64, n)
	var xs, ru []float64
	lastCPU, lastAt := probe.ProcessUsage().CPU(), time.Now()
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for i := 1; ; i++ {
		final := false
		select {
		case <-s.stopped:
			final = true
		case <-tick.C:
		}
		now := time.Now()
		x := s.m.ms(now)
		xs = append(xs, x)
		on := map[int32]bool{}
		for k, t := range s.m.tasks {
			ys[k] = append(ys[k], float64(t.chunks.Load()))
			if id := t.tid.Load(); id != 0 {
				on[id] = true
			}
		}
		s.spread = append(s.spread, float64(len(on)))
		ru = append(ru, float64(len(on)))
		if st, err := probe.Self(); err != nil {
			s.err = cmp.Or(s.err, err)
		} else {
			s.peak = max(s.peak, st.Threads)
		}
		if i%sendEvery != 0 && !final {
			continue
		}
		// The CPU time and the clock are read together: on a busy machine
		// the sampler itself may wait for a CPU between the task readings
		// above and here, and a window timed from the earlier moment would
		// count more CPU time than wall time (a process on two CPUs "busy
		// on 2.8").
		cpu, at := probe.ProcessUsage().CPU(), time.Now()
		busy := 0.0
		if el := at.Sub(lastAt); el > 0 {
			busy = float64(cpu-lastCPU) / float64(el)
		}
		// A short last window says little about parallelism.
		if !final || at.Sub(lastAt) >= 3*sampleEvery {
			s.busyPeak = max(s.busyPeak, busy)
			s.out.Point("cpus", s.m.name, x, busy)
		}
		lastCPU, lastAt = cpu, at
		for k, t := range s.m.tasks {
			s.out.Points(s.chart, t.name, xs, ys[k])
			ys[k] = ys[k][:0]
		}
		s.out.Points("threads", s.m.name, xs, ru)
		s.out.Gauge(s.m.name+" kernel threads", ru[len(ru)-1], "")
		s.out.Gauge(s.m.name+" CPUs busy", busy, "")
		xs, ru = xs[:0], ru[:0]
		if final {
			return
		}
	}
}

// threadsAtOnce is the median number of kernel threads the tasks were on
// at one moment.
func (s *sampler) threadsAtOnce() float64 { return lab.Summarize(s.spread).P50 }

package lab

import (
	"sync"
	"time"
)

// LiveEvery is how often an experiment sends a live figure of one kind (a
// series' points, a gauge, a table's rows): about ten times a second is
// smooth on the page and costs the measurement nothing.
const LiveEvery = 100 * time.Millisecond

// Throttle lets something happen at most once per interval: the first
// Due is true, and after that Due is true once the interval has passed
// since the last true. It is safe for one goroutine; use one per caller.
type Throttle struct {
	every time.Duration
	last  time.Time
}

// NewThrottle returns a Throttle with this interval (LiveEvery when 0).
func NewThrottle(every time.Duration) *Throttle {
	if every <= 0 {
		every = LiveEvery
	}
	return &Throttle{every: every}
}

// Due reports whether the interval has passed, and if so starts the next.
func (t *Throttle) Due() bool {
	now := time.Now()
	if !t.last.IsZero() && now.Sub(t.last) < t.every {
		return false
	}
	t.last = now
	return true
}

// Series collects the points of one series of a line chart and sends them
// in one "points" event at most every LiveEvery, so an experiment can add
// a point per sample without flooding the page. Flush sends what is left;
// call it when the series ends. Its methods are safe for several
// goroutines.
type Series struct {
	out           *Emitter
	chart, series string

	mu     sync.Mutex
	every  *Throttle
	xs, ys []float64
}

// Series returns a throttled series of a line chart.
func (e *Emitter) Series(chart, series string) *Series {
	return &Series{out: e, chart: chart, series: series, every: NewThrottle(LiveEvery)}
}

// Add appends a point; it goes out with the next batch.
func (s *Series) Add(x, y float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.xs, s.ys = append(s.xs, x), append(s.ys, y)
	if s.every.Due() {
		s.flushLocked()
	}
}

// Flush sends the points not sent yet.
func (s *Series) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
}

func (s *Series) flushLocked() {
	if len(s.xs) == 0 {
		return
	}
	s.out.Points(s.chart, s.series, s.xs, s.ys)
	s.xs, s.ys = nil, nil
}

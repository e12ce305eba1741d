package processesvsthreads

import (
	"fmt"
	"strconv"
	"time"

	"conclab/internal/lab"
)

// series collects one line-chart series and sends what is new at most
// ten times a second, so the page draws it as it grows without being
// flooded. Call add between measurements, never inside a timed region.
type series struct {
	out   *lab.Emitter
	chart string
	name  string
	log   bool // the y axis is logarithmic: skip values that are not positive
	xs    []float64
	ys    []float64
	sent  int
	last  time.Time
}

func newSeries(out *lab.Emitter, chart, name string) *series {
	return &series{out: out, chart: chart, name: name, last: time.Now()}
}

// add appends a point and reports whether it sent the points out, a
// good moment to report progress too.
func (s *series) add(x, y float64) bool {
	if s.log && y <= 0 {
		return false // nothing to draw on a log axis
	}
	s.xs = append(s.xs, x)
	s.ys = append(s.ys, y)
	if time.Since(s.last) >= 100*time.Millisecond {
		s.flush()
		return true
	}
	return false
}

// flush sends the points not sent yet.
func (s *series) flush() {
	if s.sent < len(s.xs) {
		s.out.Points(s.chart, s.name, s.xs[s.sent:], s.ys[s.sent:])
		s.sent = len(s.xs)
	}
	s.last = time.Now()
}

// ratio prints a/b as "12×", or "n/a" when b is not positive.
func ratio(a, b float64) string {
	if b <= 0 {
		return "n/a"
	}
	r := a / b
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.1f×", r)
}

// human prints a byte count with a binary unit.
func human(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// micro prints a duration given in µs with a fitting unit.
func micro(us float64) string {
	switch {
	case us >= 1000:
		return fmt.Sprintf("%.2f ms", us/1000)
	case us >= 10:
		return fmt.Sprintf("%.0f µs", us)
	case us >= 1:
		return fmt.Sprintf("%.1f µs", us)
	}
	return fmt.Sprintf("%.2f µs", us)
}

// kid shows a kernel id (PID or thread id) as plain digits: as a number
// the page would group its digits like a quantity. 0 means not known yet.
func kid(id int) string {
	if id <= 0 {
		return "…"
	}
	return strconv.Itoa(id)
}

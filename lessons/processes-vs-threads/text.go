package processesvsthreads

import (
	"fmt"
	"strconv"
)

// How the lesson writes figures into verdicts and table cells.

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

package processesvsthreads

import (
	"fmt"
	"strconv"
)

// Small helpers for the page's templates.

func itoa(n int) string { return strconv.Itoa(n) }

func translate(x, y int) string { return fmt.Sprintf("translate(%d %d)", x, y) }

// threadClass colours the parts that belong to thread n.
func threadClass(n int) string { return "pvt-own" + strconv.Itoa(n) }

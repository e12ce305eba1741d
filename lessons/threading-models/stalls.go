package threadingmodels

// Stalls are lists of intervals, sorted and not overlapping, as each task
// records its gaps. The stretches when every other task stood still are
// the intersection of their lists.

// intersect returns the stretches covered by both a and b.
func intersect(a, b []interval) []interval {
	var out []interval
	for i, j := 0, 0; i < len(a) && j < len(b); {
		from, to := max(a[i].from, b[j].from), min(a[i].to, b[j].to)
		if from < to {
			out = append(out, interval{from, to})
		}
		if a[i].to < b[j].to {
			i++
		} else {
			j++
		}
	}
	return out
}

// allStalled returns the stretches when none of the tasks made progress.
func allStalled(tasks []*task) []interval {
	if len(tasks) == 0 {
		return nil
	}
	out := tasks[0].gaps
	for _, t := range tasks[1:] {
		out = intersect(out, t.gaps)
	}
	return out
}

// clip keeps the parts of list inside w.
func clip(list []interval, w interval) []interval {
	return intersect(list, []interval{w})
}

// length is the total time of a list.
func length(list []interval) float64 {
	var s float64
	for _, v := range list {
		s += v.to - v.from
	}
	return s
}

// longest is the longest interval of a list.
func longest(list []interval) float64 {
	var m float64
	for _, v := range list {
		m = max(m, v.to-v.from)
	}
	return m
}

// complement returns the parts of w not covered by list.
func complement(list []interval, w interval) []interval {
	var out []interval
	at := w.from
	for _, v := range clip(list, w) {
		if v.from > at {
			out = append(out, interval{at, v.from})
		}
		at = v.to
	}
	if at < w.to {
		out = append(out, interval{at, w.to})
	}
	return out
}

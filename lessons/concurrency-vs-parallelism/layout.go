package concurrencyvsparallelism

import (
	"conclab/internal/format"
	"fmt"
	"strings"
)

// letters name the tasks.
const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// taskName names task i: a letter, or past Z "T27", "T28"…
func taskName(i int) string {
	if i < len(letters) {
		return letters[i : i+1]
	}
	return fmt.Sprintf("T%d", i+1)
}

// buildPhase lays out the tasks of one mode on cpus. n is the number of
// tasks of the concurrent and parallel modes; combined has twice as many.
func buildPhase(mode string, cpus []int, n int, chunks int64) phase {
	ph := phase{mode: mode, cpus: cpus}
	add := func(name string, on []int) {
		ph.tasks = append(ph.tasks, &task{name: name, cpus: on, chunks: chunks})
	}
	switch mode {
	case "concurrent":
		ph.cpus = cpus[:1]
		for i := range n {
			add(taskName(i), cpus[:1])
		}
	case "parallel":
		for i := range n {
			add(taskName(i), cpus[i%len(cpus):i%len(cpus)+1])
		}
	case "combined":
		for i := range n {
			add(taskName(i)+"1", cpus)
			add(taskName(i)+"2", cpus)
		}
	}
	return ph
}

// describe says in words how a phase is laid out.
func describe(ph phase) string {
	names := make([]string, len(ph.tasks))
	for i, t := range ph.tasks {
		names[i] = t.name
	}
	cpus := cpuList(ph.cpus)
	list := strings.Join(names, ", ")
	switch {
	case ph.mode == "concurrent":
		return fmt.Sprintf("Concurrent: tasks %s, every thread pinned to CPU %s.", list, cpus)
	case ph.mode == "parallel" && len(ph.cpus) >= len(ph.tasks):
		return fmt.Sprintf("Parallel: tasks %s, each thread pinned to a CPU of its own (CPU %s).", list, cpus)
	case ph.mode == "parallel":
		return fmt.Sprintf("Parallel: tasks %s, but only CPU %s can be used, so the threads are pinned to %s in turn and some must share.", list, cpus, format.Pick(len(ph.cpus), "it", "them"))
	default:
		return fmt.Sprintf("Combined: tasks %s, all allowed on CPU %s; the kernel decides which runs where.", list, cpus)
	}
}

package probe

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// coreOf names the physical core a CPU belongs to, "package/core", from
// /sys/devices/system/cpu/cpuN/topology; "" when the kernel does not say.
// Two logical CPUs with the same core are hyper-threads (SMT siblings):
// they share the core's execution units, so two computing threads on
// them do not finish twice as fast as one.
func coreOf(cpu int) string {
	dir := fmt.Sprintf("/sys/devices/system/cpu/cpu%d/topology/", cpu)
	pkg, err1 := os.ReadFile(dir + "physical_package_id")
	core, err2 := os.ReadFile(dir + "core_id")
	if err1 != nil || err2 != nil {
		return ""
	}
	return strings.TrimSpace(string(pkg)) + "/" + strings.TrimSpace(string(core))
}

// Cores counts the physical cores the given CPUs sit on. Where the kernel
// does not describe its topology every CPU counts as a core of its own.
func Cores(cpus []int) int { return coresOf(cpus, coreOf) }

func coresOf(cpus []int, core func(int) string) int {
	seen := map[string]bool{}
	for _, c := range cpus {
		k := core(c)
		if k == "" {
			k = fmt.Sprint("cpu", c)
		}
		seen[k] = true
	}
	return len(seen)
}

// SpreadOverCores orders CPUs so that each physical core's first CPU comes
// before any core's second: the first n of the result sit on as many
// different cores as there are, which is what a claim about n CPUs
// computing side by side means. The order is otherwise kept.
func SpreadOverCores(cpus []int) []int { return spreadOver(cpus, coreOf) }

func spreadOver(cpus []int, core func(int) string) []int {
	rank := map[int]int{} // a CPU's place among its core's CPUs
	count := map[string]int{}
	for _, c := range cpus {
		k := core(c)
		if k == "" {
			k = fmt.Sprint("cpu", c)
		}
		rank[c] = count[k]
		count[k]++
	}
	out := slices.Clone(cpus)
	slices.SortStableFunc(out, func(a, b int) int { return rank[a] - rank[b] })
	return out
}

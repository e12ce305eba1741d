package processesvsthreads

import (
	"errors"
	"testing"

	"conclab/internal/lab"
)

// procs is a summary of processes holding own bytes each of their own
// and rss bytes resident.
func procs(own, rss float64) procSummary {
	return procSummary{private: spread(32, own, own, own), rss: spread(32, rss, rss, rss), pss: spread(32, own, own, own),
		tables: spread(32, 4096, 4096, 4096), threads: spread(32, 5, 5, 5), distinct: 32}
}

func TestJudgeProcMemory(t *testing.T) {
	t.Parallel()
	sleep := procs(112*kib, 1810*kib)
	for _, tc := range []struct {
		name string
		m    memMeasured
		want string
	}{
		{"a process holds 35× a thread", memMeasured{proc: procs(1582*kib, 10562*kib), ref: &sleep, th: threadMem{n: 200, rss: 45 * kib}}, lab.Holds},
		{"exactly 10×", memMeasured{proc: procs(450*kib, 2000*kib), th: threadMem{n: 200, rss: 45 * kib}}, lab.Holds},
		{"a tiny process, 2.5×", memMeasured{proc: procs(112*kib, 1810*kib), th: threadMem{n: 200, rss: 45 * kib}}, lab.Differs},
		{"threads added no resident memory", memMeasured{proc: procs(1582*kib, 10562*kib), th: threadMem{n: 200, rss: 0}}, lab.Inconclusive},
		{"resident memory shrank", memMeasured{proc: procs(1582*kib, 10562*kib), th: threadMem{n: 200, rss: -4 * kib}}, lab.Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkClaim(t, judgeMemory(tc.m)[0], claimProcMemory, tc.want)
		})
	}
}

func TestJudgeStacks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		th   threadMem
		want string
	}{
		{"8 MiB reserved, 8 KiB resident", threadMem{n: 40, stacks: 39, stackSize: 8 << 20, stackRSS: 8 * kib}, lab.Holds},
		{"a tenth resident", threadMem{n: 40, stacks: 39, stackSize: 1 << 20, stackRSS: 0.1 * (1 << 20)}, lab.Holds},
		{"half resident", threadMem{n: 40, stacks: 39, stackSize: 1 << 20, stackRSS: 0.5 * (1 << 20)}, lab.Holds},
		{"mostly resident", threadMem{n: 40, stacks: 39, stackSize: 1 << 20, stackRSS: 0.51 * (1 << 20)}, lab.Differs},
		{"no stack regions (no cgo)", threadMem{n: 40, vm: 64 * kib, rss: 8 * kib}, lab.Inconclusive},
		{"the address space could not be read", threadMem{n: 40, mapsErr: errors.New("permission denied")}, lab.Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkClaim(t, judgeMemory(memMeasured{proc: procs(1582*kib, 10562*kib), th: tc.th})[1], claimStackReserved, tc.want)
		})
	}
}

// The recap's two memory figures are what one more process and one more
// thread add: the process's own pages and the thread's resident growth,
// not the address space a thread reserves.
func TestMemoryMetrics(t *testing.T) {
	t.Parallel()
	sleep := procs(112*kib, 1810*kib)
	bare := memoryMetrics(memMeasured{proc: procs(1582*kib, 10562*kib), th: threadMem{n: 200, rss: 0, vm: 10 << 20}, g: goroutineMem{n: 100}})
	full := memoryMetrics(memMeasured{proc: procs(1582*kib, 10562*kib), ref: &sleep,
		th: threadMem{n: 200, rss: 45 * kib, vm: 10 << 20, stacks: 39, stackSize: 8 << 20, stackRSS: 8 * kib}, g: goroutineMem{n: 100, rss: 3 * kib, stack: 2 * kib}})
	checkMetricKeys(t, memoryFootprint(), bare, full)
	for _, tc := range []struct {
		key  string
		want float64 // KiB
	}{
		{"memory.process.own", 1582},
		{"memory.process.resident", 10562},
		{"memory.thread.resident", 45},
		{"memory.thread.reserved", 10 << 10},
	} {
		m, ok := lab.FindMetric(full, tc.key)
		if !ok || m.Value != tc.want || m.Unit != "KiB" {
			t.Errorf("%s: got %v %s (found %v), want %v KiB", tc.key, m.Value, m.Unit, ok, tc.want)
		}
	}
}

package probe

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// TreeCPU is the CPU time that the process root and every process
// descended from it have used so far: each one's user and system time
// with that of the children it has waited for, so that a child that ended
// between two readings still counts, in its parent. It is how a browser's
// own load is measured: Chromium runs the page in renderer processes
// under the browser process.
func TreeCPU(root int) (time.Duration, error) {
	procs, err := readProcs()
	if err != nil {
		return 0, err
	}
	if _, ok := procs[root]; !ok {
		return 0, os.ErrNotExist
	}
	var total time.Duration
	for pid, p := range procs {
		if procs.under(pid, root) {
			total += p.cpu
		}
	}
	return total, nil
}

// TreePIDs are the process root and every process descended from it.
func TreePIDs(root int) ([]int, error) {
	procs, err := readProcs()
	if err != nil {
		return nil, err
	}
	if _, ok := procs[root]; !ok {
		return nil, os.ErrNotExist
	}
	var out []int
	for pid := range procs {
		if procs.under(pid, root) {
			out = append(out, pid)
		}
	}
	return out, nil
}

// procTable is every process's parent and CPU time, by pid.
type procTable map[int]procEntry

type procEntry struct {
	ppid int
	cpu  time.Duration
}

func readProcs() (procTable, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	procs := procTable{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if ppid, cpu, ok := statParentCPU(b); ok {
			procs[pid] = procEntry{ppid, cpu}
		}
	}
	return procs, nil
}

// under reports whether root is pid or one of its ancestors.
func (procs procTable) under(pid, root int) bool {
	for a, hops := pid, 0; hops < 64; hops++ {
		if a == root {
			return true
		}
		parent, ok := procs[a]
		if !ok || parent.ppid == a {
			return false
		}
		a = parent.ppid
	}
	return false
}

// statParentCPU reads a process's parent and its CPU time (its own and its
// waited-for children's) from its /proc/<pid>/stat line.
func statParentCPU(stat []byte) (ppid int, cpu time.Duration, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 15 {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, 0, false
	}
	var ticks int64
	for _, s := range f[11:15] {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += v
	}
	return ppid, time.Duration(ticks) * (time.Second / userHZ), true
}

package probe

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Unlimited is what a limit reads when nothing caps it.
const Unlimited = int64(-1)

// ThreadLimits are the caps on how many threads this process could start.
// Every thread is a kernel task: it takes a process id, counts against the
// machine's task limit, the user's process limit and the cgroup's pids
// limit, and (when made by pthread_create) two memory mappings.
type ThreadLimits struct {
	ThreadsMax  int64 // /proc/sys/kernel/threads-max: tasks on the whole machine
	PidMax      int64 // /proc/sys/kernel/pid_max: highest process id, so at most this many tasks
	PidsMax     int64 // the cgroup's pids.max (tightest up the tree), or Unlimited
	PidsCurrent int64 // the cgroup's pids.current, or -1 when unknown
	NProc       int64 // soft RLIMIT_NPROC (ulimit -u), or Unlimited
	Root        bool  // effective uid 0: the kernel does not enforce RLIMIT_NPROC for root
	MaxMapCount int64 // /proc/sys/vm/max_map_count: memory mappings one process may have
	Tasks       int64 // tasks on the machine now (/proc/loadavg), or -1
}

// ReadThreadLimits reads the host's thread limits. Unreadable values are -1.
func ReadThreadLimits() ThreadLimits {
	l := ThreadLimits{
		ThreadsMax:  readInt("/proc/sys/kernel/threads-max"),
		PidMax:      readInt("/proc/sys/kernel/pid_max"),
		MaxMapCount: readInt("/proc/sys/vm/max_map_count"),
		PidsMax:     Unlimited,
		PidsCurrent: -1,
		NProc:       Unlimited,
		Root:        os.Geteuid() == 0,
		Tasks:       -1,
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NPROC, &rl) == nil && rl.Cur != unix.RLIM_INFINITY {
		l.NProc = int64(rl.Cur)
	}
	if dir := cgroupDir("pids"); dir != "" {
		l.PidsMax = tightest(dir, "pids.max")
		l.PidsCurrent = readInt(path.Join(dir, "pids.current"))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		// "0.52 0.58 0.59 2/345 12345": runnable/total tasks is the fourth field.
		if f := strings.Fields(string(b)); len(f) >= 4 {
			if _, total, ok := strings.Cut(f[3], "/"); ok {
				if n, err := strconv.ParseInt(total, 10, 64); err == nil {
					l.Tasks = n
				}
			}
		}
	}
	return l
}

// Headroom is how many more threads this process could start before it
// meets the first limit, and which limit that is. Memory is not counted.
// pthreads says whether each thread gets a C stack of its own (a binary
// linked with cgo), which costs two memory mappings.
func (l ThreadLimits) Headroom(ownThreads int, pthreads bool) (int64, string) {
	best, name := int64(1)<<62, "none"
	consider := func(n int64, what string) {
		if n >= 0 && n < best {
			best, name = max(n, 0), what
		}
	}
	if l.ThreadsMax > 0 && l.Tasks >= 0 {
		consider(l.ThreadsMax-l.Tasks, "kernel.threads-max")
	}
	if l.PidMax > 0 && l.Tasks >= 0 {
		consider(l.PidMax-l.Tasks, "kernel.pid_max")
	}
	if l.PidsMax != Unlimited && l.PidsCurrent >= 0 {
		consider(l.PidsMax-l.PidsCurrent, "the cgroup's pids.max")
	}
	if l.NProc != Unlimited && !l.Root && l.Tasks >= 0 {
		// RLIMIT_NPROC counts the user's tasks, which are at most all tasks.
		consider(l.NProc-l.Tasks, "ulimit -u (RLIMIT_NPROC)")
	}
	if l.MaxMapCount > 0 && pthreads {
		// A pthread stack is two mappings: the stack and its guard page.
		consider(l.MaxMapCount/2-int64(ownThreads), "vm.max_map_count")
	}
	return best, name
}

// MachineMemory is what the machine and this process's cgroup say about memory.
type MachineMemory struct {
	Total       int64 // MemTotal, bytes
	Available   int64 // MemAvailable: what can be used without swapping, bytes
	KernelStack int64 // KernelStack: the kernel stacks of every thread on the machine, bytes
	CgroupLimit int64 // the cgroup's memory limit in bytes, or Unlimited
	CgroupUsage int64 // the cgroup's memory usage in bytes, or -1
}

// ReadMachineMemory reads /proc/meminfo and the memory cgroup.
func ReadMachineMemory() MachineMemory {
	m := MachineMemory{CgroupLimit: Unlimited, CgroupUsage: -1}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
			if !ok {
				continue
			}
			fields := bytes.Fields(v)
			if len(fields) == 0 {
				continue
			}
			n, err := strconv.ParseInt(string(fields[0]), 10, 64)
			if err != nil {
				continue
			}
			switch string(k) {
			case "MemTotal":
				m.Total = n * 1024
			case "MemAvailable":
				m.Available = n * 1024
			case "KernelStack":
				m.KernelStack = n * 1024
			}
		}
		f.Close()
	}
	if dir := cgroupDir("memory"); dir != "" {
		if _, err := os.Stat(path.Join(dir, "memory.max")); err == nil {
			m.CgroupLimit = tightest(dir, "memory.max")
			m.CgroupUsage = readInt(path.Join(dir, "memory.current"))
		} else {
			m.CgroupLimit = tightest(dir, "memory.limit_in_bytes")
			m.CgroupUsage = readInt(path.Join(dir, "memory.usage_in_bytes"))
		}
		// cgroup v1 writes "no limit" as a number near 2^63.
		if m.CgroupLimit > 1<<60 {
			m.CgroupLimit = Unlimited
		}
	}
	return m
}

// Usable is the memory this process could still take: what the machine
// has available, lowered by the cgroup's remaining allowance.
func (m MachineMemory) Usable() int64 {
	n := m.Available
	if m.CgroupLimit != Unlimited && m.CgroupUsage >= 0 {
		n = min(n, m.CgroupLimit-m.CgroupUsage)
	}
	return max(n, 0)
}

// cgroupDir is this process's directory in the cgroup hierarchy that holds
// controller (v1), or in the unified hierarchy (v2); "" when not found.
func cgroupDir(controller string) string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	var v2 string
	for line := range strings.Lines(string(b)) {
		// "hierarchy-id:controllers:path"
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
			continue
		}
		for c := range strings.SplitSeq(parts[1], ",") {
			if c == controller {
				dir := path.Join("/sys/fs/cgroup", controller, parts[2])
				if _, err := os.Stat(dir); err == nil {
					return dir
				}
				// Inside a container the path is often relative to a root
				// mounted at the controller's top.
				return path.Join("/sys/fs/cgroup", controller)
			}
		}
	}
	if v2 != "" {
		dir := path.Join("/sys/fs/cgroup", v2)
		if _, err := os.Stat(path.Join(dir, "cgroup.controllers")); err == nil {
			return dir
		}
	}
	return ""
}

// tightest reads a limit file in dir and its parents up to the hierarchy's
// root and returns the lowest value; "max" or a missing file means no limit
// at that level.
func tightest(dir, file string) int64 {
	best := Unlimited
	for d := dir; strings.HasPrefix(d, "/sys/fs/cgroup"); d = path.Dir(d) {
		if n := readInt(path.Join(d, file)); n >= 0 && (best == Unlimited || n < best) {
			best = n
		}
		if d == "/sys/fs/cgroup" {
			break
		}
	}
	return best
}

// Cap is the most threads one process could have on this host, whatever
// else runs, and the limit that sets it. pthreads as for Headroom.
func (l ThreadLimits) Cap(pthreads bool) (int64, string) {
	best, name := int64(1)<<62, "none"
	consider := func(n int64, what string) {
		if n > 0 && n < best {
			best, name = n, what
		}
	}
	consider(l.ThreadsMax, "kernel.threads-max")
	consider(l.PidMax, "kernel.pid_max")
	if l.PidsMax != Unlimited {
		consider(l.PidsMax, "the cgroup's pids.max")
	}
	if l.NProc != Unlimited && !l.Root {
		consider(l.NProc, "ulimit -u (RLIMIT_NPROC)")
	}
	if l.MaxMapCount > 0 && pthreads {
		consider(l.MaxMapCount/2, "vm.max_map_count")
	}
	return best, name
}

package probe

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// CPUTimes is one reading of how much work the CPUs a run may use have
// done, and how much of it was the run's own. Two readings around a
// measurement say how busy the rest of the machine kept those CPUs
// meanwhile (Others).
type CPUTimes struct {
	At   time.Time
	CPUs int           // the CPUs read
	Busy time.Duration // user + nice + system + steal on those CPUs, from /proc/stat
	Own  time.Duration // CPU time of this process's group (see GroupCPU)
	// Outside is the CPU time of every process outside the group (kernel
	// threads left out), with the children each has waited for, whatever
	// CPU it ran on.
	Outside time.Duration
	// Parent is the CPU time of the process that started this one, when it
	// is outside the group: the server, worker or command that runs the
	// experiment and relays its events to every viewer. It is part of
	// Outside and of Busy, and Others leaves it out of both: what the run's
	// own server spends watching the run is not another program competing
	// with it.
	Parent time.Duration
}

// ReadCPUTimes reads /proc/stat for the given CPUs and this process
// group's CPU time. Steal (time the hypervisor gave this VM's CPU to
// someone else) counts as busy: it is time the run wanted and did not get.
// Interrupt time does not: the kernel charges a run's own network and disk
// interrupts there, not to the run.
func ReadCPUTimes(cpus []int) (CPUTimes, error) {
	t := CPUTimes{At: time.Now(), CPUs: len(cpus)}
	t.Own, t.Outside, t.Parent = groupCPU()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return t, err
	}
	want := map[int]bool{}
	for _, c := range cpus {
		want[c] = true
	}
	found := 0
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) < 9 || !bytes.HasPrefix(f[0], []byte("cpu")) || len(f[0]) == 3 {
			continue
		}
		n, err := strconv.Atoi(string(f[0][3:]))
		if err != nil || !want[n] {
			continue
		}
		var v [8]int64 // user nice system idle iowait irq softirq steal
		for i := range v {
			if v[i], err = strconv.ParseInt(string(f[i+1]), 10, 64); err != nil {
				return t, err
			}
		}
		t.Busy += time.Duration(v[0]+v[1]+v[2]+v[7]) * (time.Second / userHZ)
		found++
	}
	if found != len(cpus) {
		return t, errors.New("/proc/stat does not list every CPU this process may use")
	}
	return t, nil
}

// Others is how many CPUs' worth of time other programs used, on average,
// on the CPUs read, between an earlier reading and this one: their busy
// time minus this process group's own, divided by the wall time. The
// kernel counts in ticks of 10 ms per CPU, so over less than a second the
// figure is coarse; it is kept within 0 and the CPUs read.
//
// Two accounts are kept, and the smaller one counts. The CPUs' busy time
// minus the group's own is right for the CPUs the run may use, but it
// also holds work the run caused and was not charged for: creating and
// reaping hundreds of short processes, a kernel thread freeing their
// memory. The processes outside the group are counted whole, on any CPU.
// A machine is busy only when both say so. The parent's time (the server
// relaying the run's events to its viewers) is left out of both.
func (t CPUTimes) Others(since CPUTimes) float64 {
	wall := t.At.Sub(since.At)
	if wall <= 0 {
		return 0
	}
	parent := max(0, t.Parent-since.Parent)
	onCPUs := (t.Busy - since.Busy) - (t.Own - since.Own) - parent
	other := min(onCPUs, t.Outside-since.Outside-parent)
	return min(float64(t.CPUs), max(0, other.Seconds()/wall.Seconds())) // ticks can overshoot a short wall
}

// GroupCPU is the CPU time of this process (every thread, and every child
// it has waited for) plus that of every other live process in its process
// group: a run's worker processes, python3 and perf, which a run started
// and has not waited for yet.
func GroupCPU() time.Duration {
	own, _, _ := groupCPU()
	return own
}

// Server is how many CPUs' worth of time the parent process (see
// CPUTimes.Parent) used, on average, between an earlier reading and this
// one.
func (t CPUTimes) Server(since CPUTimes) float64 {
	wall := t.At.Sub(since.At)
	if wall <= 0 {
		return 0
	}
	return max(0, (t.Parent-since.Parent).Seconds()/wall.Seconds())
}

// groupCPU is GroupCPU, the CPU time of every process outside the group
// that is not a kernel thread (with the children each has waited for), and
// the part of that which is this process's parent, from one pass over
// /proc.
func groupCPU() (own, outside, parent time.Duration) {
	own = ProcessUsage().CPU() + ChildrenUsage().CPU()
	self, ppid := os.Getpid(), os.Getppid()
	pgrp := unix.Getpgrp()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return own, 0, 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		g, cpu, kthread, ok := statCPU(b)
		switch {
		case !ok || kthread:
		case g == pgrp:
			own += cpu
		default:
			outside += cpu
			if pid == ppid && ppid > 1 {
				parent = cpu
			}
		}
	}
	return own, outside, parent
}

// statCPU reads a process's group and its CPU time (its own and that of
// the children it waited for) from its /proc/<pid>/stat line.
func statCPU(stat []byte) (pgrp int, cpu time.Duration, kthread, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false, false
	}
	f := bytes.Fields(stat[i+1:])
	// After the command: state ppid pgrp session tty tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime ...
	if len(f) < 15 {
		return 0, 0, false, false
	}
	pgrp, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, false, false
	}
	flags, _ := strconv.ParseUint(string(f[6]), 10, 64)
	const pfKthread = 0x00200000 // PF_KTHREAD in include/linux/sched.h
	var ticks int64
	for _, s := range f[11:15] {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, 0, false, false
		}
		ticks += v
	}
	return pgrp, time.Duration(ticks) * (time.Second / userHZ), flags&pfKthread != 0, true
}

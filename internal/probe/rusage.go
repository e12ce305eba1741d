package probe

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Usage is what getrusage reports: CPU time and the kernel's count of
// context switches. Voluntary switches happen when a thread blocks (waits
// for a pipe, a lock, a timer); involuntary ones when the scheduler takes
// the CPU away because its time slice ran out or a more urgent thread woke.
type Usage struct {
	User, System           time.Duration
	Voluntary, Involuntary int64
}

// Sub returns u - v, the usage between two readings.
func (u Usage) Sub(v Usage) Usage {
	return Usage{
		User:        u.User - v.User,
		System:      u.System - v.System,
		Voluntary:   u.Voluntary - v.Voluntary,
		Involuntary: u.Involuntary - v.Involuntary,
	}
}

// Add is the usage of two spans together.
func (u Usage) Add(v Usage) Usage {
	return Usage{User: u.User + v.User, System: u.System + v.System, Voluntary: u.Voluntary + v.Voluntary, Involuntary: u.Involuntary + v.Involuntary}
}

// Switches is the total of voluntary and involuntary switches.
func (u Usage) Switches() int64 { return u.Voluntary + u.Involuntary }

// CPU is user plus system time.
func (u Usage) CPU() time.Duration { return u.User + u.System }

// ProcessUsage is getrusage(RUSAGE_SELF): every thread of this process,
// including the ones that have exited.
func ProcessUsage() Usage { return getrusage(unix.RUSAGE_SELF) }

// ThreadUsage is getrusage(RUSAGE_THREAD) for the calling thread; hold
// runtime.LockOSThread around the readings.
func ThreadUsage() Usage { return getrusage(unix.RUSAGE_THREAD) }

// ChildrenUsage is getrusage(RUSAGE_CHILDREN): every child this process has
// waited for.
func ChildrenUsage() Usage { return getrusage(unix.RUSAGE_CHILDREN) }

func getrusage(who int) Usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return Usage{}
	}
	return FromRusage(&ru)
}

// FromRusage converts a raw rusage, such as the one wait4 fills in for a
// child (os.ProcessState.SysUsage), to a Usage. A nil rusage gives zero.
func FromRusage(ru *syscall.Rusage) Usage {
	if ru == nil {
		return Usage{}
	}
	return Usage{
		User:        time.Duration(ru.Utime.Nano()),
		System:      time.Duration(ru.Stime.Nano()),
		Voluntary:   ru.Nvcsw,
		Involuntary: ru.Nivcsw,
	}
}

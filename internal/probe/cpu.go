package probe

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Tid returns the kernel id of the calling thread. Call it from a goroutine
// locked with runtime.LockOSThread, or the answer may be stale at once.
func Tid() int { return unix.Gettid() }

// CurrentCPU returns the CPU the calling thread is running on, through the
// getcpu system call (about 0.1 µs, cheap enough to sample inside a loop
// every few thousand iterations).
func CurrentCPU() int {
	var cpu uint32
	_, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0)
	if errno != 0 {
		return -1
	}
	return int(cpu)
}

// AllowedCPUs lists the CPUs the calling thread may run on (its affinity
// mask), in increasing order.
func AllowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var cpus []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// PinThread restricts the calling thread to the given CPUs. The caller must
// hold runtime.LockOSThread for the pin to mean anything.
func PinThread(cpus ...int) error {
	return setAffinity(0, cpus)
}

// PinProcess restricts every thread of this process to the given CPUs.
// Threads the Go runtime starts later inherit the mask from the thread that
// creates them, so after this call the whole process stays on cpus. It goes
// over /proc/self/task until a pass finds no new thread, because the runtime
// may start a thread while the first pass runs.
func PinProcess(cpus ...int) error {
	done := map[int]bool{}
	for pass := 0; pass < 10; pass++ {
		tids, err := TaskIDs()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			if err := setAffinity(tid, cpus); err != nil && !errors.Is(err, unix.ESRCH) {
				return err
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}

// KeepOff moves every thread of this process off the given CPUs, onto the
// others it may use, so that what a measurement then pins there runs
// alone: the goroutines that sample, report and write events, and the Go
// runtime's own threads, stay on the rest. It returns the function that
// lets the process back onto every CPU it had. When no CPU would be left,
// it changes nothing. Threads pinned later (PinThread) go where they are
// pinned.
func KeepOff(cpus ...int) (restore func(), err error) {
	allowed, err := AllowedCPUs()
	if err != nil {
		return func() {}, err
	}
	off := map[int]bool{}
	for _, c := range cpus {
		off[c] = true
	}
	var rest []int
	for _, c := range allowed {
		if !off[c] {
			rest = append(rest, c)
		}
	}
	if len(rest) == 0 || len(rest) == len(allowed) {
		return func() {}, nil
	}
	if err := PinProcess(rest...); err != nil {
		PinProcess(allowed...)
		return func() {}, err
	}
	return func() { PinProcess(allowed...) }, nil
}

func setAffinity(tid int, cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("pin: no CPUs given")
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(tid, &set); err != nil {
		return fmt.Errorf("sched_setaffinity(%d, %v): %w", tid, cpus, err)
	}
	return nil
}

// TaskIDs lists the kernel ids of this process's threads.
func TaskIDs() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(entries))
	for _, e := range entries {
		if id, err := strconv.Atoi(e.Name()); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

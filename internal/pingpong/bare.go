package pingpong

import (
	"fmt"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A bare ping-pong does nothing but the two system calls of a hand-off —
// write one byte, read one byte — with no Go runtime work between them:
// the calls are raw (unix.RawSyscall), so the runtime does not note that
// the thread entered the kernel or left it, and no scheduler, timer or
// garbage collector bookkeeping runs between one switch and the next. It
// is the same exchange as `perf bench sched pipe`'s C loop, and measures
// what the switch itself costs (with one pipe write, read and wake-up
// each way) rather than what a Go program pays around it.
//
// The runtime cannot stop a thread that is blocked in a raw system call,
// so a bare ping-pong runs only in a worker process of its own that does
// nothing else, on threads locked with runtime.LockOSThread, after Quiet.

// Quiet prepares a worker process for bare round trips: it collects the
// garbage once and turns the collector off, so no stop-the-world pause can
// wait on a thread blocked in a raw read. Start such a worker with
// GODEBUG=asyncpreemptoff=1 too, so no preemption signal interrupts a read.
func Quiet() {
	debug.SetGCPercent(-1)
	debug.FreeOSMemory()
}

// BareRounds returns round trips that write a byte to out and read it back
// from in with raw system calls.
func BareRounds(out, in int) func(n int) error {
	b := new(byte)
	p := uintptr(unsafe.Pointer(b))
	return func(n int) error {
		for range n {
			if err := rawIO(unix.SYS_WRITE, out, p); err != nil {
				return err
			}
			if err := rawIO(unix.SYS_READ, in, p); err != nil {
				return err
			}
		}
		return nil
	}
}

// BareEcho copies one byte at a time from in to out with raw system calls
// until in reaches end of file: the far side of a bare ping-pong. It first
// writes one byte to out, so the other side knows it is ready.
func BareEcho(in, out int) error {
	b := new(byte)
	p := uintptr(unsafe.Pointer(b))
	if err := rawIO(unix.SYS_WRITE, out, p); err != nil {
		return err
	}
	for {
		n, errno := rawCall(unix.SYS_READ, in, p)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return errno
		case n == 0:
			return nil // the other side closed: done
		}
		if err := rawIO(unix.SYS_WRITE, out, p); err != nil {
			return err
		}
	}
}

// rawIO reads or writes exactly one byte, retrying when a signal
// interrupts the call.
func rawIO(call uintptr, fd int, p uintptr) error {
	for {
		n, errno := rawCall(call, fd, p)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return errno
		case n != 1:
			return fmt.Errorf("the other side closed the pipe")
		}
		return nil
	}
}

func rawCall(call uintptr, fd int, p uintptr) (uintptr, unix.Errno) {
	n, _, errno := unix.RawSyscall(call, uintptr(fd), p, 1)
	return n, errno
}

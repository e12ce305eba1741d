package processesvsthreads

import (
	"context"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Waiting on shared memory. One side changes a 32-bit word; the other waits
// for the change. The waiter first spins, reading the word again and again,
// which costs no system call and catches a quick answer at once. If no
// answer comes within spinFor it goes to sleep on a futex, the kernel's
// "wake me when this word may have changed" call, so that on a busy
// machine it stops burning a CPU the other side may need. That is how locks shared between processes work too: the kernel is
// involved only when somebody has to sleep.
//
// The futex calls are the shared (not process-private) kind, so they work
// on a memory file mapped by two processes as well as on ordinary memory.

// The futex operations (linux/futex.h), shared between processes.
const (
	futexWaitOp = 0 // FUTEX_WAIT
	futexWakeOp = 1 // FUTEX_WAKE
)

// spinFor is how long a waiter spins before it sleeps. When the two sides
// are pinned to CPUs of their own, an answer comes well within 50 µs unless
// the other side was pushed off its CPU. When they must share one CPU, the
// other side cannot run until the waiter stops spinning, so a waiter
// sleeps at once. message-passing sets it for each run and passes it on to
// its workers.
var spinFor = 50 * time.Microsecond

// sleepTimeout bounds one futex sleep, so a waiter notices a cancelled run.
const sleepTimeout = 20 * time.Millisecond

// await waits until *word is no longer old, or *stop (if given) is set.
// sleeping is the flag that tells the other side to wake this one; each
// waiter has its own.
func await(ctx context.Context, word *uint32, old uint32, sleeping, stop *uint32) error {
	changed := func() bool {
		return atomic.LoadUint32(word) != old || (stop != nil && atomic.LoadUint32(stop) != 0)
	}
	start := time.Now()
	for i := 1; ; i++ {
		if changed() {
			return nil
		}
		if i%64 == 0 && time.Since(start) > spinFor {
			break
		}
	}
	// snippet:futex-sleep
	for {
		atomic.StoreUint32(sleeping, 1)
		if changed() { // it changed before we said we sleep: the waker may not know
			atomic.StoreUint32(sleeping, 0)
			return nil
		}
		futexWait(word, old)
		atomic.StoreUint32(sleeping, 0)
		if changed() {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	// end snippet
}

// notify wakes the other side if it is asleep on word. Call it after
// changing the word (or the stop flag).
func notify(word *uint32, sleeping *uint32) {
	if atomic.LoadUint32(sleeping) != 0 {
		futexWake(word)
	}
}

func futexWait(word *uint32, old uint32) {
	ts := unix.NsecToTimespec(int64(sleepTimeout))
	// FUTEX_WAIT returns at once when *word != old, so a change that
	// happened just before the call is not missed.
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitOp, uintptr(old), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

func futexWake(word *uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWakeOp, 1<<30, 0, 0, 0)
}

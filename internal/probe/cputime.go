package probe

import (
	"time"

	"golang.org/x/sys/unix"
)

// ThreadCPUTime is the CPU time the calling thread has used so far, from
// clock_gettime(CLOCK_THREAD_CPUTIME_ID): nanosecond-grained, unlike
// getrusage's split into user and system time, and cheap enough (well under
// a microsecond) to read around every phase of a task. Hold
// runtime.LockOSThread across readings, or they may come from different
// threads.
func ThreadCPUTime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

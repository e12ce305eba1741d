package contextswitching

import (
	"os"
	"syscall"

	"conclab/internal/probe"
)

// workerUsage is what the kernel counted for a finished worker process;
// false when it gave nothing.
func workerUsage(ps *os.ProcessState) (probe.Usage, bool) {
	if ps == nil {
		return probe.Usage{}, false
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return probe.Usage{}, false
	}
	return probe.FromRusage(ru), true
}

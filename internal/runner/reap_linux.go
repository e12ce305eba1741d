package runner

import (
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// BecomeSubreaper makes this process adopt the orphans of its children:
// when a run's child dies, the workers it started become ours, so
// reapGroup can wait for them and none is left a zombie. Call it once at
// start-up in any process that runs experiments.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// killGroup sends SIGKILL to every process of a run's group.
func killGroup(pgid int) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// reapGroup waits for every member of the group that is now our child (the
// run's orphans, when we are a subreaper) so none stays a zombie. The group
// was killed, so each wait is short; it gives up after a few seconds rather
// than hang on a process stuck in the kernel.
func reapGroup(pgid int) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.ECHILD):
			return // no child of ours left in the group
		case errors.Is(err, syscall.EINTR):
		case err != nil:
			return
		case pid == 0:
			time.Sleep(2 * time.Millisecond) // alive, dying from the SIGKILL
		}
	}
}

package contextswitching

import (
	"os"
	"syscall"
)

func sysUsage(ps *os.ProcessState) *syscall.Rusage {
	ru, _ := ps.SysUsage().(*syscall.Rusage)
	return ru
}

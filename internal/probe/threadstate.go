package probe

import (
	"bytes"
	"fmt"
	"os"
)

// ThreadStates counts this process's threads and lists those the kernel
// has running or ready to run (state R in /proc/self/task/*/stat). A
// thread asleep in a system call, parked by the Go runtime, or waiting on
// a lock is not running. The calling thread is among the running; a
// caller locked to its thread can leave itself out by its Tid. It reads
// one small file per thread: cheap enough to call every few milliseconds,
// not inside a timed loop.
func ThreadStates() (running []int, total int, err error) {
	tids, err := TaskIDs()
	if err != nil {
		return nil, 0, err
	}
	for _, tid := range tids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
		if err != nil {
			continue // the thread exited between the listing and the read
		}
		total++
		if threadState(b) == 'R' {
			running = append(running, tid)
		}
	}
	return running, total, nil
}

// threadState returns the state letter of a stat line. The command name
// before it is in parentheses and may itself contain spaces or ')', so
// the state is found after the last ')'.
func threadState(stat []byte) byte {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return 0
	}
	return stat[i+2]
}

package probe

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Status holds the fields of /proc/<pid>/status that experiments use.
type Status struct {
	Threads     int   // number of threads in the process
	RSS         int64 // resident memory, bytes (VmRSS)
	PeakRSS     int64 // highest resident memory so far, bytes (VmHWM)
	VM          int64 // virtual memory reserved, bytes (VmSize)
	Voluntary   int64 // voluntary context switches of the thread or process's main thread
	Involuntary int64 // involuntary context switches, same scope
}

// Self reads /proc/self/status.
func Self() (Status, error) { return readStatus("/proc/self/status") }

// Process reads /proc/<pid>/status of another process.
func Process(pid int) (Status, error) { return readStatus(fmt.Sprintf("/proc/%d/status", pid)) }

// Thread reads /proc/self/task/<tid>/status: one thread of this process,
// with its own switch counts.
func Thread(tid int) (Status, error) {
	return readStatus(fmt.Sprintf("/proc/self/task/%d/status", tid))
}

// Threads returns how many threads this process has now, from
// /proc/self/status. It returns -1 if /proc cannot be read.
func Threads() int {
	s, err := Self()
	if err != nil {
		return -1
	}
	return s.Threads
}

// RSS returns this process's resident memory in bytes, or -1.
func RSS() int64 {
	s, err := Self()
	if err != nil {
		return -1
	}
	return s.RSS
}

func readStatus(path string) (Status, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Status{}, err
	}
	return parseStatus(b), nil
}

func parseStatus(b []byte) Status {
	var s Status
	for line := range bytes.Lines(b) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		f := bytes.Fields(val)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			continue
		}
		switch string(key) {
		case "Threads":
			s.Threads = int(n)
		case "VmRSS":
			s.RSS = n * 1024
		case "VmHWM":
			s.PeakRSS = n * 1024
		case "VmSize":
			s.VM = n * 1024
		case "voluntary_ctxt_switches":
			s.Voluntary = n
		case "nonvoluntary_ctxt_switches":
			s.Involuntary = n
		}
	}
	return s
}

package probe

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of /proc/stat: the kernel reports CPU time in ticks
// of 1/100 s to user space on every mainstream architecture, whatever its
// internal tick rate.
const userHZ = 100

// SystemCPU reads the first line of /proc/stat: the CPU time every program
// on the machine has used since boot, summed over all CPUs (user, nice,
// system, irq, softirq and steal), and the time CPUs sat idle (idle and
// iowait). Two readings around a measurement tell how busy the rest of the
// machine was meanwhile: subtract the measuring process's own CPU time
// from the difference. The resolution is 10 ms per CPU.
func SystemCPU() (busy, idle time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0, 0, errors.New("/proc/stat: no cpu line")
	}
	var v [8]int64 // user nice system idle iowait irq softirq steal
	for i := range v {
		if v[i], err = strconv.ParseInt(string(f[i+1]), 10, 64); err != nil {
			return 0, 0, err
		}
	}
	tick := time.Second / userHZ
	busy = time.Duration(v[0]+v[1]+v[2]+v[5]+v[6]+v[7]) * tick
	idle = time.Duration(v[3]+v[4]) * tick
	return busy, idle, nil
}

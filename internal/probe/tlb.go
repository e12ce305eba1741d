package probe

import (
	"bytes"
	"os"
	"strings"
)

// TLBFacts says what a process switch costs this CPU in address-space
// terms: pcid is true when the CPU tags TLB entries by process (so a
// switch need not flush them), pti when the kernel isolates its page
// tables from user space (the Meltdown mitigation, which makes every system
// call and switch change page tables).
func TLBFacts() (pcid, pti bool) {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range bytes.Lines(b) {
			if bytes.HasPrefix(line, []byte("flags")) {
				pcid = bytes.Contains(line, []byte(" pcid"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/sys/devices/system/cpu/vulnerabilities/meltdown"); err == nil {
		pti = strings.Contains(string(b), "PTI")
	}
	return pcid, pti
}

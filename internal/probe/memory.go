package probe

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is how much memory a process uses, from /proc/<pid>/smaps_rollup
// and /proc/<pid>/status. Resident memory counts a page once in every
// process that maps it; Pss shares such a page out among them; Private
// counts only the pages no other process maps, which is what starting one
// more copy of the process really costs.
type Memory struct {
	RSS        int64 // resident, bytes, shared pages counted in full
	PSS        int64 // proportional share: shared pages divided among their users
	Private    int64 // Private_Clean + Private_Dirty: pages only this process maps
	Anonymous  int64 // resident pages not backed by a file (heap, stacks)
	VM         int64 // virtual memory reserved (VmSize)
	PageTables int64 // the kernel's page tables for this process (VmPTE)
	Threads    int   // threads in the process
}

// ProcessMemory reads the memory of process pid; 0 means this process.
// smaps_rollup exists since Linux 4.14.
func ProcessMemory(pid int) (Memory, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = fmt.Sprintf("/proc/%d", pid)
	}
	var m Memory
	b, err := os.ReadFile(dir + "/smaps_rollup")
	if err != nil {
		return m, err
	}
	for line := range bytes.Lines(b) {
		key, val, ok := kbField(line)
		if !ok {
			continue
		}
		switch key {
		case "Rss":
			m.RSS = val
		case "Pss":
			m.PSS = val
		case "Private_Clean", "Private_Dirty":
			m.Private += val
		case "Anonymous":
			m.Anonymous = val
		}
	}
	b, err = os.ReadFile(dir + "/status")
	if err != nil {
		return m, err
	}
	for line := range bytes.Lines(b) {
		key, n, ok := field(line)
		if !ok {
			continue
		}
		switch key {
		case "VmSize":
			m.VM = n * 1024
		case "VmPTE":
			m.PageTables = n * 1024
		case "Threads":
			m.Threads = int(n)
		}
	}
	return m, nil
}

// kbField parses a "Key:   123 kB" line into the key and bytes.
func kbField(line []byte) (string, int64, bool) {
	key, n, ok := field(line)
	return key, n * 1024, ok
}

// field parses a "Key:   123 ..." line into the key and the number.
func field(line []byte) (string, int64, bool) {
	key, val, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return "", 0, false
	}
	f := bytes.Fields(val)
	if len(f) == 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return "", 0, false
	}
	return string(key), n, true
}

// Mapping is one region of a process's address space, from
// /proc/<pid>/smaps: what is reserved (Size) and how much of it is
// resident in RAM now (RSS).
type Mapping struct {
	Start, End uint64
	Perms      string // e.g. "rw-p"
	Name       string // file, "[heap]", "[stack]", or "" for anonymous memory
	Size       int64  // bytes reserved
	RSS        int64  // bytes resident
}

// Mappings lists the regions of this process's address space with their
// sizes and resident memory. It reads /proc/self/smaps, which takes a few
// milliseconds for a large process: call it between measurements.
func Mappings() ([]Mapping, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Mapping
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m, ok := parseMapHeader(line); ok {
			out = append(out, m)
			continue
		}
		if len(out) == 0 {
			continue
		}
		key, val, ok := kbField([]byte(line))
		if !ok {
			continue
		}
		switch key {
		case "Size":
			out[len(out)-1].Size = val
		case "Rss":
			out[len(out)-1].RSS = val
		}
	}
	return out, sc.Err()
}

// parseMapHeader reads a line such as
// "7f12a000-7f12b000 rw-p 00000000 00:00 0    [stack]".
func parseMapHeader(line string) (Mapping, bool) {
	f := strings.Fields(line)
	if len(f) < 5 || strings.HasSuffix(f[0], ":") {
		return Mapping{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return Mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil {
		return Mapping{}, false
	}
	m := Mapping{Start: start, End: end, Perms: f[1]}
	if len(f) > 5 {
		m.Name = strings.Join(f[5:], " ")
	}
	return m, true
}

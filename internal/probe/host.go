package probe

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Host is what a learner needs to know about the machine to read any number
// measured on it. It is served at /api/host and sent in every run's
// started event.
type Host struct {
	// Name is the measuring host's name: what its operator chose, passed
	// down in HostNameEnv, else the machine's hostname.
	Name       string  `json:"name"`
	CPUModel   string  `json:"cpu_model"`
	Logical    int     `json:"logical_cpus"`        // CPUs the kernel has online
	Usable     int     `json:"usable_cpus"`         // CPUs this process may use: its affinity mask
	Cores      int     `json:"cores,omitempty"`     // physical cores those CPUs sit on (fewer than Usable with hyper-threads)
	Quota      float64 `json:"cpu_quota,omitempty"` // a cgroup CPU quota in CPUs, when one is set
	GOMAXPROCS int     `json:"gomaxprocs"`          // the Go runtime's default for this process
	Kernel     string  `json:"kernel"`              // uname release
	GoVersion  string  `json:"go_version"`          // the toolchain that built the binary
	Arch       string  `json:"arch"`                // GOOS/GOARCH
	Virtual    string  `json:"virtualization"`      // "none", "VM", "container" or "VM, container"
	Notes      string  `json:"notes,omitempty"`     // a short plain-words reading of the above
	Python     string  `json:"python3,omitempty"`   // path of python3 when present
	Perf       string  `json:"perf,omitempty"`      // path of perf when present
}

// EffectiveCores is the number of physical cores work can really compute
// on at once: the cores under the affinity mask, lowered by a cgroup
// quota. It is EffectiveCPUs without the hyper-threads.
func (h Host) EffectiveCores() int {
	if h.Cores <= 0 {
		return h.EffectiveCPUs()
	}
	return min(h.Cores, h.EffectiveCPUs())
}

// EffectiveCPUs is the number of CPUs work can really run on at once: the
// affinity mask, lowered by a cgroup quota when there is one.
func (h Host) EffectiveCPUs() int {
	n := h.Usable
	if h.Quota > 0 && int(h.Quota+0.5) < n {
		n = max(1, int(h.Quota+0.5))
	}
	return n
}

// UsableCPUs is EffectiveCPUs read now, not from the facts ReadHost keeps
// for the life of the process: the affinity mask of the calling thread,
// lowered by the cgroup quota.
func UsableCPUs() int {
	h := Host{Quota: cgroupQuota(), Usable: runtime.NumCPU()}
	if cpus, err := AllowedCPUs(); err == nil {
		h.Usable = len(cpus)
	}
	return max(1, h.EffectiveCPUs())
}

var (
	hostOnce sync.Once
	hostInfo Host
)

// ReadHost returns the host facts. They are read once per process: none of
// them changes while it runs.
func ReadHost() Host {
	hostOnce.Do(func() { hostInfo = readHost() })
	return hostInfo
}

// HostNameEnv carries a measuring host's chosen name to the processes it
// starts, so that a run's started event names the host that measured it.
const HostNameEnv = "CONCLAB_HOST_NAME"

// HostName is this machine's name as a measuring host: HostNameEnv when
// set, else its hostname.
func HostName() string {
	if n := os.Getenv(HostNameEnv); n != "" {
		return n
	}
	if n, err := os.Hostname(); err == nil && n != "" {
		return n
	}
	return "this machine"
}

func readHost() Host {
	h := Host{
		Name:       HostName(),
		CPUModel:   cpuModel(),
		Logical:    onlineCPUs(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		Arch:       runtime.GOOS + "/" + runtime.GOARCH,
		Quota:      cgroupQuota(),
	}
	if cpus, err := AllowedCPUs(); err == nil {
		h.Usable = len(cpus)
		h.Cores = Cores(cpus)
	} else {
		h.Usable = runtime.NumCPU()
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		h.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	h.Virtual = virtualization()
	h.Python = lookPath("python3")
	h.Perf = lookPath("perf")
	h.Notes = hostNotes(h)
	return h
}

func hostNotes(h Host) string {
	var notes []string
	if h.EffectiveCPUs() < 2 {
		notes = append(notes, "only one CPU is usable here, so nothing can run in parallel")
	}
	if strings.Contains(h.Virtual, "VM") {
		notes = append(notes, "a virtual machine: waking a thread on another CPU goes through the hypervisor, so cross-CPU figures run high")
	}
	if h.Quota > 0 {
		notes = append(notes, "a cgroup quota caps CPU time at "+strconv.FormatFloat(h.Quota, 'f', 1, 64)+" CPUs")
	}
	s := strings.Join(notes, "; ")
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name", "Model", "cpu model", "Processor":
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return "unknown"
}

func onlineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for part := range strings.SplitSeq(strings.TrimSpace(string(b)), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		if !isRange {
			if err1 == nil {
				n++
			}
			continue
		}
		b, err2 := strconv.Atoi(hi)
		if err1 == nil && err2 == nil && b >= a {
			n += b - a + 1
		}
	}
	if n == 0 {
		return runtime.NumCPU()
	}
	return n
}

// cgroupQuota returns the CPU quota of this process's cgroup in CPUs, or 0
// when there is none: the tightest quota on the way from its own cgroup up
// to the hierarchy's root, since a parent's quota caps its children too.
// It knows cgroup v2 (cpu.max) and v1 (cpu.cfs_quota_us).
func cgroupQuota() float64 {
	dir := cgroupDir("cpu")
	if dir == "" {
		return 0
	}
	best := 0.0
	for d := dir; strings.HasPrefix(d, "/sys/fs/cgroup"); d = path.Dir(d) {
		if q := quotaIn(d); q > 0 && (best == 0 || q < best) {
			best = q
		}
		if d == "/sys/fs/cgroup" {
			break
		}
	}
	return best
}

// quotaIn reads one cgroup directory's CPU quota in CPUs, 0 for none.
func quotaIn(dir string) float64 {
	if b, err := os.ReadFile(path.Join(dir, "cpu.max")); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 && f[0] != "max" {
			q, err1 := strconv.ParseFloat(f[0], 64)
			p, err2 := strconv.ParseFloat(f[1], 64)
			if err1 == nil && err2 == nil && p > 0 {
				return q / p
			}
		}
		return 0
	}
	q := readInt(path.Join(dir, "cpu.cfs_quota_us"))
	p := readInt(path.Join(dir, "cpu.cfs_period_us"))
	if q > 0 && p > 0 {
		return float64(q) / float64(p)
	}
	return 0
}

func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func virtualization() string {
	var kinds []string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil && bytes.Contains(b, []byte(" hypervisor")) {
		kinds = append(kinds, "VM")
	}
	if inContainer() {
		kinds = append(kinds, "container")
	}
	if len(kinds) == 0 {
		return "none"
	}
	return strings.Join(kinds, ", ")
}

func inContainer() bool {
	for _, p := range []string{"/.dockerenv", "/run/.containerenv"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	if b, err := os.ReadFile("/proc/1/cgroup"); err == nil {
		for _, k := range []string{"docker", "kubepods", "containerd", "lxc", "podman"} {
			if bytes.Contains(b, []byte(k)) {
				return true
			}
		}
	}
	return os.Getenv("container") != ""
}

func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

package lessons_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/e2e"
	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/internal/probe"
	"conclab/lessons"
)

// oneCPUEnv, set in the environment of a re-executed test binary, makes
// TestEveryExperimentOnOneCPU do the runs in it: "affinity" when the
// binary was started pinned to one CPU, "quota" when it was started in a
// cgroup with a quota of one CPU.
const oneCPUEnv = "CONCLAB_TEST_ONE_CPU"

// TestEveryExperimentOnOneCPU runs every experiment in quick mode on one
// CPU, twice: in a copy of the test binary started pinned to one CPU
// (sched_setaffinity, inherited by every run's child and its workers), and
// in one started in a cgroup whose CPU quota is one CPU (where the test
// can make one: root and a writable cgroup cpu controller, v2 or v1; else
// it says why it cannot). Every run must finish, and every claim whose
// Expected says it needs two CPUs must be inconclusive there and say why.
func TestEveryExperimentOnOneCPU(t *testing.T) {
	if how := os.Getenv(oneCPUEnv); how != "" {
		checkEveryExperimentOnOneCPU(t, how)
		return
	}
	if testing.Short() {
		t.Skip("runs every experiment twice more; skipped with -short")
	}
	t.Run("affinity", func(t *testing.T) {
		cpus, err := probe.AllowedCPUs()
		if err != nil {
			t.Fatal(err)
		}
		cmd := reexec(t, "affinity")
		if err := startPinned(cmd, cpus[0]); err != nil {
			t.Fatal(err)
		}
		waitReexec(t, cmd)
	})
	t.Run("quota", func(t *testing.T) {
		dir, err := quotaCgroup(t)
		if err != nil {
			t.Skipf("cannot make a cgroup with a CPU quota here, so this part is not tested: %v", err)
		}
		// A shell joins the cgroup, then becomes the test binary: nothing
		// of the binary runs before it is under the quota.
		cmd := reexec(t, "quota")
		cmd.Args = append([]string{"sh", "-c", `echo $$ > "$CONCLAB_TEST_CGROUP/cgroup.procs" && exec "$0" "$@"`}, cmd.Args...)
		cmd.Path = "/bin/sh"
		cmd.Env = append(cmd.Env, "CONCLAB_TEST_CGROUP="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReexec(t, cmd)
	})
}

// reexec is this test binary, to run TestEveryExperimentOnOneCPU alone.
func reexec(t *testing.T, how string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestEveryExperimentOnOneCPU$", "-test.v", "-test.timeout", "10m")
	cmd.Env = append(os.Environ(), oneCPUEnv+"="+how)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the one-CPU test binary said:\n%s", out.String())
		}
	})
	return cmd
}

func waitReexec(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Wait(); err != nil {
		t.Errorf("the test binary on one CPU failed: %v", err)
	}
}

// startPinned starts cmd from a thread pinned to cpu: the child inherits
// the affinity of the thread that forks it, before it runs any code.
func startPinned(cmd *exec.Cmd, cpu int) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the pinned thread ends with this goroutine
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- err
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// quotaCgroup makes a cgroup with a CPU quota of one CPU under the one
// this process is in, and removes it when the test ends.
func quotaCgroup(t *testing.T) (string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("not root")
	}
	var dir, quotaFile, quota string
	var extra [][2]string
	switch {
	case fileHas("/sys/fs/cgroup/cgroup.subtree_control", "cpu"):
		own, err := e2e.OwnCgroupV2()
		if err != nil {
			return "", err
		}
		dir, quotaFile, quota = filepath.Join(own, fmt.Sprintf("conclab-test-%d", os.Getpid())), "cpu.max", "100000 100000"
	case isDir("/sys/fs/cgroup/cpu") && e2e.FileExists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"):
		dir, quotaFile, quota = fmt.Sprintf("/sys/fs/cgroup/cpu/conclab-test-%d", os.Getpid()), "cpu.cfs_quota_us", "100000"
		extra = [][2]string{{"cpu.cfs_period_us", "100000"}}
	default:
		return "", fmt.Errorf("no cgroup v2 with the cpu controller enabled at /sys/fs/cgroup, and no cgroup v1 cpu controller")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	t.Cleanup(func() {
		// The processes of the runs are gone once the binary has ended;
		// a cgroup can be removed only when it is empty.
		deadline := time.Now().Add(10 * time.Second)
		for os.Remove(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	})
	for _, kv := range append(extra, [2]string{quotaFile, quota}) {
		if err := os.WriteFile(filepath.Join(dir, kv[0]), []byte(kv[1]), 0o644); err != nil {
			return "", fmt.Errorf("%s: %w", kv[0], err)
		}
	}
	return dir, nil
}

// fileHas reports whether a file lists word among its space-separated words.
func fileHas(path, word string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, w := range strings.Fields(string(b)) {
		if w == word {
			return true
		}
	}
	return false
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// checkEveryExperimentOnOneCPU is the re-executed binary's part: every
// experiment in quick mode, each run finished with its contract kept, and
// every claim that needs two CPUs inconclusive, saying why.
func checkEveryExperimentOnOneCPU(t *testing.T, how string) {
	host := probe.ReadHost()
	if host.EffectiveCPUs() != 1 {
		t.Fatalf("%s: the test binary sees %d usable CPUs (affinity %d, quota %.2f), want 1", how, host.EffectiveCPUs(), host.Usable, host.Quota)
	}
	reg := lessons.Registry()
	for _, e := range reg.All() {
		t.Run(e.ID, func(t *testing.T) {
			r := labtest.RunQuick(t, reg, e.ID, nil)
			labtest.CheckContract(t, r)
			if h, ok := r.Of("started")[0]["host"].(map[string]any); ok {
				if q, _ := h["cpu_quota"].(float64); how == "quota" && q <= 0 {
					t.Errorf("the run's host facts show no CPU quota: %v", h)
				}
			}
			for _, c := range r.Claims {
				if !strings.HasSuffix(c.Expected, lab.NeedsTwoCPUs) {
					continue
				}
				if c.Verdict != lab.Inconclusive || !strings.Contains(strings.ToLower(c.Why), "cpu") {
					t.Errorf("%q needs two CPUs, yet on one it is %s: %s", c.Claim, c.Verdict, c.Why)
				}
			}
		})
	}
}

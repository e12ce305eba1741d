package probe

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestStatCPU(t *testing.T) {
	t.Parallel()
	// A command with spaces and a parenthesis, as /proc allows.
	line := []byte("4242 (py thon) (x)) S 1 4200 4200 0 -1 4194304 100 0 0 0 150 50 30 20 20 0 1 0 12345 0 0")
	pgrp, cpu, kthread, ok := statCPU(line)
	if !ok || pgrp != 4200 || cpu != 2500*time.Millisecond || kthread {
		t.Errorf("statCPU = %d, %v, %v, %v; want 4200, 2.5s, not a kernel thread, true", pgrp, cpu, kthread, ok)
	}
	kworker := []byte("77 (kworker/0:1) I 2 0 0 0 -1 69238880 0 0 0 0 3 40 0 0 20 0 1 0 99 0 0")
	if _, _, kthread, ok := statCPU(kworker); !ok || !kthread {
		t.Errorf("a kernel thread's line read as kthread=%v ok=%v", kthread, ok)
	}
	if _, _, _, ok := statCPU([]byte("garbage")); ok {
		t.Error("statCPU read garbage")
	}
}

func TestReadCPUTimes(t *testing.T) {
	t.Parallel()
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	a, err := ReadCPUTimes(cpus)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadCPUTimes(cpus)
	if err != nil {
		t.Fatal(err)
	}
	if a.CPUs != len(cpus) || b.Busy < a.Busy || b.Own < a.Own || a.Own <= 0 {
		t.Errorf("readings %+v then %+v", a, b)
	}
	if o := b.Others(a); o < 0 || o > float64(len(cpus)) {
		t.Errorf("others = %v CPUs, want 0–%d", o, len(cpus))
	}
	if _, err := ReadCPUTimes([]int{1 << 20}); err == nil {
		t.Error("no error for a CPU /proc/stat does not list")
	}
}

// Work the run caused but was not charged for (on its CPUs) does not make
// the machine busy unless processes outside the run used that time too;
// and time outside the run on other CPUs does not count either.
func TestOthersTakesTheSmallerAccount(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	at := func(busy, own, outside time.Duration) CPUTimes {
		return CPUTimes{CPUs: 2, Busy: busy, Own: own, Outside: outside}
	}
	a := at(0, 0, 0)
	a.At = t0
	for _, c := range []struct {
		name               string
		busy, own, outside time.Duration
		want               float64
	}{
		{"a run spawning processes: busy CPUs, nobody outside", 1500 * time.Millisecond, 1000 * time.Millisecond, 10 * time.Millisecond, 0.01},
		{"a build beside the run", 1800 * time.Millisecond, 1000 * time.Millisecond, 900 * time.Millisecond, 0.8},
		{"a build on another CPU", 1000 * time.Millisecond, 1000 * time.Millisecond, 900 * time.Millisecond, 0},
	} {
		b := at(c.busy, c.own, c.outside)
		b.At = t0.Add(time.Second)
		if got := b.Others(a); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("%s: others = %v CPUs, want %v", c.name, got, c.want)
		}
	}
}

// The run's parent — the server relaying its events to a class of viewers
// — is not another program: its time is left out of both accounts, and
// reported on its own.
func TestOthersLeavesTheParentOut(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	a := CPUTimes{At: t0, CPUs: 2}
	for _, c := range []struct {
		name                       string
		busy, own, outside, parent time.Duration
		others, server             float64
	}{
		{"the server fanning out to 300 viewers", 1600 * time.Millisecond, 1000 * time.Millisecond, 620 * time.Millisecond, 600 * time.Millisecond, 0, 0.6},
		{"the server and a build beside the run", 2000 * time.Millisecond, 1000 * time.Millisecond, 1010 * time.Millisecond, 400 * time.Millisecond, 0.6, 0.4},
		{"no parent to speak of", 1300 * time.Millisecond, 1000 * time.Millisecond, 300 * time.Millisecond, 0, 0.3, 0},
	} {
		b := CPUTimes{At: t0.Add(time.Second), CPUs: 2, Busy: c.busy, Own: c.own, Outside: c.outside, Parent: c.parent}
		if got := b.Others(a); got < c.others-1e-9 || got > c.others+1e-9 {
			t.Errorf("%s: others = %v CPUs, want %v", c.name, got, c.others)
		}
		if got := b.Server(a); got < c.server-1e-9 || got > c.server+1e-9 {
			t.Errorf("%s: server = %v CPUs, want %v", c.name, got, c.server)
		}
	}
}

func TestCoresAndSpread(t *testing.T) {
	t.Parallel()
	// A 4-core laptop with hyper-threads, numbered as Linux numbers Intel
	// parts: CPUs 0–3 are the cores' first threads, 4–7 their siblings.
	laptop := func(cpu int) string { return "0/" + string(rune('0'+cpu%4)) }
	all := []int{0, 1, 2, 3, 4, 5, 6, 7}
	if got := coresOf(all, laptop); got != 4 {
		t.Errorf("cores of the laptop = %d, want 4", got)
	}
	if got := coresOf([]int{0, 4}, laptop); got != 1 {
		t.Errorf("cores of two siblings = %d, want 1", got)
	}
	// Numbered with siblings side by side (0,1 on core 0 …): the spread
	// puts one CPU of each core first.
	paired := func(cpu int) string { return "0/" + string(rune('0'+cpu/2)) }
	got := spreadOver(all, paired)
	want := []int{0, 2, 4, 6, 1, 3, 5, 7}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("spread = %v, want %v", got, want)
		}
	}
	unknown := func(int) string { return "" }
	if got := coresOf(all, unknown); got != 8 {
		t.Errorf("cores without topology = %d, want 8 (every CPU its own)", got)
	}
}

// TreeCPU counts a process and its children: this test process and the
// busy child it starts.
func TestTreeCPU(t *testing.T) {
	t.Parallel()
	before, err := TreeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Skipf("no shell to burn CPU with: %v", err)
	}
	after, err := TreeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("the tree's CPU time went from %v to %v after a busy child", before, after)
	}
	if _, err := TreeCPU(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
	if ppid, cpu, ok := statParentCPU([]byte("42 (a (b)) S 7 42 42 0 -1 0 0 0 0 0 10 20 30 40 20 0 1 0 1 0 0")); !ok || ppid != 7 || cpu != time.Second {
		t.Errorf("statParentCPU = %d, %v, %v; want 7, 1s, true", ppid, cpu, ok)
	}
}

package probe

import (
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

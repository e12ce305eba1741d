package probe

import (
	"testing"
	"time"
)

func TestStatCPU(t *testing.T) {
	t.Parallel()
	// A command with spaces and a parenthesis, as /proc allows.
	line := []byte("4242 (py thon) (x)) S 1 4200 4200 0 -1 4194304 100 0 0 0 150 50 30 20 20 0 1 0 12345 0 0")
	pgrp, cpu, ok := statCPU(line)
	if !ok || pgrp != 4200 || cpu != 2500*time.Millisecond {
		t.Errorf("statCPU = %d, %v, %v; want 4200, 2.5s, true", pgrp, cpu, ok)
	}
	if _, _, ok := statCPU([]byte("garbage")); ok {
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

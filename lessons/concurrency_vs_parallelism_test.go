package lessons_test

import (
	"fmt"
	"testing"

	"conclab/internal/labtest"
	"conclab/internal/probe"
	"conclab/lessons"
)

func init() {
	checks["cpu-timeline"] = checkCPUTimeline
}

// checkCPUTimeline checks a quick run with the defaults, which draws all
// three timelines, and that the spans arrived in batches while it ran.
func checkCPUTimeline(t *testing.T, r *labtest.Run) {
	// The figures the page and the course recap show are in every run of
	// all three timelines, whatever the host.
	for _, key := range []string{"speedup.parallel_over_concurrent", "cpus_seen.parallel", "wall_time.concurrent", "wall_time.parallel"} {
		if m := r.Key(t, key); m.Value <= 0 {
			t.Errorf("%s = %v", m.Name, m.Value)
		}
	}
	for _, mode := range []string{"concurrent", "parallel", "combined"} {
		checkTimeline(t, r, mode)
	}
	moments := map[float64]bool{}
	for _, e := range r.Of("span") {
		moments[num(e["t"])] = true
	}
	if len(moments) < 3 {
		t.Errorf("spans were sent at %d moments; want them in batches while the run goes, at least one per timeline", len(moments))
	}
	if res, last := r.Last("result"), r.Of("span"); res != nil && len(last) > 0 && num(last[len(last)-1]["t"]) > num(res["t"]) {
		t.Error("spans arrived after the result")
	}
}

// TestCPUTimelineModes runs each timeline on its own, in quick mode.
func TestCPUTimelineModes(t *testing.T) {
	reg := lessons.Registry()
	for _, mode := range []string{"concurrent", "parallel", "combined"} {
		t.Run(mode, func(t *testing.T) {
			r := labtest.RunQuick(t, reg, "cpu-timeline", map[string]string{"mode": mode})
			labtest.CheckContract(t, r)
			labtest.CheckKeys(t, r)
			checkTimeline(t, r, mode)
		})
	}
}

// usableCPUs is how many CPUs the runs may really use at once.
func usableCPUs() int {
	allowed, _ := probe.AllowedCPUs()
	return min(len(allowed), probe.ReadHost().EffectiveCPUs())
}

// checkTimeline checks one mode's timeline: every task was sampled and
// drew spans; in concurrent mode every sample came from one CPU; in
// parallel mode, with two CPUs or more, two CPUs appear and tasks ran at
// the same time.
func checkTimeline(t *testing.T, r *labtest.Run, mode string) {
	t.Helper()
	tasks := map[string]map[string]any{}
	for _, row := range r.Rows("tasks") {
		if row["mode"] == mode {
			tasks[fmt.Sprint(row["task"])] = row
		}
	}
	want := 2
	if mode == "combined" {
		want = 4
	}
	if len(tasks) != want {
		t.Fatalf("%s: %d tasks in the table, want %d", mode, len(tasks), want)
	}
	type interval struct{ start, end float64 }
	byTask := map[string][]interval{}
	for _, e := range r.Of("span") {
		if e["chart"] == "task-"+mode {
			byTask[fmt.Sprint(e["lane"])] = append(byTask[fmt.Sprint(e["lane"])], interval{num(e["start"]), num(e["end"])})
		}
	}
	cpuLanes := map[string]bool{}
	for _, e := range r.Of("span") {
		if e["chart"] == "cpu-"+mode {
			cpuLanes[fmt.Sprint(e["lane"])] = true
		}
	}
	for name, row := range tasks {
		if num(row["samples"]) < 2 {
			t.Errorf("%s: task %s has %v getcpu samples", mode, name, row["samples"])
		}
		if row["state"] != "finished" {
			t.Errorf("%s: task %s ended in state %v", mode, name, row["state"])
		}
		if len(byTask[name]) == 0 {
			t.Errorf("%s: task %s drew no spans", mode, name)
		}
		if num(row["cpu_ms"]) <= 0 {
			t.Errorf("%s: task %s used %v ms of CPU", mode, name, row["cpu_ms"])
		}
	}
	switch mode {
	case "concurrent":
		if len(cpuLanes) != 1 {
			t.Errorf("concurrent: the tasks were sampled on CPUs %v; want all on one", cpuLanes)
		}
		for name, row := range tasks {
			if row["seen"] != row["allowed"] {
				t.Errorf("concurrent: task %s ran on CPU %v, pinned to %v", name, row["seen"], row["allowed"])
			}
		}
	case "parallel":
		if usableCPUs() < 2 {
			t.Logf("one usable CPU: parallel cannot overlap here; verdict %q", r.Claims[1].Verdict)
			return
		}
		if len(cpuLanes) < 2 {
			t.Errorf("parallel: the tasks were sampled on CPUs %v; want at least two", cpuLanes)
		}
		a, b := byTask["A"], byTask["B"]
		overlap := false
		for _, x := range a {
			for _, y := range b {
				overlap = overlap || (x.start < y.end && y.start < x.end)
			}
		}
		if !overlap {
			t.Error("parallel: no span of task A overlaps one of task B in time")
		}
		if m := r.Key(t, "overlap.parallel"); m.Value <= 0 {
			t.Errorf("%s = %v", m.Name, m.Value)
		}
	}
}

package cpuvsiobound

import (
	"fmt"
	"time"

	"conclab/internal/lab"
)

// waitShare returns the wall time spent in waits and in all phases.
func waitShare(all [][]spanTimes) (wait, total float64) {
	for _, spans := range all {
		for k, s := range spans {
			d := s.end.Sub(s.start).Seconds()
			total += d
			if phases[k].wait {
				wait += d
			}
		}
	}
	return wait, total
}

// phaseSummaries summarises each phase's wall and CPU time, in ms, over
// the requests.
func phaseSummaries(all [][]spanTimes) (wall, cpu []lab.Summary) {
	for k := range phases {
		var ws, cs []float64
		for _, spans := range all {
			ws = append(ws, float64(spans[k].end.Sub(spans[k].start).Nanoseconds())/1e6)
			cs = append(cs, float64(spans[k].cpu.Nanoseconds())/1e6)
		}
		wall, cpu = append(wall, lab.Summarize(ws)), append(cpu, lab.Summarize(cs))
	}
	return wall, cpu
}

func emitPhaseRows(out *lab.Emitter, all [][]spanTimes) {
	wall, cpu := phaseSummaries(all)
	for k, ph := range phases {
		share := 0.0
		if wall[k].P50 > 0 {
			share = cpu[k].P50 / wall[k].P50
		}
		out.Row("phases", ph.key, map[string]any{"phase": ph.name, "wall": round3(wall[k].P50), "cpu": round3(cpu[k].P50), "share": round3(share)})
	}
}

func taskProfileResult(out *lab.Emitter, all [][]spanTimes, srv *slowServer, wait time.Duration) error {
	waitWall, total := waitShare(all)
	var waitCPU, computeWall, computeCPU time.Duration
	var perRequest []float64
	for _, spans := range all {
		perRequest = append(perRequest, float64(spans[len(spans)-1].end.Sub(spans[0].start).Nanoseconds())/1e6)
		for k, s := range spans {
			switch {
			case phases[k].wait:
				waitCPU += s.cpu
			case phases[k].label == "compute":
				computeWall += s.end.Sub(s.start)
				computeCPU += s.cpu
			}
		}
	}
	share := waitWall / total
	cpuInWaits := waitCPU.Seconds() / waitWall
	n := len(all)
	wall, cpu := phaseSummaries(all)

	metrics := []lab.Metric{
		{Name: "Share of the request spent waiting for I/O", Value: round3(100 * share), Unit: "%", N: n, Note: "wall time of the two waits ÷ wall time of all five phases, every request"},
		lab.Summarize(perRequest).Named("Time per request, arrival to response", "ms"),
		wall[1].Named("Wait for the first query (wall)", "ms"),
		cpu[1].Named("CPU used during the first wait", "ms"),
		wall[0].Named("First compute phase (wall)", "ms"),
		cpu[0].Named("CPU used by the first compute phase", "ms"),
		wall[4].Named("Respond (wall)", "ms"),
		{Name: "CPU used while waiting, as a share of the waits", Value: round3(100 * cpuInWaits), Unit: "%", Note: "CLOCK_THREAD_CPUTIME_ID of the handler's thread"},
		{Name: "Compute phases: CPU time ÷ wall time", Value: round3(computeCPU.Seconds() / computeWall.Seconds()), Unit: "",
			Note: "below 1 when other programs took the CPU away from the handler mid-phase"},
		{Name: "Queries answered by the local server", Value: float64(srv.Answered()), Unit: "queries", Note: fmt.Sprintf("%d requests × 2 queries were sent", n)},
		{Name: "Responses received by the local server", Value: float64(srv.Responses()), Unit: "responses", Note: fmt.Sprintf("%d requests were handled", n)},
	}

	mm := fmt.Sprintf("%.1f%% of the wall time waiting over %d request%s (median request %.1f ms: two waits of %.1f and %.1f ms, compute phases of %.1f and %.1f ms)",
		100*share, n, plural(n), lab.Summarize(perRequest).P50, wall[1].P50, wall[3].P50, wall[0].P50, wall[2].P50)
	c1 := claimMostlyWaiting.Judge(mm, lab.Holds, "")
	if share <= 0.5 {
		c1 = claimMostlyWaiting.Judge(mm, lab.Differs, fmt.Sprintf(
			"With these settings the request computes for longer than it waits (%.1f ms of computing per phase against a %s delay per query), so this one is CPU-bound. Many real handlers wait far longer than they compute; raise the delay or lower the computing to see that shape.",
			wall[0].P50, wait))
	}
	wm := fmt.Sprintf("%.3f ms of CPU in %.1f ms of waiting (%.2f%%), against %.1f ms of CPU in %.1f ms of computing",
		waitCPU.Seconds()*1e3, waitWall*1e3, 100*cpuInWaits, computeCPU.Seconds()*1e3, computeWall.Seconds()*1e3)
	c2 := claimWaitIsFree.Judge(wm, lab.Holds, "")
	if cpuInWaits >= 0.05 {
		c2 = claimWaitIsFree.Judge(wm, lab.Differs,
			"The thread used a noticeable share of a CPU while it waited. With very short waits the work of sending the query and waking up again is no longer small next to the wait itself.")
	}
	out.Result(metrics, []lab.Claim{c1, c2})
	return nil
}

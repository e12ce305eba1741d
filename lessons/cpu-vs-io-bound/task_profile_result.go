package cpuvsiobound

import (
	"fmt"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// keyWaitShare is the key of the share of a request spent waiting, which
// the page's summary shows.
const keyWaitShare = "wait.share"

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
		out.Row("phases", ph.key, map[string]any{"phase": ph.name, "wall": format.Round(wall[k].P50, 3), "cpu": format.Round(cpu[k].P50, 3), "share": format.Round(share, 3)})
	}
}

func taskProfileResult(out *lab.Emitter, all [][]spanTimes, answered, responses int64, wait, compute time.Duration) error {
	waitWall, total := waitShare(all)
	var waitCPU, computeWall, computeCPU time.Duration
	var perRequest, shares, cpuShares []float64
	for _, spans := range all {
		perRequest = append(perRequest, float64(spans[len(spans)-1].end.Sub(spans[0].start).Nanoseconds())/1e6)
		var w, tot, wcpu time.Duration
		for k, s := range spans {
			d := s.end.Sub(s.start)
			tot += d
			if phases[k].wait {
				w += d
				wcpu += s.cpu
			}
			switch {
			case phases[k].wait:
				waitCPU += s.cpu
			case phases[k].label == "compute":
				computeWall += s.end.Sub(s.start)
				computeCPU += s.cpu
			}
		}
		if tot > 0 {
			shares = append(shares, w.Seconds()/tot.Seconds())
		}
		if w > 0 {
			cpuShares = append(cpuShares, wcpu.Seconds()/w.Seconds())
		}
	}
	n := len(all)
	wall, cpu := phaseSummaries(all)
	m := profileMeasured{requests: n, waitWall: waitWall, total: total, requestP50: lab.Summarize(perRequest).P50,
		waitCPU: waitCPU, computeWall: computeWall, computeCPU: computeCPU, wait: wait, compute: compute,
		shares: shares, cpuShares: cpuShares, load: out.Load()}
	if n > 0 {
		m.waitP50 = [2]float64{wall[1].P50, wall[3].P50}
		m.computeP50 = [2]float64{wall[0].P50, wall[2].P50}
	}

	metrics := []lab.Metric{
		{Key: keyWaitShare, Name: "Share of the request spent waiting for I/O", Value: format.Round(100*m.share(), 3), Unit: "%", N: n, Note: "wall time of the two waits ÷ wall time of all five phases, every request"},
		{Key: "wait.share_implied", Name: "Share of waiting the settings imply", Value: format.Round(100*m.implied(), 3), Unit: "%", Note: "two server delays ÷ (two delays + two compute phases), as set"},
		lab.Summarize(perRequest).Metric("request.wall", "Time per request, arrival to response", "ms"),
		wall[1].Metric("wait.first.wall", "Wait for the first query (wall)", "ms"),
		cpu[1].Metric("wait.first.cpu", "CPU used during the first wait", "ms"),
		wall[0].Metric("compute.first.wall", "First compute phase (wall)", "ms"),
		cpu[0].Metric("compute.first.cpu", "CPU used by the first compute phase", "ms"),
		wall[4].Metric("respond.wall", "Respond (wall)", "ms"),
		{Key: "wait.cpu_share", Name: "CPU used while waiting, as a share of the waits", Value: format.Round(100*m.cpuInWaits(), 3), Unit: "%", Note: "CLOCK_THREAD_CPUTIME_ID of the handler's thread"},
		{Key: "compute.cpu_over_wall", Name: "Compute phases: CPU time ÷ wall time", Value: format.Round(computeCPU.Seconds()/computeWall.Seconds(), 3), Unit: "",
			Note: "below 1 when other programs took the CPU away from the handler mid-phase"},
		{Key: "server.queries_answered", Name: "Queries answered by the local server", Value: float64(answered), Unit: "queries", Note: fmt.Sprintf("%d requests × 2 queries were sent", n)},
		{Key: "server.responses_received", Name: "Responses received by the local server", Value: float64(responses), Unit: "responses", Note: fmt.Sprintf("%d requests were handled", n)},
	}
	out.Result(metrics, judgeTaskProfile(m))
	return nil
}

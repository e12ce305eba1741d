package cpuvsiobound

import (
	"fmt"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
)

// profileMeasured is what task-profile measured, as its verdicts read it.
type profileMeasured struct {
	requests                int
	waitWall, total         float64    // seconds: wall time in the waits, and in all phases, every request
	requestP50              float64    // ms, median request from arrival to response
	waitP50, computeP50     [2]float64 // ms, median of the first and second wait, and compute phase
	waitCPU                 time.Duration
	computeWall, computeCPU time.Duration
	wait, compute           time.Duration // the server's delay per query and the computing per phase, as set
	shares                  []float64     // each request's share of its time in the waits
	cpuShares               []float64     // each request's CPU time in its waits ÷ their wall time
	load                    lab.Load      // what other programs used of the CPUs meanwhile
}

// implied is the share of waiting the settings alone predict: two delays
// against two compute phases (the response is small).
func (m profileMeasured) implied() float64 {
	w, c := m.wait.Seconds(), m.compute.Seconds()
	if w+c <= 0 {
		return 0
	}
	return w / (w + c)
}

// bandOf is per-request figures as a band, or the run's overall figure
// when there are none (a run judged from totals alone).
func bandOf(per []float64, overall float64) lab.Band {
	if len(per) > 0 {
		return lab.BandOfValues(per, "")
	}
	return lab.Once(overall, "")
}

// share is the part of the requests' wall time spent waiting.
func (m profileMeasured) share() float64 { return m.waitWall / m.total }

// cpuInWaits is the CPU the handler's thread used while waiting, as a
// share of the waits' wall time.
func (m profileMeasured) cpuInWaits() float64 { return m.waitCPU.Seconds() / m.waitWall }

// judgeTaskProfile holds the two claims against the measured phases.
func judgeTaskProfile(m profileMeasured) []lab.Claim {
	return []lab.Claim{judgeMostlyWaiting(m), judgeWaitIsFree(m)}
}

// judgeMostlyWaiting holds the request's measured share of waiting
// against "most". The settings decide this one — a long delay and a short
// computation make any request I/O-bound — so the threshold is one the
// learner's settings can fail, the measured text says what they imply,
// and the lesson calls the claim an illustration. What the machine adds is
// whether the waits and the computing really took as long as set.
func judgeMostlyWaiting(m profileMeasured) lab.Claim {
	if m.requests == 0 || m.total <= 0 {
		why := "No request was measured, so there is no time to share out between waiting and computing."
		return claimMostlyWaiting.Judge("nothing: no request was measured", lab.Inconclusive, why)
	}
	share := m.share()
	b := bandOf(m.shares, share)
	mm := fmt.Sprintf("%.1f%% of the wall time waiting over %d request%s (per request: %s; the settings imply %.0f%%); median request %.1f ms: two waits of %.1f and %.1f ms, compute phases of %.1f and %.1f ms",
		100*share, m.requests, format.Plural(m.requests), pctBand(b), 100*m.implied(), m.requestP50, m.waitP50[0], m.waitP50[1], m.computeP50[0], m.computeP50[1])
	// "Most of its life": half or more (lab.Most).
	return claimMostlyWaiting.Decided(mm, lab.Decide(b, lab.AtLeast(lab.Most), m.load), fmt.Sprintf(
		"With these settings the request computes for longer than it waits (%.1f ms of computing per phase against a %s delay per query), so this one is CPU-bound. Many real handlers wait far longer than they compute; raise the delay or lower the computing to see that shape.",
		m.computeP50[0], m.wait))
}

// pctBand writes a band of shares as percentages.
func pctBand(b lab.Band) string {
	if b.N <= 1 || b.Lo == b.Hi {
		return fmt.Sprintf("%.1f%%", 100*b.Mid)
	}
	return fmt.Sprintf("median %.1f%%, middle half %.1f–%.1f%%", 100*b.Mid, 100*b.Lo, 100*b.Hi)
}

func judgeWaitIsFree(m profileMeasured) lab.Claim {
	if m.requests == 0 || m.waitWall <= 0 {
		why := "No wait was measured, so there is no CPU time during the waits to judge."
		return claimWaitIsFree.Judge("nothing: no wait was measured", lab.Inconclusive, why)
	}
	cpuInWaits := m.cpuInWaits()
	b := bandOf(m.cpuShares, cpuInWaits)
	wm := fmt.Sprintf("%.3f ms of CPU in %.1f ms of waiting (%.2f%%; per request %s), against %.1f ms of CPU in %.1f ms of computing",
		m.waitCPU.Seconds()*1e3, m.waitWall*1e3, 100*cpuInWaits, pctBand(b), m.computeCPU.Seconds()*1e3, m.computeWall.Seconds()*1e3)
	if m.computeCPU <= 0 && m.computeWall > 0 {
		// Hashing for milliseconds cannot take no CPU: the thread's CPU
		// clock is not working here, and a zero during the waits means
		// nothing either.
		return claimWaitIsFree.Judge(wm, lab.Inconclusive,
			"The thread's CPU clock read no time at all during the compute phases, which cannot be right, so its reading of the waits cannot be trusted either. This host's CLOCK_THREAD_CPUTIME_ID does not seem to work.")
	}
	// "Uses no CPU": nothing measurable (lab.Nothing). The CPU time is the
	// handler thread's own, whatever else runs: the machine's load does
	// not move it.
	return claimWaitIsFree.Decided(wm, lab.Decide(b, lab.AtMost(lab.Nothing), lab.NotTimed),
		"The thread used a noticeable share of a CPU while it waited. With very short waits the work of sending the query and waking up again is no longer small next to the wait itself.")
}

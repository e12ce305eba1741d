// Package engine is the server's side of runs: the Scheduler that queues
// requests fairly, joins identical ones, offers finished runs, enforces
// the limits and hands each run to a free measuring Host; and the Run, the
// hub that fans a run's one event log (internal/runlog) out to its viewers
// and replays it to late ones. It knows nothing about HTTP, about how an
// experiment measures (internal/lab, internal/runner), about disks (the
// Archive it is given) or about the class (the Class it tells of each
// run's named moments: internal/classroom). Lessons never import it.
package engine

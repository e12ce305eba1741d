// Package probe makes the operating-system measurements that experiments
// share: which CPU a thread is on and pinning it to one, how many threads a
// process has, how much memory is resident, how many context switches the
// kernel counted, and the facts about the host that a learner needs to read
// any number.
//
// Everything here reads Linux interfaces (/proc, sched_setaffinity,
// getrusage). Functions are cheap enough to call between measurements but
// not inside a timed loop unless their doc says so.
package probe

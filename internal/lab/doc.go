// Package lab is the kit a lesson is written with, and all a lesson
// imports to define and measure an experiment: the Experiment and its
// bounded parameters (Param, Params), the Registry, the Emitter that
// writes a run's events, the one verdict rule (Decide, Compare, Band,
// Expect) and the machine's load it takes into account, statistics
// (Summarize, Histogram), the guesses a learner may make before a run
// (Prediction), and an experiment's own worker processes (Worker, Start).
//
// An experiment is a fixed Go function. It runs inside
// `conclab experiment <id>`, a child process started by internal/runner,
// in its own process group, so that a crash, a pinned CPU or a changed
// GOMAXPROCS never reaches the server. The child writes one JSON object
// per line to stdout; the runner reads them as events.
//
// The engine that queues, runs, fans out and records runs is elsewhere
// (internal/engine, internal/classroom, internal/runner, internal/runlog),
// and a lesson never imports it: lessons.TestLessonsImportOnlyTheKit
// checks.
package lab

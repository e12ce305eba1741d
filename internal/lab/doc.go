// Package lab is the experiment engine: the registry of experiments and
// their bounded parameters, the runner that executes each run in a child
// process and reads its events, the scheduler that queues runs and joins
// identical ones, and the hub that fans a run's events out to everyone
// watching it.
//
// An experiment is a fixed Go function. It runs inside
// `conclab experiment <id>`, a child of the server (or of `conclab run`),
// in its own process group, so that a crash, a pinned CPU or a changed
// GOMAXPROCS never reaches the server, and cancelling a run kills every
// process it made. The child writes one JSON object per line to stdout;
// the runner reads them as events. The engine knows nothing about HTTP.
package lab

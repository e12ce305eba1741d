// Package app assembles the course server: the course's registry, the
// runner that executes runs as child processes, the scheduler that queues
// them, and the web server in front. `conclab serve`, the end-to-end tests
// and the web tests all build the server here, the one way it is built.
package app

import (
	"log/slog"
	"net/http"

	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/web"
)

// Options configure an App.
type Options struct {
	Course *course.Course // required
	// Scheduler bounds what people may do to the machine; zero fields
	// take their defaults (see lab.Config).
	Scheduler lab.Config
	// Log receives the server's log; nil means slog.Default().
	Log *slog.Logger
	// Exe is the binary the runner starts as each run's child; empty
	// means this program (os.Executable).
	Exe string
	// OriginPatterns are extra hosts whose pages may open the websocket.
	OriginPatterns []string
}

// App is the assembled course server.
type App struct {
	Course    *course.Course
	Runner    *lab.Runner
	Scheduler *lab.Scheduler
	Server    *web.Server
}

// New assembles the server. Close it to stop every run.
func New(o Options) *App {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	runner := &lab.Runner{Registry: o.Course.Registry(), Exe: o.Exe, Log: log}
	sched := lab.NewScheduler(runner.Run, o.Scheduler, log)
	srv := &web.Server{Course: o.Course, Runs: sched, Host: probe.ReadHost(), Log: log, OriginPatterns: o.OriginPatterns}
	return &App{Course: o.Course, Runner: runner, Scheduler: sched, Server: srv}
}

// Handler is the server's every route.
func (a *App) Handler() http.Handler { return a.Server.Routes() }

// Close cancels every queued and running run and waits until their
// processes are gone.
func (a *App) Close() { a.Scheduler.Close() }

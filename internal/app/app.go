// Package app assembles the course server: the course's registry, this
// machine as a measuring host (the runner that executes runs as child
// processes), the scheduler that queues runs and hands them to hosts, the
// classroom around them, the store that keeps them, and the web server in
// front. `conclab serve`, the end-to-end tests and the web tests all build
// the server here, the one way it is built.
package app

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/nats-io/nats.go"

	"conclab/internal/classroom"
	"conclab/internal/course"
	"conclab/internal/engine"
	"conclab/internal/fleet"
	"conclab/internal/learner"
	"conclab/internal/probe"
	"conclab/internal/runner"
	"conclab/internal/store"
	"conclab/web"
)

// Options configure an App.
type Options struct {
	Course *course.Course // required
	// Scheduler bounds what people may do to the machines; zero fields
	// take their defaults (see engine.Config).
	Scheduler engine.Config
	// Parallel is how many runs this machine measures at once (default
	// 1: two runs racing for the same CPUs would both measure noise).
	Parallel int
	// HostName names this machine as a measuring host; empty takes its
	// hostname.
	HostName string
	// ElsewhereOnly leaves this machine out of measuring: only hosts that
	// join over the network measure (see App.OpenFleet).
	ElsewhereOnly bool
	// Log receives the server's log; nil means slog.Default().
	Log *slog.Logger
	// Exe is the binary the runner starts as each run's child; empty
	// means this program (os.Executable).
	Exe string
	// OriginPatterns are extra hosts whose pages may open the websocket.
	OriginPatterns []string
	// InstructorKey is what /class?key= must be to become the instructor;
	// empty makes a random one (App.InstructorKey says which).
	InstructorKey string
	// Secret signs learners' and the instructor's cookies; nil takes the
	// store's (made once and kept, so learners outlast a restart).
	Secret []byte
	// Store keeps every run, and learners' progress; nil keeps them in
	// memory only (store.Memory), so nothing is ever written to disk
	// unless the caller opened a store on purpose. App.Close closes it.
	Store *store.Store
}

// App is the assembled course server.
type App struct {
	Course    *course.Course
	Runner    *runner.Runner
	Scheduler *engine.Scheduler
	Class     *classroom.Classroom
	Server    *web.Server
	Store     *store.Store
	// InstructorKey is the key of the instructor link /class?key=KEY.
	InstructorKey string

	log   *slog.Logger
	nats  *fleet.Embedded // the embedded NATS server, when there is one
	nc    *nats.Conn
	fleet *fleet.Coordinator
}

// NewKey makes a random instructor key: 24 characters, 120 bits.
func NewKey() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// CheckKey says what is wrong with an instructor key someone chose, if
// anything.
func CheckKey(key string) error {
	if len(key) < 12 || len(key) > 128 {
		return fmt.Errorf("an instructor key must be 12–128 characters, got %d", len(key))
	}
	for _, c := range key {
		if c < '!' || c > '~' || c == '&' || c == '#' || c == '?' || c == '%' || c == '+' {
			return fmt.Errorf("an instructor key may hold letters, digits and punctuation other than & # ? %% +, so that it reads the same in an address; got %q", c)
		}
	}
	return nil
}

// New assembles the server. Close it to stop every run.
func New(o Options) *App {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	if o.InstructorKey == "" {
		o.InstructorKey = NewKey()
	}
	st := o.Store
	if st == nil {
		st = store.Memory(store.Options{Log: log, LessonOf: LessonOf(o.Course)})
	}
	if o.Secret == nil {
		o.Secret = st.Secret(learner.Secret)
	}
	rn := &runner.Runner{Registry: o.Course.Registry(), Exe: o.Exe, Log: log, Name: o.HostName}
	var sched *engine.Scheduler
	class := classroom.New(classroom.Config{Snapshot: func() engine.Snapshot { return sched.Snapshot() }, Guesses: st, Answers: st.ClassAnswers, Log: log})
	cfg := o.Scheduler
	cfg.Archive, cfg.Registry, cfg.Class = st, o.Course.Registry(), class
	var hosts []engine.Host
	if !o.ElsewhereOnly {
		hosts = localHosts(rn, o.Parallel)
	}
	sched = engine.NewScheduler(hosts, cfg, log)
	host := probe.ReadHost()
	host.Name = (&runner.Local{Runner: rn}).Name()
	srv := &web.Server{Course: o.Course, Runs: sched, Class: class, Store: st, Host: host, Log: log, OriginPatterns: o.OriginPatterns,
		Signer: learner.NewSigner(o.Secret), InstructorKey: o.InstructorKey}
	return &App{Course: o.Course, Runner: rn, Scheduler: sched, Class: class, Server: srv, Store: st, InstructorKey: o.InstructorKey, log: log}
}

// localHosts is this machine as n measuring hosts (at least one), each
// measuring one run at a time: with n > 1 they race for its CPUs.
func localHosts(rn *runner.Runner, n int) []engine.Host {
	hosts := []engine.Host{&runner.Local{Runner: rn}}
	for i := 2; i <= n; i++ {
		r := *rn
		r.Name = fmt.Sprintf("%s#%d", hosts[0].Name(), i)
		hosts = append(hosts, &runner.Local{Runner: &r})
	}
	return hosts
}

// LessonOf names the lesson of each of the course's experiments, for the
// store (store.Options.LessonOf).
func LessonOf(c *course.Course) func(experiment string) string {
	reg := c.Registry()
	return func(experiment string) string {
		if e, ok := reg.Lookup(experiment); ok {
			return e.Lesson
		}
		return ""
	}
}

// Handler is the server's every route.
func (a *App) Handler() http.Handler { return a.Server.Routes() }

// Close cancels every queued and running run, waits until their
// processes are gone, then writes what the store still holds and closes
// it.
func (a *App) Close() {
	a.Scheduler.Close() // first: the hosts' runs end while their events can still come
	if a.fleet != nil {
		a.fleet.Close()
	}
	if a.nc != nil {
		a.nc.Close()
	}
	if a.nats != nil {
		a.nats.Shutdown()
	}
	a.Class.Close()
	if err := a.Store.Close(); err != nil {
		a.Server.Log.Warn("closing the store", "err", err)
	}
}

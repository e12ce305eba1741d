// Package store keeps runs that last: one SQLite database (WAL mode,
// versioned migrations embedded below) holding every run — its
// experiment, parameters, status, times, the host that measured it, the
// learners who asked for it and its full event stream — and each
// learner's progress.
//
// Runs are written off the measuring path: a run's events live in its
// log (internal/runlog), and one writer goroutine copies what is new to
// the database. A disk that cannot keep up, or cannot be written at all,
// never holds a run back: writes are tried again from the log, what the
// store has to give up on is counted, and Health says why nothing is
// being saved. The store is the engine's Archive: runs this process no
// longer holds in memory are found here.
package store

import (
	"conclab/internal/classroom"
	"conclab/internal/engine"
	"conclab/internal/protocol"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", pure Go: no C toolchain needed
)

// Sources of a run: who recorded it.
const (
	SourceServer = "server" // conclab serve
	SourceCLI    = "cli"    // conclab run
	SourceImport = "import" // conclab import, or the upload form on /runs
)

// Statuses a stored run may have besides ok, failed, cancelled and
// timeout (all named in internal/protocol).
const (
	StatusQueued      = protocol.StatusQueued      // recorded, not started yet
	StatusRunning     = protocol.StatusRunning     // started, not finished yet
	StatusInterrupted = protocol.StatusInterrupted // its process or its host died before it finished
)

// FileName is the database's file inside the data directory.
const FileName = "conclab.db"

// Options configure a Store. Zero fields take their defaults.
type Options struct {
	// Dir is the data directory, made when missing; "" keeps everything in
	// memory, gone when the process ends.
	Dir string
	// Source is who records the runs of this process: SourceServer
	// (default) or SourceCLI.
	Source string
	// Serve takes the data directory for a server: a second server on the
	// same directory is refused, and runs a dead server left unfinished
	// are marked interrupted.
	Serve bool
	// Keep is how many runs are kept (default 1000); past it, the oldest
	// finished ones are pruned after each run.
	Keep int
	// Every is the shortest time between two writes while runs go on
	// (default 100 ms), so that the disk is touched a few times a second
	// during a run, not once per event. A run's end is written at once.
	Every time.Duration
	// BusyTimeout is how long a write waits for a database locked by
	// another program before it fails (default 5 s).
	BusyTimeout time.Duration
	// LessonOf names the lesson of an experiment, for imported runs that
	// do not say (the output of `conclab run --json`); nil leaves them
	// without one.
	LessonOf func(experiment string) string
	// Log receives what the store did not manage; nil means slog.Default().
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Source == "" {
		o.Source = SourceServer
	}
	if o.Keep <= 0 {
		o.Keep = 1000
	}
	if o.Every <= 0 {
		o.Every = 100 * time.Millisecond
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Store is the run store. Its methods are safe for concurrent use.
type Store struct {
	o    Options
	path string  // the database file; "" in memory
	w    *sql.DB // the one writing connection
	r    *sql.DB // readers (the same pool in memory)
	lock *os.File

	health  health
	writer  writer
	stopped chan struct{}
}

// Open opens (or creates) the store in o.Dir and brings its schema up to
// date. With o.Serve it also marks the runs a dead server left unfinished
// as interrupted.
func Open(o Options) (*Store, error) {
	o = o.withDefaults()
	s := &Store{o: o, stopped: make(chan struct{})}
	if err := s.open(); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := migrate(s.w); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.recoverUnfinished(); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("marking interrupted runs: %w", describe(err))
	}
	if s.path == "" {
		s.health.memory(`this server keeps runs in memory only (it was started with --data ""); they are gone when it stops`)
	}
	s.writer.init()
	go s.writeLoop()
	return s, nil
}

// Memory opens a store that keeps everything in memory; it cannot fail
// but for a fault in the program.
func Memory(o Options) *Store {
	o.Dir = ""
	s, err := Open(o)
	if err != nil {
		panic("store: an in-memory database failed to open: " + err.Error())
	}
	return s
}

// NotSaving is a memory store for a server whose data directory could not
// be opened: it keeps the server's runs until it stops, and its Health
// says why they are not saved.
func NotSaving(o Options, why error) *Store {
	s := Memory(o)
	s.health.memory(fmt.Sprintf("the data directory %s could not be used (%v); runs are kept in memory until the server stops", o.Dir, why))
	return s
}

func (s *Store) open() error {
	if s.o.Dir == "" {
		// One connection: every connection to :memory: is a database of its
		// own. Kept open for good, or the database would go with it.
		db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)")
		if err != nil {
			return err
		}
		db.SetMaxOpenConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.w, s.r = db, db
		return nil
	}
	if err := os.MkdirAll(s.o.Dir, 0o755); err != nil {
		return fmt.Errorf("cannot make the data directory: %w", err)
	}
	if s.o.Serve {
		if err := s.takeLock(); err != nil {
			return err
		}
	}
	s.path = filepath.Join(s.o.Dir, FileName)
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", s.o.BusyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", "file:"+s.path+"?"+pragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s.w = w
	// The first statement makes the file and turns WAL on: a directory
	// that cannot be written fails here, with a reason a person can read.
	if err := w.Ping(); err != nil {
		return fmt.Errorf("cannot open %s: %w", s.path, describe(err))
	}
	var mode string
	if err := w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("cannot open %s: %w", s.path, describe(err))
	}
	if mode != "wal" {
		return fmt.Errorf("cannot open %s: its journal mode is %q, and WAL could not be set (is the directory writable?)", s.path, mode)
	}
	r, err := sql.Open("sqlite", "file:"+s.path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		return err
	}
	r.SetMaxOpenConns(4)
	s.r = r
	return nil
}

// takeLock makes sure one server at a time uses the directory. The lock
// goes with the process, however it ends.
func (s *Store) takeLock() error {
	f, err := os.OpenFile(filepath.Join(s.o.Dir, "serve.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("cannot take the data directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("another conclab serve is using the data directory %s: stop it, or give this one another --data", s.o.Dir)
		}
		return fmt.Errorf("cannot lock the data directory: %w", err)
	}
	s.lock = f
	return nil
}

// recoverUnfinished marks as interrupted the runs whose recording process
// died before they finished: a server killed in the middle of a run, or a
// `conclab run` killed with it.
func (s *Store) recoverUnfinished() error {
	rows, err := s.w.Query(`SELECT id, status, source, pid FROM runs WHERE status IN (?, ?)`, StatusQueued, StatusRunning)
	if err != nil {
		return err
	}
	type unfinished struct {
		id, status, source string
		pid                int
	}
	var dead []unfinished
	for rows.Next() {
		var u unfinished
		if err := rows.Scan(&u.id, &u.status, &u.source, &u.pid); err != nil {
			rows.Close()
			return err
		}
		if (u.source == SourceServer && s.lock != nil) || !alive(u.pid) {
			dead = append(dead, u)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for _, u := range dead {
		msg := "the process measuring it stopped before it finished (killed, or the machine went down); what it measured until then is kept"
		if u.status == StatusQueued {
			msg = "the server stopped before this run could start"
		}
		if _, err := s.w.Exec(`UPDATE runs SET status = ?, error = ?, ended_ms = max(started_ms, created_ms), pid = 0 WHERE id = ?`,
			StatusInterrupted, msg, u.id); err != nil {
			return err
		}
		// Its last event says so, for a page that comes back to watch it.
		done := protocol.Encode(protocol.Done{Status: StatusInterrupted, Error: msg, TS: now})
		if _, err := s.w.Exec(`INSERT INTO events (run, seq, type, body) SELECT ?, coalesce(max(seq), 0) + 1, ?, ? FROM events WHERE run = ?`,
			u.id, protocol.EventDone, done, u.id); err != nil {
			return err
		}
		if _, err := s.w.Exec(`UPDATE runs SET events = (SELECT count(*) FROM events WHERE run = ?) WHERE id = ?`, u.id, u.id); err != nil {
			return err
		}
		s.o.Log.Info("run recorded as interrupted", "run", u.id, "at", now)
	}
	return nil
}

// alive reports whether a process with this id exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// Where is the database file, or "" when the store is in memory.
func (s *Store) Where() string { return s.path }

// Close writes what is still waiting and closes the database.
func (s *Store) Close() error {
	s.writer.stop()
	<-s.stopped
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var err error
	if s.r != nil && s.r != s.w {
		err = s.r.Close()
	}
	if s.w != nil {
		if e := s.w.Close(); e != nil {
			err = e
		}
	}
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// The store is the scheduler's archive, and keeps the classroom's guesses.
var (
	_ engine.Archive     = (*Store)(nil)
	_ classroom.GuessLog = (*Store)(nil)
)

// health is whether runs are being saved, and why not.
type health struct {
	mu      sync.Mutex
	memOnly string // why runs are kept in memory only; "" when they are not
	failing string // why writes fail now; "" when they do not
	since   time.Time
	lost    int64     // events not stored because the disk could not keep up
	lostAt  time.Time // the latest such loss
}

func (h *health) memory(why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.memOnly = why
}

// fail records why writes fail; it reports whether that is news.
func (h *health) fail(why string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	news := h.failing != why
	if h.failing == "" {
		h.since = time.Now()
	}
	h.failing = why
	return news
}

// ok records a write that worked; it reports whether writes had failed.
func (h *health) ok() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.failing != ""
	h.failing = ""
	return was
}

func (h *health) lose(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lost += int64(n)
	h.lostAt = time.Now()
}

// Health says whether runs are being saved and, when not, why.
type Health struct {
	Saving bool   // runs are written to the database file
	Memory bool   // runs are kept in memory only
	Reason string // why runs are not being saved, for people; "" when they are
	Since  time.Time
	// Lost counts the events not stored since the store opened because the
	// disk could not keep up; LostAt is the latest such loss.
	Lost   int64
	LostAt time.Time
}

// Health is the store's state now.
func (s *Store) Health() Health {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	out := Health{Memory: h.memOnly != "", Lost: h.lost, LostAt: h.lostAt, Since: h.since}
	switch {
	case h.failing != "":
		out.Reason = h.failing
	case h.memOnly != "":
		out.Reason = h.memOnly
	default:
		out.Saving = true
	}
	return out
}

package store

import (
	"database/sql"
	"encoding/json"
	"os"
	"sync"
	"time"

	"conclab/internal/classroom"
	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// Recording, off the measuring path: a run's events live in its log
// (internal/runlog), the one record of them; its tape only wakes the
// writer when the log grows, and the writer goroutine copies what is new
// to the database, at most every Options.Every while runs go on, and a
// run's start and end at once. Nothing here ever waits on the disk while
// a run is measuring. A write that fails is tried again from the log, so
// a disk that comes back loses nothing.

// tape records one run (an engine.Tape).
type tape struct {
	s   *Store
	rec runlog.Record
	log *runlog.Log
	pid int

	mu    sync.Mutex
	asked []string // learners who joined, not written yet
	out   *runlog.Outcome
	ended time.Time
	lost  int // events given up on: the disk failed for too long

	// The writer's own, touched by it alone.
	inserted  bool // its row is in the database
	finished  bool // its end is in the database
	abandoned bool // given up on (see giveUp)
	stored    int  // events in the database: seqs 1..stored
	queued    bool // in writer.dirty; guarded by writer.mu
}

// Record starts the record of a run (engine.Archive); its events are
// written from log as they come. It never blocks.
func (s *Store) Record(rec runlog.Record, log *runlog.Log) engine.Tape {
	if rec.Created.IsZero() {
		rec.Created = time.Now()
	}
	t := &tape{s: s, rec: rec, log: log, pid: os.Getpid()}
	log.Notify(func() { s.writer.mark(t, false) })
	s.writer.mark(t, true) // its row goes in at once: a run is listed from the moment it is asked for
	return t
}

// Asked records another learner asking for the run.
func (t *tape) Asked(learner string) {
	if learner == "" {
		return
	}
	t.mu.Lock()
	t.asked = append(t.asked, learner)
	t.mu.Unlock()
	t.s.writer.mark(t, false)
}

// End records the run's outcome; it is written at once, off this
// goroutine.
func (t *tape) End(out runlog.Outcome) {
	t.mu.Lock()
	if t.out != nil {
		t.mu.Unlock()
		return
	}
	t.out, t.ended = &out, time.Now()
	t.mu.Unlock()
	t.s.writer.mark(t, true)
}

// writer gathers the tapes with something to write.
type writer struct {
	mu          sync.Mutex
	guesses     []classroom.ScoredGuess // scored guesses to write
	lostGuesses int
	dirty       []*tape
	urgent      bool
	kick        chan struct{}
	flushes     chan chan struct{}
	quit        chan struct{}
	once        sync.Once
}

func (w *writer) init() {
	w.kick = make(chan struct{}, 1)
	w.flushes = make(chan chan struct{})
	w.quit = make(chan struct{})
}

func (w *writer) stop() { w.once.Do(func() { close(w.quit) }) }

// mark puts t among the tapes to write, and wakes the writer.
func (w *writer) mark(t *tape, urgent bool) {
	w.mu.Lock()
	if !t.queued {
		t.queued = true
		w.dirty = append(w.dirty, t)
	}
	if urgent {
		w.urgent = true
	}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// take empties the list of tapes to write.
func (w *writer) take() []*tape {
	w.mu.Lock()
	defer w.mu.Unlock()
	batch := w.dirty
	w.dirty, w.urgent = nil, false
	for _, t := range batch {
		t.queued = false
	}
	return batch
}

// retryEvery is how long the writer waits after a failed write.
const retryEvery = time.Second

func (s *Store) writeLoop() {
	defer close(s.stopped)
	w := &s.writer
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var last, backoff time.Time
	for {
		select {
		case <-w.kick:
			w.mu.Lock()
			urgent := w.urgent
			w.mu.Unlock()
			next := backoff
			if !urgent && last.Add(s.o.Every).After(next) {
				next = last.Add(s.o.Every)
			}
			if wait := time.Until(next); wait > 0 {
				timer.Reset(wait)
				continue
			}
		case <-timer.C:
		case done := <-w.flushes:
			s.writeAll()
			close(done)
			last = time.Now()
			continue
		case <-w.quit:
			if !s.writeAll() {
				time.Sleep(100 * time.Millisecond)
				s.writeAll() // one more try; what fails now is lost, and was logged
			}
			return
		}
		last = time.Now()
		if !s.writeAll() {
			backoff = time.Now().Add(retryEvery)
			timer.Reset(retryEvery)
		}
	}
}

// Flush waits until everything recorded so far is written (or has failed
// to be). Tests and `conclab run` use it; the server never needs to.
func (s *Store) Flush() {
	done := make(chan struct{})
	select {
	case s.writer.flushes <- done:
		<-done
	case <-s.stopped:
	}
}

// snapshot is what one tape has to write now.
type snapshot struct {
	t       *tape
	evs     []runlog.Entry
	asked   []string
	out     *runlog.Outcome
	ended   time.Time
	dropped int
	lost    int
}

// writeAll writes every dirty tape in one transaction, and reports
// whether it worked.
func (s *Store) writeAll() bool {
	batch := s.writer.take()
	if gs := s.writer.takeGuesses(); len(gs) > 0 {
		if err := s.writeGuesses(gs); err != nil {
			s.writer.putBack(gs)
			if len(batch) == 0 {
				s.failed(err, nil)
				return false
			}
		}
	}
	if len(batch) == 0 {
		return true
	}
	snaps := make([]snapshot, 0, len(batch))
	for _, t := range batch {
		if t.abandoned {
			continue
		}
		t.mu.Lock()
		sn := snapshot{t: t, asked: t.asked, lost: t.lost}
		if t.out != nil && !t.finished {
			sn.out, sn.ended = t.out, t.ended
		}
		t.asked = nil
		t.mu.Unlock()
		// The end is read before the events: every event of a run that
		// ended is in its log by then, so its last write holds them all.
		sn.evs = t.log.Entries(t.stored)
		sn.dropped = t.log.Dropped()
		snaps = append(snaps, sn)
	}
	ended, err := s.commit(snaps)
	if err != nil {
		s.failed(err, snaps)
		return false
	}
	for _, sn := range snaps {
		sn.t.inserted = true
		sn.t.stored += len(sn.evs)
		if sn.out != nil {
			sn.t.finished = true
		}
	}
	if s.health.ok() {
		s.o.Log.Info("runs are being saved again", "db", s.path)
	}
	if ended {
		if err := s.prune(); err != nil {
			s.o.Log.Warn("pruning old runs", "err", describe(err))
		}
	}
	return true
}

// maxWaiting is how many runs that have ended may wait for a disk that
// keeps failing; past it, the oldest are given up on (their events are
// counted lost) so that memory stays bounded.
const maxWaiting = 64

// failed puts every snapshot back to be written again from its log, gives
// up on the oldest ended runs past maxWaiting, and says why nothing is
// being saved.
func (s *Store) failed(err error, snaps []snapshot) {
	ended := 0
	for i := len(snaps) - 1; i >= 0; i-- {
		t := snaps[i].t
		t.mu.Lock()
		t.asked = append(snaps[i].asked, t.asked...)
		done := t.out != nil
		t.mu.Unlock()
		if done {
			ended++
		}
		if done && ended > maxWaiting {
			s.giveUp(t)
			continue
		}
		s.writer.mark(t, false)
	}
	why := reason(err)
	if s.health.fail(why) {
		s.o.Log.Warn("runs are not being saved", "why", why, "db", s.path, "err", err)
	}
}

// giveUp stops trying to write a run: what is not in the database is lost.
func (s *Store) giveUp(t *tape) {
	t.abandoned = true
	n := t.log.Len() - t.stored
	t.mu.Lock()
	t.lost += n
	t.mu.Unlock()
	t.log.Notify(nil)
	if n > 0 {
		s.health.lose(n)
	}
	s.o.Log.Warn("a run could not be saved", "run", t.rec.ID, "events_lost", n)
}

// commit writes the snapshots in one transaction; ended reports whether a
// run's end was among them.
func (s *Store) commit(snaps []snapshot) (ended bool, err error) {
	tx, err := s.w.Begin()
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	ins, err := tx.Prepare(`INSERT INTO events (run, seq, type, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return false, err
	}
	defer ins.Close()
	for _, sn := range snaps {
		t := sn.t
		if !t.inserted {
			if err := insertRun(tx, t.rec, s.o.Source, t.pid); err != nil {
				return false, err
			}
		}
		for _, e := range sn.evs {
			if _, err := ins.Exec(t.rec.ID, e.Seq, e.Type, e.Body); err != nil {
				return false, err
			}
			if e.Type == protocol.EventStarted {
				if err := markStarted(tx, t.rec.ID, e.Body); err != nil {
					return false, err
				}
			}
		}
		for _, l := range sn.asked {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO run_learners (run, learner) VALUES (?, ?)`, t.rec.ID, l); err != nil {
				return false, err
			}
		}
		if sn.out != nil {
			ended = true
			events := t.stored + len(sn.evs)
			if err := finishRun(tx, t.rec.ID, *sn.out, sn.ended, events, sn.dropped, sn.lost); err != nil {
				return false, err
			}
		}
	}
	return ended, tx.Commit()
}

func insertRun(tx *sql.Tx, rec runlog.Record, source string, pid int) error {
	params, err := json.Marshal(rec.Params)
	if err != nil {
		return err
	}
	if rec.Params == nil {
		params = []byte("{}")
	}
	if _, err := tx.Exec(`INSERT INTO runs (id, experiment, lesson, params, status, learner, instructor, source, pid, created_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		rec.ID, rec.Experiment, rec.Lesson, string(params), StatusQueued, rec.Learner, rec.Instructor, source, pid, rec.Created.UnixMilli()); err != nil {
		return err
	}
	if rec.Learner != "" {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO run_learners (run, learner) VALUES (?, ?)`, rec.ID, rec.Learner); err != nil {
			return err
		}
	}
	return nil
}

// markStarted keeps the started event's time and host facts on the run.
func markStarted(tx *sql.Tx, id string, body []byte) error {
	var ev struct {
		TS   float64         `json:"ts"`
		Host json.RawMessage `json:"host"`
	}
	if json.Unmarshal(body, &ev) != nil {
		return nil // kept as an event; the run just has no start time
	}
	_, err := tx.Exec(`UPDATE runs SET status = CASE WHEN status = ? THEN ? ELSE status END, started_ms = ?, host = ? WHERE id = ?`,
		StatusQueued, StatusRunning, int64(ev.TS), string(ev.Host), id)
	return err
}

// finishRun writes a run's end, its result's summary, and the progress of
// every learner who asked for it.
func finishRun(tx *sql.Tx, id string, out runlog.Outcome, ended time.Time, events, dropped, lost int) error {
	sum := summarize(out.Result)
	if _, err := tx.Exec(`UPDATE runs SET status = ?, error = ?, ended_ms = ?, result = ?, headline = ?, holds = ?, differs = ?, inconclusive = ?,
		events = ?, dropped = ?, lost = ?, pid = 0 WHERE id = ?`,
		out.Status, out.Error, ended.UnixMilli(), string(out.Result), sum.headline, sum.holds, sum.differs, sum.inconclusive,
		events, dropped, lost, id); err != nil {
		return err
	}
	if out.Status != protocol.StatusOK {
		return nil
	}
	return countProgress(tx, id)
}

// countProgress adds a run that finished ok to the progress of every
// learner who asked for it.
func countProgress(tx *sql.Tx, id string) error {
	_, err := tx.Exec(`INSERT INTO progress (learner, experiment, runs, first_ms, last_ms, last_run)
		SELECT l.learner, r.experiment, 1, r.ended_ms, r.ended_ms, r.id FROM run_learners AS l JOIN runs AS r ON r.id = l.run WHERE l.run = ?
		ON CONFLICT (learner, experiment) DO UPDATE SET runs = runs + 1, first_ms = min(first_ms, excluded.first_ms),
			last_ms = max(last_ms, excluded.last_ms),
			last_run = CASE WHEN excluded.last_ms >= last_ms THEN excluded.last_run ELSE last_run END`, id)
	return err
}

// summary is what listings show of a result without decoding it.
type summary struct {
	headline                     string // the first metric, as JSON
	holds, differs, inconclusive int
}

func summarize(result json.RawMessage) summary {
	var sum summary
	if len(result) == 0 {
		return sum
	}
	body, err := lab.DecodeResult(result)
	if err != nil {
		return sum
	}
	if len(body.Metrics) > 0 {
		b, _ := json.Marshal(body.Metrics[0])
		sum.headline = string(b)
	}
	for _, c := range body.Claims {
		switch c.Verdict {
		case protocol.Holds:
			sum.holds++
		case protocol.Differs:
			sum.differs++
		default:
			sum.inconclusive++
		}
	}
	return sum
}

// prune deletes the oldest finished runs past Keep (their events go with
// them); progress stays.
func (s *Store) prune() error {
	var n int
	if err := s.w.QueryRow(`SELECT count(*) FROM runs`).Scan(&n); err != nil {
		return err
	}
	if n <= s.o.Keep {
		return nil
	}
	_, err := s.w.Exec(`DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE status NOT IN (?, ?) ORDER BY created_ms LIMIT ?)`,
		StatusQueued, StatusRunning, n-s.o.Keep)
	return err
}

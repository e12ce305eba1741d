package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// Run is a stored run.
type Run struct {
	ID                           string
	Experiment                   string
	Lesson                       string
	Params                       map[string]any
	Status                       string // ok, failed, cancelled, timeout, interrupted, or queued/running while it goes
	Error                        string
	Learner                      string // who asked first; "" for `conclab run` and imports from the command line
	Instructor                   bool
	Source                       string // SourceServer, SourceCLI or SourceImport
	Created                      time.Time
	Started                      time.Time // zero when it never started
	Ended                        time.Time // zero while it goes
	Imported                     time.Time // when it was imported here; zero otherwise
	Host                         *probe.Host
	Result                       json.RawMessage // its result event; nil when it has none
	Headline                     *lab.Metric     // the result's first metric
	Holds, Differs, Inconclusive int
	Events                       int // events stored
	Dropped                      int // events past the cap per run, not stored
	Lost                         int // events the disk could not take, not stored
}

// Finished reports whether the run has ended, however.
func (r Run) Finished() bool { return r.Status != StatusQueued && r.Status != StatusRunning }

// Body decodes the run's result (zero when it has none).
func (r Run) Body() lab.ResultBody {
	if len(r.Result) == 0 {
		return lab.ResultBody{}
	}
	b, _ := lab.DecodeResult(r.Result)
	return b
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{12}$`)

// ValidID reports whether id has the form of a run id (12 lower-case hex
// digits, as lab.NewID makes them).
func ValidID(id string) bool { return idPattern.MatchString(id) }

const runColumns = `id, experiment, lesson, params, status, error, learner, instructor, source, created_ms, started_ms, ended_ms, imported_ms,
	host, headline, holds, differs, inconclusive, events, dropped, lost`

func scanRun(sc interface{ Scan(...any) error }, withResult bool) (Run, error) {
	var r Run
	var params, host, headline, result string
	var created, started, ended, imported int64
	dest := []any{&r.ID, &r.Experiment, &r.Lesson, &params, &r.Status, &r.Error, &r.Learner, &r.Instructor, &r.Source,
		&created, &started, &ended, &imported, &host, &headline, &r.Holds, &r.Differs, &r.Inconclusive, &r.Events, &r.Dropped, &r.Lost}
	if withResult {
		dest = append(dest, &result)
	}
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	json.Unmarshal([]byte(params), &r.Params)
	r.Created, r.Started, r.Ended, r.Imported = msTime(float64(created)), msTime(float64(started)), msTime(float64(ended)), msTime(float64(imported))
	if host != "" {
		var h probe.Host
		if json.Unmarshal([]byte(host), &h) == nil {
			r.Host = &h
		}
	}
	if headline != "" {
		var m lab.Metric
		if json.Unmarshal([]byte(headline), &m) == nil {
			r.Headline = &m
		}
	}
	if result != "" {
		r.Result = json.RawMessage(result)
	}
	return r, nil
}

// Get returns a stored run with its result (ErrNotFound when there is no
// such run).
func (s *Store) Get(id string) (Run, error) {
	if !ValidID(id) {
		return Run{}, ErrNotFound
	}
	r, err := scanRun(s.r.QueryRow(`SELECT `+runColumns+`, result FROM runs WHERE id = ?`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrNotFound
	}
	if err != nil {
		return Run{}, describe(err)
	}
	return r, nil
}

// Event is one stored event of a run.
type Event struct {
	Seq  int
	Type string
	JSON []byte
}

// Events returns a run's events in order; with types, only those of these
// types.
func (s *Store) Events(id string, types ...string) ([]Event, error) {
	q := `SELECT seq, type, body FROM events WHERE run = ?`
	args := []any{id}
	if len(types) > 0 {
		q += ` AND type IN (?` + strings.Repeat(`, ?`, len(types)-1) + `)`
		for _, t := range types {
			args = append(args, t)
		}
	}
	rows, err := s.r.Query(q+` ORDER BY seq`, args...)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.Seq, &e.Type, &e.JSON); err != nil {
			return nil, describe(err)
		}
		out = append(out, e)
	}
	return out, describe(rows.Err())
}

// WriteEvents writes a run's events to w, one JSON object per line, as
// `conclab run --json` prints them.
func (s *Store) WriteEvents(id string, w io.Writer) error {
	evs, err := s.Events(id)
	if err != nil {
		return err
	}
	for _, e := range evs {
		if _, err := w.Write(append(e.JSON, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// Query selects runs for a listing.
type Query struct {
	// Learner, when set, puts this learner's runs (those they asked for)
	// in Listing.Mine and everyone else's in Listing.Others.
	Learner    string
	Experiment string // only this experiment's runs
	Lesson     string // only this lesson's runs
	Limit      int    // at most this many in each list (default 100)
}

// Listing is a page of runs, newest first.
type Listing struct {
	Mine, Others           []Run
	MineTotal, OthersTotal int // how many there are in all, beyond Limit
}

// List returns the runs a query selects. Their Host holds only the CPU
// model, the usable CPUs, the quota and the virtualization (Get has all).
func (s *Store) List(q Query) (Listing, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	where, args := "1 = 1", []any{}
	if q.Experiment != "" {
		where += " AND r.experiment = ?"
		args = append(args, q.Experiment)
	}
	if q.Lesson != "" {
		where += " AND r.lesson = ?"
		args = append(args, q.Lesson)
	}
	var l Listing
	var err error
	mine := `EXISTS (SELECT 1 FROM run_learners AS l WHERE l.run = r.id AND l.learner = ?)`
	if q.Learner != "" {
		a := append([]any{q.Learner}, args...)
		if l.Mine, l.MineTotal, err = s.list(mine+" AND "+where, a, q.Limit); err != nil {
			return l, err
		}
		l.Others, l.OthersTotal, err = s.list("NOT "+mine+" AND "+where, a, q.Limit)
		return l, err
	}
	l.Others, l.OthersTotal, err = s.list(where, args, q.Limit)
	return l, err
}

// listColumns are runColumns with only the host facts a listing shows
// (its name, CPU model, usable CPUs, quota and virtualization):
// decoding every run's whole host would cost most of a history page.
var listColumns = strings.Replace(prefixed("r.", runColumns), "r.host",
	`CASE WHEN r.host = '' THEN '' ELSE json_object('name', r.host ->> '$.name', 'cpu_model', r.host ->> '$.cpu_model', 'usable_cpus', r.host ->> '$.usable_cpus',
		'cpu_quota', r.host ->> '$.cpu_quota', 'virtualization', r.host ->> '$.virtualization') END`, 1)

func (s *Store) list(where string, args []any, limit int) ([]Run, int, error) {
	var total int
	if err := s.r.QueryRow(`SELECT count(*) FROM runs AS r WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, describe(err)
	}
	rows, err := s.r.Query(`SELECT `+listColumns+` FROM runs AS r WHERE `+where+` ORDER BY r.created_ms DESC, r.rowid DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, 0, describe(err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows, false)
		if err != nil {
			return nil, 0, describe(err)
		}
		out = append(out, r)
	}
	return out, total, describe(rows.Err())
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// Count is how many runs the store holds.
func (s *Store) Count() (int, error) {
	var n int
	err := s.r.QueryRow(`SELECT count(*) FROM runs`).Scan(&n)
	return n, describe(err)
}

// Others lists the finished runs of an experiment other than id, this
// learner's first, newest first: what a run may be compared with.
func (s *Store) Others(experiment, id, learner string, limit int) ([]Run, error) {
	where := `r.experiment = ? AND r.id != ? AND r.status NOT IN (?, ?) AND `
	mine := `EXISTS (SELECT 1 FROM run_learners AS l WHERE l.run = r.id AND l.learner = ?)`
	var out []Run
	for _, w := range []string{where + mine, where + "NOT " + mine} {
		if len(out) >= limit {
			break
		}
		rows, err := s.r.Query(`SELECT `+listColumns+` FROM runs AS r WHERE `+w+` ORDER BY r.created_ms DESC, r.rowid DESC LIMIT ?`,
			experiment, id, StatusQueued, StatusRunning, learner, limit-len(out))
		if err != nil {
			return nil, describe(err)
		}
		for rows.Next() {
			r, err := scanRun(rows, false)
			if err != nil {
				rows.Close()
				return nil, describe(err)
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, describe(err)
		}
	}
	return out, nil
}

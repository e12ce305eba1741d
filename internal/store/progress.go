package store

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// A learner's progress: the experiments they have run to the end, kept
// apart from the runs (which are pruned) so that it lasts. It travels as
// one JSON file ("move my progress") into another browser or server.

// Done is one experiment a learner has run.
type Done struct {
	Experiment string    `json:"experiment"`
	Runs       int       `json:"runs"` // runs of it that finished ok
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	LastRun    string    `json:"last_run"` // the newest of them, where it was measured
}

// Progress is the experiments a learner has run, by id.
type Progress map[string]Done

// Progress returns a learner's progress.
func (s *Store) Progress(learner string) (Progress, error) {
	out := Progress{}
	if learner == "" {
		return out, nil
	}
	rows, err := s.r.Query(`SELECT experiment, runs, first_ms, last_ms, last_run FROM progress WHERE learner = ?`, learner)
	if err != nil {
		return out, describe(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Done
		var first, last int64
		if err := rows.Scan(&d.Experiment, &d.Runs, &first, &last, &d.LastRun); err != nil {
			return out, describe(err)
		}
		d.First, d.Last = msTime(float64(first)).UTC(), msTime(float64(last)).UTC()
		out[d.Experiment] = d
	}
	return out, describe(rows.Err())
}

// ProgressFormat names a progress file.
const ProgressFormat = "conclab-progress"

// progressFile is a learner's progress as a file.
type progressFile struct {
	Type        string    `json:"type"` // ProgressFormat
	Format      int       `json:"format"`
	Exported    time.Time `json:"exported"`
	Experiments []Done    `json:"experiments"`
	// Runs are the ids of the learner's runs kept where it was exported:
	// imported on the same server, they become the importer's runs too.
	Runs []string `json:"runs"`
	// Guesses are the learner's scored guesses (from format 2).
	Guesses []Guess `json:"guesses"`
	// Answers are the learner's answers to self-checks and exercises
	// (from format 3).
	Answers []Answer `json:"answers"`
}

// progressFormat is the newest format of progress files this writes.
const progressFormat = 3

// ExportProgress writes a learner's progress as one JSON file.
func (s *Store) ExportProgress(learner string, w io.Writer) error {
	p, err := s.Progress(learner)
	if err != nil {
		return err
	}
	f := progressFile{Type: ProgressFormat, Format: progressFormat, Exported: time.Now().UTC(), Experiments: []Done{}, Runs: []string{}, Guesses: []Guess{}, Answers: []Answer{}}
	gs, err := s.Guesses(learner)
	if err != nil {
		return err
	}
	f.Guesses = append(f.Guesses, gs...)
	as, err := s.Answers(learner)
	if err != nil {
		return err
	}
	for _, a := range as {
		a.Learner = ""
		f.Answers = append(f.Answers, a)
	}
	slices.SortFunc(f.Answers, func(a, b Answer) int { return strings.Compare(a.Question, b.Question) })
	for _, d := range p {
		f.Experiments = append(f.Experiments, d)
	}
	slices.SortFunc(f.Experiments, func(a, b Done) int { return strings.Compare(a.Experiment, b.Experiment) })
	rows, err := s.r.Query(`SELECT run FROM run_learners WHERE learner = ? ORDER BY run`, learner)
	if err != nil {
		return describe(err)
	}
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			f.Runs = append(f.Runs, id)
		}
	}
	rows.Close()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// ProgressImported says what an import of progress did.
type ProgressImported struct {
	Experiments int // experiments merged into the learner's progress
	Runs        int // runs of this server that became the learner's
	Guesses     int // scored guesses added
	Answers     int // answers added, or exercises they settled
}

// ImportProgress merges a progress file into learner's progress. Merging
// twice changes nothing: each experiment keeps the larger count of runs,
// the earlier first and the later last.
func (s *Store) ImportProgress(learner string, rd io.Reader) (ProgressImported, error) {
	var res ProgressImported
	if learner == "" {
		return res, fmt.Errorf("progress belongs to a learner: open a page of the course first, which gives your browser one")
	}
	dec := json.NewDecoder(io.LimitReader(rd, 4<<20))
	var f progressFile
	if err := dec.Decode(&f); err != nil {
		return res, fmt.Errorf("this is not a progress file (%v): export one from /progress", err)
	}
	switch {
	case f.Type != ProgressFormat:
		return res, fmt.Errorf("this is not a progress file: its type is %q, not %q (a run file imports on /runs instead)", f.Type, ProgressFormat)
	case f.Format > progressFormat:
		return res, fmt.Errorf("this progress file is of format %d, newer than this conclab knows (%d)", f.Format, progressFormat)
	case len(f.Experiments) > 1000 || len(f.Runs) > 100_000 || len(f.Guesses) > 100_000 || len(f.Answers) > 10_000:
		return res, fmt.Errorf("this progress file lists more than any learner can have")
	}
	for i, d := range f.Experiments {
		if !expPattern.MatchString(d.Experiment) || d.Runs < 1 || d.First.IsZero() || d.Last.IsZero() {
			return res, fmt.Errorf("experiment %d of the file is malformed: it needs an experiment id, runs of at least 1, and first and last times", i+1)
		}
	}
	for i, g := range f.Guesses {
		if !expPattern.MatchString(g.Experiment) || g.Claim < 0 || !ValidID(g.Run) || g.Score == "" || g.At.IsZero() || g.Value == nil {
			return res, fmt.Errorf("guess %d of the file is malformed: it needs an experiment id, a claim, the run it was scored on, a value, a score and a time", i+1)
		}
	}
	for i, a := range f.Answers {
		if err := a.check(); err != nil {
			return res, fmt.Errorf("answer %d of the file is malformed: %v", i+1, err)
		}
	}
	tx, err := s.w.Begin()
	if err != nil {
		return res, describe(err)
	}
	defer tx.Rollback()
	if res.Answers, err = importAnswers(tx, learner, f.Answers); err != nil {
		return res, err
	}
	for _, g := range f.Guesses {
		value, _ := json.Marshal(g.Value)
		measured, _ := json.Marshal(g.Measured)
		r, err := tx.Exec(`INSERT OR IGNORE INTO guesses (learner, experiment, claim, run, class, value, measured, factor, right, score, at_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			learner, g.Experiment, g.Claim, g.Run, b2i(g.Class), string(value), string(measured), g.Factor, b2i(g.Right), g.Score, g.At.UnixMilli())
		if err != nil {
			return res, describe(err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			res.Guesses++
		}
	}
	for _, d := range f.Experiments {
		if _, err := tx.Exec(`INSERT INTO progress (learner, experiment, runs, first_ms, last_ms, last_run) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (learner, experiment) DO UPDATE SET runs = max(runs, excluded.runs), first_ms = min(first_ms, excluded.first_ms),
				last_ms = max(last_ms, excluded.last_ms),
				last_run = CASE WHEN excluded.last_ms > last_ms THEN excluded.last_run ELSE last_run END`,
			learner, d.Experiment, d.Runs, d.First.UnixMilli(), d.Last.UnixMilli(), d.LastRun); err != nil {
			return res, describe(err)
		}
		res.Experiments++
	}
	for _, id := range f.Runs {
		if !ValidID(id) {
			continue
		}
		r, err := tx.Exec(`INSERT OR IGNORE INTO run_learners (run, learner) SELECT id, ? FROM runs WHERE id = ?`, learner, id)
		if err != nil {
			return res, describe(err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			res.Runs++
		}
	}
	return res, describe(tx.Commit())
}

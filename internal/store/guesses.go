package store

import (
	"encoding/json"
	"slices"
	"time"

	"conclab/internal/classroom"
	"conclab/internal/lab"
)

// Learners' scored guesses. The scheduler hands each one over as its run
// ends, holding its own lock, so Scored only queues it; the writer
// goroutine commits queued guesses with the runs.

// maxQueuedGuesses bounds the guesses waiting to be written; past it a
// guess is dropped (and counted) rather than held in memory.
const maxQueuedGuesses = 10_000

// Scored queues a scored guess to be kept. It never blocks.
func (s *Store) Scored(g classroom.ScoredGuess) {
	w := &s.writer
	w.mu.Lock()
	if len(w.guesses) < maxQueuedGuesses {
		w.guesses = append(w.guesses, g)
	} else {
		w.lostGuesses++
	}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// takeGuesses empties the queue of guesses to write.
func (w *writer) takeGuesses() []classroom.ScoredGuess {
	w.mu.Lock()
	defer w.mu.Unlock()
	gs := w.guesses
	w.guesses = nil
	return gs
}

// putBack queues guesses again after a failed write, as far as there is room.
func (w *writer) putBack(gs []classroom.ScoredGuess) {
	w.mu.Lock()
	defer w.mu.Unlock()
	room := max(0, maxQueuedGuesses-len(w.guesses))
	if len(gs) > room {
		w.lostGuesses += len(gs) - room
		gs = gs[:room]
	}
	w.guesses = append(gs, w.guesses...)
}

func (s *Store) writeGuesses(gs []classroom.ScoredGuess) error {
	if len(gs) == 0 {
		return nil
	}
	tx, err := s.w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, g := range gs {
		value, _ := json.Marshal(g.Value)
		measured, _ := json.Marshal(g.Score.Measured)
		if _, err := tx.Exec(`INSERT OR REPLACE INTO guesses (learner, experiment, claim, run, class, value, measured, factor, right, score, at_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.Learner, g.Experiment, g.Claim, g.Run, b2i(g.Class), string(value), string(measured), g.Score.Factor, b2i(g.Score.Right), g.Score.Text, g.At.UnixMilli()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Guess is one of a learner's scored guesses.
type Guess struct {
	Experiment string    `json:"experiment"`
	Claim      int       `json:"claim"`
	Run        string    `json:"run"`
	Class      bool      `json:"class"`
	Value      any       `json:"value"`
	Measured   any       `json:"measured"`
	Factor     float64   `json:"factor,omitempty"`
	Right      bool      `json:"right"`
	Score      string    `json:"score"`
	At         time.Time `json:"at"`
}

// Guesses returns a learner's scored guesses, newest first.
func (s *Store) Guesses(learner string) ([]Guess, error) {
	if learner == "" {
		return nil, nil
	}
	rows, err := s.r.Query(`SELECT experiment, claim, run, class, value, measured, factor, right, score, at_ms
		FROM guesses WHERE learner = ? ORDER BY at_ms DESC LIMIT 1000`, learner)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var out []Guess
	for rows.Next() {
		var g Guess
		var class, right int
		var value, measured string
		var at int64
		if err := rows.Scan(&g.Experiment, &g.Claim, &g.Run, &class, &value, &measured, &g.Factor, &right, &g.Score, &at); err != nil {
			return nil, describe(err)
		}
		json.Unmarshal([]byte(value), &g.Value)
		json.Unmarshal([]byte(measured), &g.Measured)
		g.Class, g.Right, g.At = class == 1, right == 1, msTime(float64(at)).UTC()
		out = append(out, g)
	}
	return out, describe(rows.Err())
}

// Calibration sums a learner's guesses up: how many, how many right, the
// median factor their numbers were off, and the one they were most wrong
// about.
type Calibration struct {
	Guesses      int
	Right        int
	Numbers      int
	MedianFactor float64 // of the guessed numbers; 0 with none
	Worst        *Guess  // the number furthest off
}

// Calibrate sums guesses up.
func Calibrate(gs []Guess) Calibration {
	c := Calibration{Guesses: len(gs)}
	var factors []float64
	for i, g := range gs {
		if g.Right {
			c.Right++
		}
		if g.Factor >= 1 {
			factors = append(factors, g.Factor)
			if c.Worst == nil || g.Factor > c.Worst.Factor {
				c.Worst = &gs[i]
			}
		}
	}
	c.Numbers = len(factors)
	if len(factors) > 0 {
		slices.Sort(factors)
		c.MedianFactor = lab.Summarize(factors).P50
	}
	return c
}

// Secret is the secret that signs learners' cookies: made once and kept,
// so that a learner's cookie, and with it their runs, progress and
// guesses, still counts after the server restarts. When it cannot be
// read or kept, a fresh one serves for this process.
func (s *Store) Secret(fresh func() []byte) []byte {
	var v []byte
	if err := s.r.QueryRow(`SELECT value FROM settings WHERE name = 'learner-secret'`).Scan(&v); err == nil && len(v) >= 16 {
		return v
	}
	v = fresh()
	if _, err := s.w.Exec(`INSERT INTO settings (name, value) VALUES ('learner-secret', ?) ON CONFLICT (name) DO NOTHING`, v); err != nil {
		s.o.Log.Warn("the learners' cookie secret is not kept: cookies will not outlast this process", "err", describe(err))
		return v
	}
	var kept []byte
	if err := s.r.QueryRow(`SELECT value FROM settings WHERE name = 'learner-secret'`).Scan(&kept); err == nil && len(kept) >= 16 {
		return kept // another process may have kept one first
	}
	return v
}

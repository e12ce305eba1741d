package classroom

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/learner"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// Learners' guesses, kept until the run they are scored on. A guess waits
// (open) until a run of its experiment starts for its learner — then it is
// locked to that run: no editing after seeing the number — and is scored
// when that run finishes ok. While the instructor presents an experiment
// (a round is open), students' guesses for it are the class's: locked to
// the instructor's run, shown to the instructor live, and to everyone once
// the instructor reveals them.

// ErrGuessLocked refuses a guess once the run it would be scored on has
// started.
var ErrGuessLocked = errors.New("your guess is locked")

// ScoredGuess is one guess and how it fared.
type ScoredGuess struct {
	Learner    string
	Experiment string
	Claim      int
	Run        string
	Class      bool // made in a round the instructor opened
	Value      any
	Score      lab.Score
	At         time.Time
}

// GuessLog keeps scored guesses (the store); nil keeps them in memory only.
type GuessLog interface {
	Scored(g ScoredGuess)
}

type guessKey struct {
	learner, exp string
	claim        int
}

type guess struct {
	guessKey
	value any
	class bool
	at    time.Time
}

// round is the class's guesses for one experiment.
type round struct {
	exp      *lab.Experiment
	guesses  map[guessKey]*guess
	run      string // the instructor's run they are locked to, once it started
	scored   map[int]lab.Score
	measured map[int]any
	revealed bool
}

// maxKept bounds the scored guesses kept in memory (for the CSV).
const maxKept = 20_000

type guessBook struct {
	// told is each learner's latest score of each guess, kept a while to
	// tell a page that comes back after the score went out.
	told   map[guessKey]told
	open   map[guessKey]*guess
	locked map[string][]*guess // run id → its guesses
	rounds map[string]*round   // experiment id → the round now
	kept   []ScoredGuess       // scored, oldest first
}

// told is a score as it was sent, and when.
type told struct {
	msg []byte
	at  time.Time
	exp *lab.Experiment
}

// tellFor is how long a score is told again to a page that reconnects.
const tellFor = 10 * time.Minute

func newGuessBook() guessBook {
	return guessBook{told: map[guessKey]told{}, open: map[guessKey]*guess{}, locked: map[string][]*guess{}, rounds: map[string]*round{}}
}

// Predict takes a learner's guess for a claim of exp. It is refused when
// the experiment has no prediction for that claim, the value does not fit
// it, or the run it would be scored on has started.
func (c *Classroom) Predict(exp *lab.Experiment, claim int, value any, learnerID string) (protocol.Predicted, error) {
	var decl *lab.Prediction
	for i := range exp.Predictions {
		if exp.Predictions[i].Claim == claim {
			decl = &exp.Predictions[i]
		}
	}
	if decl == nil {
		return protocol.Predicted{}, fmt.Errorf("%s has no prediction for claim %d", exp.ID, claim)
	}
	val, err := decl.Guess(value)
	if err != nil {
		return protocol.Predicted{}, err
	}
	k := guessKey{learnerID, exp.ID, claim}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lockedForLocked(k) {
		return protocol.Predicted{}, fmt.Errorf("%w: the run it is scored on has started; guess again before the next one", ErrGuessLocked)
	}
	g := &guess{guessKey: k, value: val, at: time.Now()}
	if rd := c.guesses.rounds[exp.ID]; rd != nil && rd.run == "" {
		g.class = true
		rd.guesses[k] = g
		delete(c.guesses.open, k)
	} else {
		c.guesses.open[k] = g
	}
	return protocol.Predicted{Experiment: exp.ID, Claim: claim, Value: val, Class: g.class}, nil
}

// lockedForLocked reports whether k's learner has a guess locked to a run
// that has not finished, or a running run of the experiment.
func (c *Classroom) lockedForLocked(k guessKey) bool {
	for _, gs := range c.guesses.locked {
		for _, g := range gs {
			if g.guessKey == k {
				return true
			}
		}
	}
	for r := range c.running {
		if r.Exp.ID == k.exp && slices.Contains(r.Requesters(), k.learner) {
			return true
		}
	}
	if rd := c.guesses.rounds[k.exp]; rd != nil && rd.run != "" && rd.scored == nil {
		_, in := rd.guesses[k]
		return in
	}
	return false
}

// openRoundLocked starts collecting the class's guesses for exp, unless a
// round that is still to be run is open already.
func (c *Classroom) openRoundLocked(exp *lab.Experiment) {
	if len(exp.Predictions) == 0 {
		return
	}
	if rd := c.guesses.rounds[exp.ID]; rd != nil && rd.run == "" {
		return
	}
	c.guesses.rounds[exp.ID] = &round{exp: exp, guesses: map[guessKey]*guess{}}
}

// ResetGuesses starts a new round of guesses for an experiment.
func (c *Classroom) ResetGuesses(exp *lab.Experiment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.guesses.rounds, exp.ID)
	c.openRoundLocked(exp)
}

// lockLocked locks to r the open guesses of its experiment by learner, as
// its run starts (or is joined, or offered).
func (c *Classroom) lockLocked(r *engine.Run, learnerID string) {
	for k, g := range c.guesses.open {
		if k.learner == learnerID && k.exp == r.Exp.ID {
			c.guesses.locked[r.ID] = append(c.guesses.locked[r.ID], g)
			delete(c.guesses.open, k)
		}
	}
}

// runBeganLocked locks the guesses a run is scored on: its requesters',
// and the class's when it is the instructor's.
func (c *Classroom) runBeganLocked(r *engine.Run) {
	for _, l := range r.Requesters() {
		c.lockLocked(r, l)
	}
	if rd := c.guesses.rounds[r.Exp.ID]; r.Presenter() && rd != nil && rd.run == "" {
		rd.run = r.ID
		for _, g := range rd.guesses {
			c.guesses.locked[r.ID] = append(c.guesses.locked[r.ID], g)
		}
	}
}

// runEndedLocked scores the guesses locked to a run that finished ok, and
// tells each learner how they fared; a run that did not finish ok gives
// its guesses back, open for the next run.
func (c *Classroom) runEndedLocked(r *engine.Run, out runlog.Outcome) {
	gs := c.guesses.locked[r.ID]
	delete(c.guesses.locked, r.ID)
	rd := c.guesses.rounds[r.Exp.ID]
	if rd != nil && rd.run == r.ID && out.Status != protocol.StatusOK {
		rd.run = "" // the round stays open for the instructor's next run
	}
	if out.Status != protocol.StatusOK {
		for _, g := range gs {
			if !g.class {
				c.guesses.open[g.guessKey] = g
			}
		}
		return
	}
	body, err := lab.DecodeResult(out.Result)
	if err != nil {
		return
	}
	c.scoreLocked(r, gs, body)
	if rd != nil && rd.run == r.ID {
		rd.scored, rd.measured = map[int]lab.Score{}, map[int]any{}
		for _, p := range r.Exp.Predictions {
			if m, ok := measuredOf(p, body.Metrics); ok {
				rd.measured[p.Claim] = m
			}
		}
	}
}

func measuredOf(p lab.Prediction, metrics []lab.Metric) (any, bool) {
	if p.Kind == lab.PredictChoice {
		return p.Answer(metrics)
	}
	m, ok := lab.FindMetric(metrics, p.Key)
	return m.Value, ok
}

// scoreLocked scores guesses against a run's result and sends each
// learner's pages their score.
func (c *Classroom) scoreLocked(r *engine.Run, gs []*guess, body lab.ResultBody) {
	for _, g := range gs {
		var decl lab.Prediction
		for _, p := range r.Exp.Predictions {
			if p.Claim == g.claim {
				decl = p
			}
		}
		sc, ok := decl.Judge(g.value, body.Metrics)
		if !ok {
			continue
		}
		sg := ScoredGuess{Learner: g.learner, Experiment: g.exp, Claim: g.claim, Run: r.ID, Class: g.class, Value: g.value, Score: sc, At: time.Now()}
		c.guesses.kept = append(c.guesses.kept, sg)
		if len(c.guesses.kept) > maxKept {
			c.guesses.kept = c.guesses.kept[len(c.guesses.kept)-maxKept:]
		}
		if c.cfg.Guesses != nil {
			c.cfg.Guesses.Scored(sg)
		}
		msg := protocol.Encode(protocol.Scored{Experiment: g.exp, Claim: g.claim, Run: r.ID, Value: g.value, Measured: sc.Measured,
			Unit: decl.Unit, Right: sc.Right, Factor: sc.Factor, Score: sc.Text, Lesson: lessonOf(r.Exp, g.claim, body, sc)})
		c.guesses.told[g.guessKey] = told{msg: msg, at: time.Now(), exp: r.Exp}
		c.tellLearnerLocked(g.learner, msg)
	}
}

// lessonOf is one sentence on what the gap between a guess and the
// measurement teaches, drawn from the claim's verdict.
func lessonOf(exp *lab.Experiment, claim int, body lab.ResultBody, sc lab.Score) string {
	if claim >= len(exp.Claims) {
		return ""
	}
	text := exp.Claims[claim].Claim
	for _, c := range body.Claims {
		if c.Claim != text {
			continue
		}
		switch {
		case c.Why != "":
			return c.Why
		case sc.Right:
			return "Your sense of it matches this machine: " + c.Measured + "."
		default:
			return "This machine measured " + c.Measured + "; the textbook says " + c.Expected + "."
		}
	}
	return ""
}

// Reveal shows every follower of the experiment's lesson the class's
// guesses for it, each with their own guess marked.
func (c *Classroom) Reveal(exp *lab.Experiment) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	rd := c.guesses.rounds[exp.ID]
	if rd == nil {
		return fmt.Errorf("there are no class guesses for %s: present it first, and the students guess", exp.ID)
	}
	rd.revealed = true
	for v, f := range c.followers {
		if f.lesson != exp.Lesson {
			continue
		}
		gs := c.roundGuessesLocked(rd, f.learner)
		if !v.Send([][]byte{protocol.Encode(protocol.Reveal{Experiment: exp.ID, Guesses: gs})}) {
			delete(c.followers, v)
		}
	}
	return nil
}

// roundGuessesLocked sums a round up, with learner's own guesses (if any).
func (c *Classroom) roundGuessesLocked(rd *round, learnerID string) []protocol.Guesses {
	var out []protocol.Guesses
	for _, p := range rd.exp.Predictions {
		gs := protocol.Guesses{Experiment: rd.exp.ID, Claim: p.Claim, Question: p.Question, Kind: p.Kind, Unit: p.Unit, Log: p.Log, Revealed: rd.revealed}
		var nums []float64
		counts := map[string]int{}
		for k, g := range rd.guesses {
			if k.claim != p.Claim {
				continue
			}
			gs.Count++
			if k.learner == learnerID {
				gs.Yours = g.value
			}
			switch v := g.value.(type) {
			case float64:
				nums = append(nums, v)
			case string:
				counts[v]++
			}
		}
		if m, ok := rd.measured[p.Claim]; ok {
			gs.Measured = m
		}
		if p.Kind == lab.PredictChoice {
			gs.Counts = map[string]int{}
			for _, c := range p.Choices {
				gs.Counts[c] = counts[c]
			}
		} else {
			gs.Bins = guessBins(nums, p, gs.Measured)
		}
		out = append(out, gs)
	}
	return out
}

// guessBins puts guessed numbers into ten bins spanning the guesses and
// the measurement, equal on a log scale when the prediction is.
func guessBins(nums []float64, p lab.Prediction, measured any) [][3]float64 {
	if len(nums) == 0 {
		return nil
	}
	lo, hi := slices.Min(nums), slices.Max(nums)
	if m, ok := measured.(float64); ok && m > 0 {
		lo, hi = math.Min(lo, m), math.Max(hi, m)
	}
	if p.Log {
		lo, hi = lo/1.2, hi*1.2
	} else {
		pad := math.Max((hi-lo)*0.05, hi*0.05)
		lo, hi = math.Max(p.Min, lo-pad), hi+pad
	}
	const n = 10
	bins := lab.Histogram(nums, lo, hi, n, p.Log)
	out := make([][3]float64, len(bins))
	for i, b := range bins {
		out[i] = [3]float64(b)
	}
	return out
}

// classGuessesLocked is every open round as the instructor sees it.
func (c *Classroom) classGuessesLocked() []protocol.Guesses {
	out := []protocol.Guesses{}
	ids := make([]string, 0, len(c.guesses.rounds))
	for id := range c.guesses.rounds {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, c.roundGuessesLocked(c.guesses.rounds[id], "")...)
	}
	return out
}

// ClassGuesses is every class guess, scored or still waiting for the
// instructor's run (Run empty), oldest first, each with the learner's
// short name: for the instructor's CSV.
func (c *Classroom) ClassGuesses() []ScoredGuess {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ScoredGuess
	for _, g := range c.guesses.kept {
		if g.Class {
			out = append(out, g)
		}
	}
	for _, rd := range c.guesses.rounds {
		if rd.scored != nil {
			continue
		}
		for _, g := range rd.guesses {
			out = append(out, ScoredGuess{Learner: g.learner, Experiment: g.exp, Claim: g.claim, Class: true, Value: g.value, At: g.at})
		}
	}
	slices.SortFunc(out, func(a, b ScoredGuess) int { return a.At.Compare(b.At) })
	for i := range out {
		out[i].Learner = learner.ID(out[i].Learner).Name()
	}
	return out
}

// retellLocked is what a page of lesson that (re)connects missed: its
// learner's scores of the last minutes, and the rounds the instructor has
// revealed.
func (c *Classroom) retellLocked(lesson, learnerID string) [][]byte {
	var msgs [][]byte
	for k, t := range c.guesses.told {
		switch {
		case time.Since(t.at) > tellFor:
			delete(c.guesses.told, k)
		case k.learner == learnerID && t.exp.Lesson == lesson:
			msgs = append(msgs, t.msg)
		}
	}
	for _, rd := range c.guesses.rounds {
		if rd.revealed && rd.exp.Lesson == lesson {
			msgs = append(msgs, protocol.Encode(protocol.Reveal{Experiment: rd.exp.ID, Guesses: c.roundGuessesLocked(rd, learnerID)}))
		}
	}
	return msgs
}

// offeredLocked scores learner's open guesses of r's experiment against
// r, a finished run they were offered.
func (c *Classroom) offeredLocked(r *engine.Run, learnerID string) {
	var gs []*guess
	for k, g := range c.guesses.open {
		if k.learner == learnerID && k.exp == r.Exp.ID {
			gs = append(gs, g)
			delete(c.guesses.open, k)
		}
	}
	if body, err := lab.DecodeResult(r.Info().Result); err == nil && len(gs) > 0 {
		c.scoreLocked(r, gs, body)
	}
}

// OpenRound starts collecting the class's guesses for an experiment the
// instructor presents (a round that is still to be run stays open).
func (c *Classroom) OpenRound(exp *lab.Experiment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.openRoundLocked(exp)
}

package classroom_test

import (
	"conclab/internal/classroom"
	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/lab"
	"errors"
	"strings"
	"testing"
)

// guessResult is what the test host measures: x = 2, and the claim holds.
var guessResult = []byte(`{"type":"result","metrics":[{"key":"x","name":"x","value":2,"unit":"µs"}],"claims":[{"claim":"x is about 2","expected":"about 2","measured":"2 µs","verdict":"holds"}]}`)

// guessExperiment is the test experiment with a claim and a guess for it.
func guessExperiment() *lab.Experiment {
	e := enginetest.Experiment()
	e.Claims = []lab.Claim{{Claim: "x is about 2", Expected: "about 2"}}
	e.Predictions = []lab.Prediction{{Claim: 0, Question: "x is about …", Kind: lab.PredictNumber, Unit: "µs", Min: 0.1, Max: 100, Log: true, Key: "x"}}
	return e
}

func newGuessScheduler(t *testing.T) (*room, *enginetest.Runs, *lab.Experiment) {
	f := enginetest.NewRuns()
	f.Result = guessResult
	return newRoom(t, f.Host("test-host"), engine.Config{}), f, guessExperiment()
}

// A learner's guess waits for their next run, is locked when it starts,
// and is scored when it ends; then they may guess again.
func TestAGuessIsLockedThenScored(t *testing.T) {
	t.Parallel()
	s, f, e := newGuessScheduler(t)
	page := enginetest.NewViewer()
	s.Follow(e.Lesson, "ann", page)
	if ack, err := s.Predict(e, 0, 8.0, "ann", page); err != nil || ack.Class || ack.Value != 8.0 {
		t.Fatalf("Predict = %+v, %v", ack, err)
	}
	if _, err := s.Predict(e, 0, 6.0, "ann", page); err != nil {
		t.Fatalf("a guess could not be changed before the run: %v", err)
	}
	p := enginetest.Params(t, e, 1)
	mustAsk(t, s, e, p, "ann", false, page)
	page.WaitFor(t, "start", enginetest.IsType("started"))
	if _, err := s.Predict(e, 0, 2.0, "ann", page); !errors.Is(err, classroom.ErrGuessLocked) {
		t.Errorf("a guess changed after the run started: err = %v", err)
	}
	f.Finish(p)
	sc := page.WaitFor(t, "the score", enginetest.IsType("scored"))
	if sc["value"] != 6.0 || sc["measured"] != 2.0 || sc["score"] != "3× too high" || sc["right"] != false || sc["lesson"] == "" {
		t.Errorf("scored %v, want the last guess (6) against 2: 3× too high, with a sentence", sc)
	}
	if _, err := s.Predict(e, 0, 2.0, "ann", page); err != nil {
		t.Errorf("a new guess after the run ended was refused: %v", err)
	}
}

// Guesses that do not fit their declaration are refused.
func TestBadGuessesAreRefused(t *testing.T) {
	t.Parallel()
	s, _, e := newGuessScheduler(t)
	for _, tt := range []struct {
		claim int
		v     any
		want  string
	}{
		{1, 2.0, "no prediction for claim 1"},
		{0, 1000.0, "must be from 0.1 to 100"},
		{0, "fast", "must be a number"},
		{0, nil, "must be a number"},
	} {
		if _, err := s.Predict(e, tt.claim, tt.v, "ann", enginetest.NewViewer()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("guess %v for claim %d: err = %v, want it to say %q", tt.v, tt.claim, err, tt.want)
		}
	}
}

// While the instructor presents an experiment, students' guesses are the
// class's: the instructor sees them at once, the students only once the
// instructor reveals them, each with their own marked.
func TestClassGuessesAreRevealed(t *testing.T) {
	t.Parallel()
	s, f, e := newGuessScheduler(t)
	s.OpenRound(e)
	pages := map[string]*enginetest.Viewer{}
	for i, who := range []string{"ann", "bob", "cy"} {
		pages[who] = enginetest.NewViewer()
		s.Follow(e.Lesson, who, pages[who])
		if ack, err := s.Predict(e, 0, float64(i+1), who, pages[who]); err != nil || !ack.Class {
			t.Fatalf("%s's class guess: %+v, %v", who, ack, err)
		}
	}
	g := s.Class().Guesses
	if len(g) != 1 || g[0].Count != 3 || len(g[0].Bins) == 0 || g[0].Revealed {
		t.Fatalf("the instructor's view of the guesses: %+v", g)
	}
	p := enginetest.Params(t, e, 1)
	teacher := enginetest.NewViewer()
	mustAsk(t, s, e, p, "teacher", true, teacher)
	teacher.WaitFor(t, "start", enginetest.IsType("started"))
	if _, err := s.Predict(e, 0, 9.0, "ann", pages["ann"]); !errors.Is(err, classroom.ErrGuessLocked) {
		t.Errorf("a class guess changed after the instructor's run started: %v", err)
	}
	f.Finish(p)
	for who, v := range pages {
		v.WaitFor(t, who+"'s score", enginetest.IsType("scored"))
		for _, m := range v.Messages() {
			if m["type"] == "reveal" {
				t.Fatalf("%s saw the class's guesses before the reveal", who)
			}
		}
	}
	if err := s.Reveal(e); err != nil {
		t.Fatal(err)
	}
	for i, who := range []string{"ann", "bob", "cy"} {
		r := pages[who].WaitFor(t, who+"'s reveal", enginetest.IsType("reveal"))
		gs := r["guesses"].([]any)[0].(map[string]any)
		if gs["yours"] != float64(i+1) || gs["measured"] != 2.0 || gs["count"] != 3.0 || gs["revealed"] != true {
			t.Errorf("%s's reveal %v, want their own guess %d marked, 3 guesses and the measured 2", who, gs, i+1)
		}
	}
	rows := s.ClassGuesses()
	if len(rows) != 3 || rows[0].Run == "" || rows[0].Score.Text == "" || strings.Contains(rows[0].Learner, "ann") {
		t.Errorf("class guesses for the CSV: %+v", rows)
	}
	s.ResetGuesses(e)
	if g := s.Class().Guesses; len(g) != 1 || g[0].Count != 0 {
		t.Errorf("after a reset: %+v, want a fresh round", g)
	}
}

// An offered run shows its numbers at once: a waiting guess is scored on it.
func TestAnOfferedRunScoresTheGuess(t *testing.T) {
	t.Parallel()
	s, f, e := newGuessScheduler(t)
	p := enginetest.Params(t, e, 1)
	r := mustAsk(t, s, e, p, "ann", false, enginetest.NewViewer()).Run
	f.Finish(p)
	<-r.Done()
	page := enginetest.NewViewer()
	s.Follow(e.Lesson, "bob", page)
	s.Predict(e, 0, 2.4, "bob", page)
	if st := mustAsk(t, s, e, p, "bob", false, page); st.Offer == "" {
		t.Fatalf("no offer: %+v", st)
	}
	if sc := page.WaitFor(t, "the score", enginetest.IsType("scored")); sc["score"] != "within 1.3×" || sc["run"] != r.ID {
		t.Errorf("scored %v", sc)
	}
}

// A run that does not finish ok gives its guesses back for the next one.
func TestACancelledRunKeepsTheGuess(t *testing.T) {
	t.Parallel()
	s, f, e := newGuessScheduler(t)
	page := enginetest.NewViewer()
	s.Follow(e.Lesson, "ann", page)
	s.Predict(e, 0, 5.0, "ann", page)
	r := mustAsk(t, s, e, enginetest.Params(t, e, 1), "ann", false, page).Run
	page.WaitFor(t, "start", enginetest.IsType("started"))
	if _, err := s.Cancel(r.ID, "ann", false, page); err != nil {
		t.Fatal(err)
	}
	<-r.Done()
	if ack, err := s.Predict(e, 0, 5.0, "ann", page); err != nil {
		t.Errorf("after a cancelled run the guess cannot be made again: %+v %v", ack, err)
	}
	// The guess is open again: the next run scores it, once.
	p := enginetest.Params(t, e, 2)
	next := mustAsk(t, s, e, p, "ann", false, page).Run
	f.Finish(p)
	<-next.Done()
	sc := page.WaitFor(t, "the guess scored", enginetest.IsType("scored"))
	if sc["run"] != next.ID {
		t.Errorf("scored against %v, want the next run %s", sc["run"], next.ID)
	}
	n := 0
	for _, ty := range page.Types() {
		if ty == "scored" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d scores, want 1", n)
	}
}

// A page that comes back after its score went out, or after the reveal,
// is told them again.
func TestAReturningPageIsToldItsScoreAndTheReveal(t *testing.T) {
	t.Parallel()
	s, f, e := newGuessScheduler(t)
	s.OpenRound(e)
	page := enginetest.NewViewer()
	s.Follow(e.Lesson, "ann", page)
	s.Predict(e, 0, 4.0, "ann", page)
	s.Leave(page) // ann's connection drops
	p := enginetest.Params(t, e, 1)
	teacher := enginetest.NewViewer()
	r := mustAsk(t, s, e, p, "teacher", true, teacher).Run
	f.Finish(p)
	<-r.Done()
	if err := s.Reveal(e); err != nil {
		t.Fatal(err)
	}
	back := enginetest.NewViewer()
	s.Follow(e.Lesson, "ann", back)
	if sc := back.WaitFor(t, "the score again", enginetest.IsType("scored")); sc["score"] != "2× too high" {
		t.Errorf("scored %v", sc)
	}
	if rv := back.WaitFor(t, "the reveal again", enginetest.IsType("reveal")); rv["experiment"] != e.ID {
		t.Errorf("reveal %v", rv)
	}
	other := enginetest.NewViewer()
	s.Follow(e.Lesson, "bob", other)
	for _, m := range other.Messages() {
		if m["type"] == "scored" {
			t.Errorf("another learner was told ann's score: %v", m)
		}
	}
}

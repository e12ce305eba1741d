package store

import (
	"bytes"
	"testing"
	"time"

	"conclab/internal/classroom"
	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// Guesses are kept with the run they were scored on, outlast a restart,
// and sum up into the learner's calibration.
func TestGuessesAreKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Dir: dir})
	at := time.UnixMilli(1_700_000_000_000)
	s.Scored(classroom.ScoredGuess{Learner: "ann", Experiment: "switch-cost", Claim: 0, Run: "aaaaaaaaaaaa", Value: 8.0, Score: lab.ScoreNumber(8, 2), At: at})
	s.Scored(classroom.ScoredGuess{Learner: "ann", Experiment: "spawn-cost", Claim: 1, Run: "bbbbbbbbbbbb", Class: true, Value: 1.1, Score: lab.ScoreNumber(1.1, 1), At: at.Add(time.Second)})
	s.Scored(classroom.ScoredGuess{Learner: "ann", Experiment: "cpu-timeline", Claim: 0, Run: "cccccccccccc", Value: "threads",
		Score: lab.Score{Measured: "processes", Text: "wrong: it was processes"}, At: at.Add(2 * time.Second)})
	s.Scored(classroom.ScoredGuess{Learner: "bob", Experiment: "switch-cost", Claim: 0, Run: "aaaaaaaaaaaa", Value: 2.0, Score: lab.ScoreNumber(2, 2), At: at})
	s.Flush()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, Options{Dir: dir})
	defer s.Close()
	gs, err := s.Guesses("ann")
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 3 || gs[0].Experiment != "cpu-timeline" || gs[2].Value != 8.0 || gs[2].Measured != 2.0 || gs[2].Score != "4× too high" || !gs[1].Class {
		t.Fatalf("ann's guesses after a restart: %+v", gs)
	}
	c := Calibrate(gs)
	if c.Guesses != 3 || c.Right != 1 || c.Numbers != 2 || c.MedianFactor != 2.55 || c.Worst == nil || c.Worst.Experiment != "switch-cost" {
		t.Errorf("calibration %+v", c)
	}
	if c := Calibrate(nil); c.Guesses != 0 || c.Worst != nil || c.MedianFactor != 0 {
		t.Errorf("calibration of no guesses: %+v", c)
	}
}

// The secret that signs learners' cookies is made once and kept.
func TestTheLearnerSecretIsKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	made := 0
	fresh := func() []byte { made++; return bytes.Repeat([]byte{byte(made)}, 32) }
	s := open(t, Options{Dir: dir})
	first := s.Secret(fresh)
	s.Close()
	s = open(t, Options{Dir: dir})
	defer s.Close()
	if again := s.Secret(fresh); !bytes.Equal(first, again) || made != 1 {
		t.Errorf("the secret after a restart is %x (made %d times), want %x", again, made, first)
	}
}

// The newest ok run of each experiment outlasts a restart, for the recap
// and offers; a failed run is not it, and a run found by id brings its
// events.
func TestLatestAndFind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Dir: dir, Serve: true})
	record(s, "dddddddddd01", "hold", "ann", 2, protocol.StatusOK)
	time.Sleep(2 * time.Millisecond) // ended_ms must differ
	record(s, "dddddddddd02", "hold", "ann", 2, protocol.StatusFailed)
	s.Close()
	s = open(t, Options{Dir: dir, Serve: true})
	defer s.Close()
	latest := s.Latest()
	if r, ok := latest["hold"]; !ok || r.Record.ID != "dddddddddd01" || len(r.Result) == 0 || r.Status != protocol.StatusOK {
		t.Errorf("Latest()[hold] = %+v %v, want the ok run with its result", r, ok)
	}
	if _, ok := latest["nothing"]; ok {
		t.Error("Latest found a run of an experiment that never ran")
	}
	a, ok := s.Find("dddddddddd02")
	if !ok || a.Status != protocol.StatusFailed || len(a.Events) != 4 || a.Events[0].Seq != 1 || a.Events[0].Type != "started" {
		t.Errorf("Find = %+v %v, want the failed run with its 4 events (started, 2 points, done)", a, ok)
	}
	if _, ok := s.Find("000000000000"); ok {
		t.Error("Find found a run that never was")
	}
}

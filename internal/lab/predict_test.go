package lab

import (
	"strings"
	"testing"
)

func TestScoreNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		guess, measured float64
		right           bool
		text            string
	}{
		{1, 1, true, "within 1.3×"},
		{1.3, 1, true, "within 1.3×"},
		{1, 1.3, true, "within 1.3×"},
		{1.31, 1, false, "1.3× too high"},
		{4, 1, false, "4× too high"},
		{1, 4, false, "4× too low"},
		{0.01, 1.5, false, "150× too low"},
		{3000, 1.2, false, "2500× too high"},
		{1.5, 1, false, "1.5× too high"},
	} {
		s := ScoreNumber(c.guess, c.measured)
		if s.Right != c.right || s.Text != c.text {
			t.Errorf("ScoreNumber(%v, %v) = %v %q, want %v %q", c.guess, c.measured, s.Right, s.Text, c.right, c.text)
		}
		if s.Factor < 1 {
			t.Errorf("ScoreNumber(%v, %v): factor %v below 1", c.guess, c.measured, s.Factor)
		}
	}
}

func numberPrediction() Prediction {
	return Prediction{Claim: 0, Question: "A thread switch costs about … µs", Kind: PredictNumber, Unit: "µs", Min: 0.01, Max: 1000, Log: true, Key: "switch.thread.same_cpu"}
}

func choicePrediction() Prediction {
	return Prediction{Claim: 0, Question: "Which finishes first?", Kind: PredictChoice, Choices: []string{"threads", "processes"},
		Answer: func(ms []Metric) (string, bool) {
			t, ok1 := FindMetric(ms, "wall.threads")
			p, ok2 := FindMetric(ms, "wall.processes")
			if !ok1 || !ok2 {
				return "", false
			}
			if t.Value < p.Value {
				return "threads", true
			}
			return "processes", true
		}}
}

func TestGuessesAreChecked(t *testing.T) {
	t.Parallel()
	n, c := numberPrediction(), choicePrediction()
	for _, tt := range []struct {
		p    Prediction
		v    any
		want string // "" for accepted
	}{
		{n, 2.5, ""},
		{n, "2.5", ""},
		{n, 0.001, "must be from 0.01 to 1000"},
		{n, 5000.0, "must be from 0.01 to 1000"},
		{n, "lots", "must be a number"},
		{n, true, "must be a number"},
		{c, "threads", ""},
		{c, "goroutines", "must be one of"},
		{c, 1.0, "must be one of"},
	} {
		_, err := tt.p.Guess(tt.v)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: guess %v refused: %v", tt.p.Question, tt.v, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: guess %v: err = %v, want it to say %q", tt.p.Question, tt.v, err, tt.want)
		}
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	metrics := []Metric{{Key: "switch.thread.same_cpu", Value: 2}, {Key: "wall.threads", Value: 10}, {Key: "wall.processes", Value: 30}}
	if s, ok := numberPrediction().Judge(8.0, metrics); !ok || s.Text != "4× too high" || s.Measured != 2.0 {
		t.Errorf("number: %+v %v", s, ok)
	}
	if _, ok := numberPrediction().Judge(8.0, nil); ok {
		t.Error("a guess was scored against a run without the metric")
	}
	if s, ok := choicePrediction().Judge("processes", metrics); !ok || s.Right || s.Measured != "threads" || s.Text != "wrong: it was threads" {
		t.Errorf("choice: %+v %v", s, ok)
	}
	if s, ok := choicePrediction().Judge("threads", metrics); !ok || !s.Right || s.Text != "right" {
		t.Errorf("choice: %+v %v", s, ok)
	}
	if _, ok := choicePrediction().Judge("threads", metrics[:1]); ok {
		t.Error("a choice was scored against a run that cannot tell")
	}
}

func TestPredictionsAreCheckedAtRegistration(t *testing.T) {
	t.Parallel()
	for _, p := range []Prediction{
		{Claim: 1, Question: "q", Kind: PredictNumber, Min: 1, Max: 2, Key: "k"},
		{Claim: 0, Kind: PredictNumber, Min: 1, Max: 2, Key: "k"},
		{Claim: 0, Question: "q", Kind: PredictNumber, Min: 0, Max: 2, Key: "k"},
		{Claim: 0, Question: "q", Kind: PredictNumber, Min: 1, Max: 2, Key: "Bad Key"},
		{Claim: 0, Question: "q", Kind: PredictChoice, Choices: []string{"a", "b"}},
		{Claim: 0, Question: "q", Kind: "vibe"},
	} {
		e := testExperiment()
		e.Claims = []Claim{{Claim: "c", Expected: "e"}}
		e.Predictions = []Prediction{p}
		if err := e.check(); err == nil {
			t.Errorf("prediction %+v was accepted", p)
		}
	}
}

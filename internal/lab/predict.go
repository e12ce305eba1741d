package lab

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"conclab/internal/format"
)

// Kinds of prediction.
const (
	PredictNumber = "number" // a figure with its unit, on a scale
	PredictChoice = "choice" // one of a few answers
)

// Prediction is what a learner may guess before a run, for one of the
// experiment's claims: people remember a number they guessed wrong far
// better than one they were told. It is declared beside the claims.
type Prediction struct {
	Claim    int    `json:"claim"`    // the claim it belongs to: an index into Experiment.Claims
	Question string `json:"question"` // what to guess, e.g. "A switch between two threads costs about … µs"
	Kind     string `json:"kind"`     // PredictNumber or PredictChoice

	// A number: a guess in Unit from Min to Max (both above zero: a guess
	// is scored by the factor it is off), on a log scale when the figure
	// may span decades. Key is the result's metric it is scored against.
	Unit string  `json:"unit,omitempty"`
	Min  float64 `json:"min,omitempty"`
	Max  float64 `json:"max,omitempty"`
	Log  bool    `json:"log,omitempty"`
	Key  string  `json:"key,omitempty"`

	// A choice: one of Choices; Answer says which one the run's metrics
	// make right, and false when they cannot tell.
	Choices []string                                        `json:"choices,omitempty"`
	Answer  func(metrics []Metric) (choice string, ok bool) `json:"-"`
}

func (p Prediction) check(claims int) error {
	if p.Claim < 0 || p.Claim >= claims {
		return fmt.Errorf("prediction %q is for claim %d, and there are %d", p.Question, p.Claim, claims)
	}
	if p.Question == "" {
		return fmt.Errorf("prediction for claim %d has no question", p.Claim)
	}
	switch p.Kind {
	case PredictNumber:
		if !(p.Min > 0 && p.Max > p.Min) || !ValidKey(p.Key) {
			return fmt.Errorf("prediction %q needs 0 < min < max and the key of the metric it is scored against", p.Question)
		}
	case PredictChoice:
		if len(p.Choices) < 2 || p.Answer == nil {
			return fmt.Errorf("prediction %q needs two choices or more and an Answer", p.Question)
		}
	default:
		return fmt.Errorf("prediction %q has unknown kind %q", p.Question, p.Kind)
	}
	return nil
}

// Guess checks a learner's guess against the declaration and returns it
// as it is kept: a float64 for a number, the choice's text for a choice.
func (p Prediction) Guess(v any) (any, error) {
	switch p.Kind {
	case PredictNumber:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case string:
			var err error
			if f, err = strconv.ParseFloat(x, 64); err != nil {
				return nil, fmt.Errorf("a guess for %q must be a number from %s to %s %s, got %q", p.Question, format.Number(p.Min), format.Number(p.Max), p.Unit, x)
			}
		default:
			return nil, fmt.Errorf("a guess for %q must be a number from %s to %s %s", p.Question, format.Number(p.Min), format.Number(p.Max), p.Unit)
		}
		if math.IsNaN(f) || f < p.Min || f > p.Max {
			return nil, fmt.Errorf("a guess for %q must be from %s to %s %s, got %s", p.Question, format.Number(p.Min), format.Number(p.Max), p.Unit, format.Number(f))
		}
		return f, nil
	default:
		s, ok := v.(string)
		if !ok || !slices.Contains(p.Choices, s) {
			return nil, fmt.Errorf("a guess for %q must be one of %q", p.Question, p.Choices)
		}
		return s, nil
	}
}

// Score is how a guess fared against what was measured.
type Score struct {
	Measured any     `json:"measured"`         // the figure (float64) or the right choice
	Right    bool    `json:"right"`            // a choice that was right, or a number within CloseEnough
	Factor   float64 `json:"factor,omitempty"` // a number: how far off, as a factor ≥ 1
	Text     string  `json:"text"`             // for people: "within 1.3×", "4× too high", "right"
}

// CloseEnough is the factor within which a guessed number counts as right.
const CloseEnough = 1.3

// Judge scores a guess (as Guess returned it) against a run's metrics;
// false when the run cannot say (the metric is missing, or Answer cannot
// tell).
func (p Prediction) Judge(guess any, metrics []Metric) (Score, bool) {
	if p.Kind == PredictChoice {
		right, ok := p.Answer(metrics)
		g, _ := guess.(string)
		if !ok {
			return Score{}, false
		}
		s := Score{Measured: right, Right: g == right, Text: "wrong: it was " + right}
		if s.Right {
			s.Text = "right"
		}
		return s, true
	}
	m, ok := FindMetric(metrics, p.Key)
	g, isNum := guess.(float64)
	if !ok || !isNum || m.Value <= 0 || g <= 0 {
		return Score{}, false
	}
	return ScoreNumber(g, m.Value), true
}

// ScoreNumber scores a guessed number against the measured one by the
// factor between them.
func ScoreNumber(guess, measured float64) Score {
	f := math.Max(guess/measured, measured/guess)
	s := Score{Measured: measured, Factor: f, Right: f <= CloseEnough}
	switch {
	case s.Right:
		s.Text = "within " + strconv.FormatFloat(CloseEnough, 'f', -1, 64) + "×"
	case guess > measured:
		s.Text = factor(f) + " too high"
	default:
		s.Text = factor(f) + " too low"
	}
	return s
}

// factor prints a factor with two significant digits: 1.5×, 4×, 12×, 300×.
func factor(f float64) string {
	if f < 10 {
		return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) + "×"
	}
	return format.Number(math.Round(f)) + "×"
}

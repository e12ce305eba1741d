// Package teach is what a lesson teaches with besides its prose and its
// experiments: what the learner will be able to do after it, exercises
// that send the learner to the experiments with a parameter changed, a
// self-check at its end, further reading, and the code its experiments
// run, cut from the real source. A lesson declares one Plan; the course
// (internal/course) checks it against the lesson's experiments, and the
// web layer keeps the learner's answers.
package teach

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"

	"conclab/internal/lab"
)

// Plan is what one lesson teaches with.
type Plan struct {
	// Objectives are what the learner will be able to do after the
	// lesson, three or four, in plain words.
	Objectives []string
	// WhyCare is a real failure the lesson's idea explains, in two or
	// three sentences.
	WhyCare string
	// Exercises send the learner to the experiments: change this,
	// predict, run, explain. Three to five.
	Exercises []Exercise
	// Questions are the self-check at the end of the lesson: four to six.
	Questions []Question
	// Reading is a few primary sources, each with one line on why.
	Reading []Link
	// Code is where the lesson's code snippets are cut from: its own
	// folder, and any shared package whose code its experiments run.
	Code []Source
	// Show names the snippets an experiment's panel shows, in order, when
	// they are not the one snippet named after the experiment's id.
	Show map[string][]string
}

// Question is one question: of a lesson's self-check, or the one an
// exercise ends on. A question with Choices is answered with the index of
// a choice (from 0); one without is answered with a number.
type Question struct {
	ID      string // unique in the course; an exercise's question takes the exercise's id
	Text    string
	Choices []string
	Right   int // the right choice's index
	// A number question: what may be entered (Min–Max, in Unit) and what
	// counts as right (Lo–Hi, both included).
	Unit     string
	Min, Max float64
	Lo, Hi   float64
	// Explain says why, shown whether the answer was right or wrong.
	Explain string
}

// IsChoice reports whether the question is answered by choosing.
func (q Question) IsChoice() bool { return len(q.Choices) > 0 }

// Exercise sends the learner to the experiments: it says what to change
// and run, asks what they expect, and opens its answer once the learner's
// own stored runs include every run it needs and its question is
// answered.
type Exercise struct {
	ID    string
	Title string
	// Task says what to change, predict and run, in a few sentences.
	Task  string
	Needs []Need
	// Question is what the learner answers: a prediction, or what their
	// runs showed. Its ID is the exercise's.
	Question Question
	// Judge says whether an answer is right when that depends on the
	// machine: it reads the learner's runs. ok is false when they cannot
	// tell. Nil judges by the question's Right (or Lo–Hi).
	Judge func(ev Evidence, value float64) (right, ok bool)
	// Explain writes the answer from the learner's runs; nil shows the
	// question's Explain.
	Explain func(ev Evidence) string
}

// Need is one run an exercise needs: an experiment with some of its
// parameters set. Parameters it does not name may have any value.
type Need struct {
	Experiment string
	Params     map[string]any
	// Keys are the metrics of the run the exercise reads (in Judge and
	// Explain); the course's tests check that the experiment emits them.
	Keys []string
}

// Link is one piece of further reading.
type Link struct {
	Title string
	URL   string
	Why   string // one line on why it is worth the time
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$`)

// ValidID reports whether id can name a question or an exercise: lower-case
// words and digits joined by '-', at most 64 characters.
func ValidID(id string) bool { return len(id) <= 64 && idPattern.MatchString(id) }

// Experiments finds an experiment by id, for checking a plan.
type Experiments func(id string) (*lab.Experiment, bool)

// Check reports the first thing wrong with a plan: a malformed question,
// exercise or link, or an exercise that needs an experiment that does not
// exist or parameters it does not take.
func (p Plan) Check(find Experiments) error {
	for _, q := range p.Questions {
		if err := q.check(); err != nil {
			return err
		}
	}
	for _, x := range p.Exercises {
		if err := x.check(find); err != nil {
			return fmt.Errorf("exercise %s: %w", x.ID, err)
		}
	}
	for _, l := range p.Reading {
		u, err := url.Parse(l.URL)
		if l.Title == "" || l.Why == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("reading %q needs a title, a web address and a line on why", l.Title)
		}
	}
	for exp, names := range p.Show {
		if _, ok := find(exp); !ok || len(names) == 0 {
			return fmt.Errorf("the plan's Show names the snippets of %q, which is not an experiment", exp)
		}
	}
	return nil
}

func (q Question) check() error {
	switch {
	case !ValidID(q.ID):
		return fmt.Errorf("question id %q is not lower-case words joined by '-'", q.ID)
	case strings.TrimSpace(q.Text) == "" || strings.TrimSpace(q.Explain) == "":
		return fmt.Errorf("question %s needs its text and an explanation", q.ID)
	case q.IsChoice() && len(q.Choices) < 2:
		return fmt.Errorf("question %s offers one choice; a choice needs at least two", q.ID)
	case q.IsChoice() && (q.Right < 0 || q.Right >= len(q.Choices)):
		return fmt.Errorf("question %s: its right choice %d is not one of its %d", q.ID, q.Right, len(q.Choices))
	case !q.IsChoice() && !(q.Min < q.Max && q.Min <= q.Lo && q.Lo <= q.Hi && q.Hi <= q.Max):
		return fmt.Errorf("question %s: a number question needs Min < Max and Min ≤ Lo ≤ Hi ≤ Max", q.ID)
	}
	return nil
}

func (x Exercise) check(find Experiments) error {
	q := x.Question
	if q.ID == "" {
		q.ID = x.ID
	}
	switch {
	case !ValidID(x.ID):
		return fmt.Errorf("its id is not lower-case words joined by '-'")
	case q.ID != x.ID:
		return fmt.Errorf("its question has the id %q; an exercise's question takes the exercise's id", q.ID)
	case x.Title == "" || strings.TrimSpace(x.Task) == "":
		return fmt.Errorf("it needs a title and a task")
	case len(x.Needs) == 0:
		return fmt.Errorf("it needs at least one run")
	}
	if q.Explain == "" && x.Explain != nil {
		q.Explain = "(written from your runs)"
	}
	if x.Judge != nil && !q.IsChoice() {
		q.Lo, q.Hi = q.Min, q.Min // the runs say what is right, not a fixed range
	}
	if err := q.check(); err != nil {
		return err
	}
	for i, n := range x.Needs {
		e, ok := find(n.Experiment)
		if !ok {
			return fmt.Errorf("run %d needs experiment %q, which the course does not have", i+1, n.Experiment)
		}
		if _, err := e.Validate(n.Params, false); err != nil {
			return fmt.Errorf("run %d: %v", i+1, err)
		}
		for _, k := range n.Keys {
			if !lab.ValidKey(k) {
				return fmt.Errorf("run %d reads %q, which is not a metric key", i+1, k)
			}
		}
	}
	return nil
}

// Asked is the exercise's question with its id filled in.
func (x Exercise) Asked() Question {
	q := x.Question
	q.ID = x.ID
	return q
}

// Value checks an answer's value against the question: a choice's index,
// or a number in range. The error says what is allowed.
func (q Question) Value(v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("the answer to %s must be a number", q.ID)
	case q.IsChoice() && (v != math.Trunc(v) || v < 0 || int(v) >= len(q.Choices)):
		return fmt.Errorf("the answer to %s is the index of a choice, a whole number from 0 to %d", q.ID, len(q.Choices)-1)
	case !q.IsChoice() && (v < q.Min || v > q.Max):
		return fmt.Errorf("the answer to %s must be a number from %s to %s", q.ID, num(q.Min), num(q.Max))
	}
	return nil
}

// Correct reports whether a value is the right answer, by the question
// alone.
func (q Question) Correct(v float64) bool {
	if q.IsChoice() {
		return int(v) == q.Right
	}
	return v >= q.Lo && v <= q.Hi
}

func num(f float64) string { return fmt.Sprint(f) }

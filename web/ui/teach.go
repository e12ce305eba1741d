package ui

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"

	"conclab/internal/format"
	"conclab/internal/glossary"
	"conclab/internal/teach"
)

// Teaching is what a lesson page shows of the lesson's plan (see
// internal/teach), with this learner's answers.
type Teaching struct {
	Objectives []string
	WhyCare    string
	Exercises  []ExerciseView
	Questions  []QuestionView
	Reading    []teach.Link
}

// ExercisesDone counts the exercises whose runs and answer are both in.
func (t Teaching) ExercisesDone() int {
	n := 0
	for _, x := range t.Exercises {
		if x.Done {
			n++
		}
	}
	return n
}

// QuestionsRight counts the self-check questions answered right.
func (t Teaching) QuestionsRight() int {
	n := 0
	for _, q := range t.Questions {
		if q.Answered && q.Correct {
			n++
		}
	}
	return n
}

// QuestionView is a question with the learner's answer, if any.
type QuestionView struct {
	ID, Text string
	Choices  []string
	Unit     string
	Min, Max string // a number question's bounds
	Answered bool
	Value    float64 // the answer kept
	Correct  bool
	// Explanation is shown once the question is answered (an exercise's,
	// once it is done).
	Explanation string
}

// NewQuestion is the view of a question nobody has answered.
func NewQuestion(q teach.Question) QuestionView {
	return QuestionView{ID: q.ID, Text: q.Text, Choices: q.Choices, Unit: q.Unit, Min: num(q.Min), Max: num(q.Max)}
}

// Chosen reports whether choice i is the kept answer.
func (q QuestionView) Chosen(i int) bool { return q.Answered && int(q.Value) == i }

// AnswerText is the kept answer as the learner gave it: the choice, or the
// number with its unit.
func (q QuestionView) AnswerText() string {
	if len(q.Choices) > 0 {
		if i := int(q.Value); i >= 0 && i < len(q.Choices) {
			return q.Choices[i]
		}
		return "?"
	}
	return format.Figure(q.Value, q.Unit)
}

// questionKind is "choice" or "number", for the page's script.
func questionKind(q QuestionView) string {
	if len(q.Choices) > 0 {
		return "choice"
	}
	return "number"
}

// answeredValue is the number kept for a number question, or "".
func answeredValue(q QuestionView) string {
	if !q.Answered {
		return ""
	}
	return strconv.FormatFloat(q.Value, 'f', -1, 64)
}

// ExerciseView is an exercise and where the learner stands on it.
type ExerciseView struct {
	ID, Title, Task string
	Needs           []NeedView
	Question        QuestionView
	Done            bool
	Message         string // where it stands, for a person
}

// NeedView is one run an exercise needs.
type NeedView struct {
	Experiment string // its id: the panel it runs in
	Settings   string // the values it needs, in words
	Params     string // the same as JSON, for the page's script to fill the panel's form
	Done       bool
	Run        string // the learner's run that counts for it
}

// Snippet is the view of a few lines of real source.
type Snippet = teach.Snippet

// Code renders one of the lesson's named snippets in its prose. It finds
// them when it renders, in the snippets WithSnippets gave the page.
func (p Page) Code(name string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		snips, _ := ctx.Value(snippetsKey{}).(map[string]Snippet)
		s, ok := snips[name]
		if !ok {
			return missingSnippet(name).Render(ctx, w)
		}
		return codeFigure(s, "").Render(ctx, w)
	})
}

type snippetsKey struct{}

// WithSnippets renders c with a lesson's snippets at hand for Page.Code.
func WithSnippets(snips map[string]Snippet, c templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return c.Render(context.WithValue(ctx, snippetsKey{}, snips), w)
	})
}

func snippetLines(s Snippet) string {
	return "lines " + strconv.Itoa(s.Line) + "–" + strconv.Itoa(s.Line+s.Lines()-1)
}

// GlossaryEntry is one term on /glossary, with the lesson that explains it.
type GlossaryEntry struct {
	glossary.Term
	Lesson *Lesson
}

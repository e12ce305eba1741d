package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"conclab/internal/classroom"
)

// Learners' answers to the self-check questions and to the questions
// exercises end on. The first answer to a question stands: answering it
// again changes nothing and returns the kept one. They are written at
// once (an answer is one small row, and the learner waits for its
// explanation).

// Kinds of answer.
const (
	KindQuestion = "question" // a self-check question
	KindExercise = "exercise" // the question an exercise ends on
)

// Answer is one learner's answer to one question.
type Answer struct {
	Learner  string    `json:"learner,omitempty"` // left out of progress files: the importer is the learner
	Question string    `json:"question"`
	Lesson   string    `json:"lesson"`
	Kind     string    `json:"kind"`
	Value    float64   `json:"value"` // the chosen choice's index, or the number
	Correct  bool      `json:"correct"`
	At       time.Time `json:"at"`
	// An exercise's answer opens once its runs exist: when that happened,
	// the runs, and the answer as written from them.
	Done        time.Time `json:"done,omitzero"`
	Runs        []string  `json:"runs,omitempty"`
	Explanation string    `json:"explanation,omitempty"`
}

// IsDone reports whether an exercise's answer has opened.
func (a Answer) IsDone() bool { return !a.Done.IsZero() }

var answerIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

func (a Answer) check() error {
	switch {
	case !answerIDPattern.MatchString(a.Question):
		return fmt.Errorf("question id %q is malformed", a.Question)
	case a.Kind != KindQuestion && a.Kind != KindExercise:
		return fmt.Errorf("answer kind %q is neither %s nor %s", a.Kind, KindQuestion, KindExercise)
	case math.IsNaN(a.Value) || math.IsInf(a.Value, 0):
		return fmt.Errorf("an answer's value must be a number")
	case a.At.IsZero():
		return fmt.Errorf("an answer needs the time it was given")
	}
	for _, id := range a.Runs {
		if !ValidID(id) {
			return fmt.Errorf("run id %q is malformed", id)
		}
	}
	return nil
}

const answerColumns = `learner, question, lesson, kind, value, correct, at_ms, done_ms, runs, explanation`

func scanAnswer(sc interface{ Scan(...any) error }) (Answer, error) {
	var a Answer
	var at, done int64
	var runs string
	if err := sc.Scan(&a.Learner, &a.Question, &a.Lesson, &a.Kind, &a.Value, &a.Correct, &at, &done, &runs, &a.Explanation); err != nil {
		return a, err
	}
	a.At, a.Done = msTime(float64(at)).UTC(), msTime(float64(done))
	if done != 0 {
		a.Done = a.Done.UTC()
	}
	if runs != "" {
		json.Unmarshal([]byte(runs), &a.Runs)
	}
	return a, nil
}

func runsJSON(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// Answer keeps a learner's answer unless they have answered that question
// already. It returns the answer kept — this one, or the earlier one —
// and whether this one was new.
func (s *Store) Answer(a Answer) (Answer, bool, error) {
	if a.Learner == "" {
		return a, false, errors.New("an answer belongs to a learner: open a page of the course first, which gives your browser one")
	}
	if err := a.check(); err != nil {
		return a, false, err
	}
	r, err := s.w.Exec(`INSERT OR IGNORE INTO answers (`+answerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Learner, a.Question, a.Lesson, a.Kind, a.Value, a.Correct, a.At.UnixMilli(), doneMs(a.Done), runsJSON(a.Runs), a.Explanation)
	if err != nil {
		return a, false, describe(err)
	}
	if n, _ := r.RowsAffected(); n > 0 {
		return a, true, nil
	}
	kept, err := s.answer(a.Learner, a.Question)
	return kept, false, err
}

func doneMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (s *Store) answer(learner, question string) (Answer, error) {
	a, err := scanAnswer(s.r.QueryRow(`SELECT `+answerColumns+` FROM answers WHERE learner = ? AND question = ?`, learner, question))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, describe(err)
}

// Settle opens an exercise's answer, once its runs exist: it records
// whether the answer proved right, the runs and the explanation written
// from them. An exercise already settled stays as it was; the answer kept
// is returned either way.
func (s *Store) Settle(learner, question string, correct bool, runs []string, explanation string, done time.Time) (Answer, error) {
	if _, err := s.w.Exec(`UPDATE answers SET correct = ?, done_ms = ?, runs = ?, explanation = ?
		WHERE learner = ? AND question = ? AND kind = ? AND done_ms = 0`,
		correct, done.UnixMilli(), runsJSON(runs), explanation, learner, question, KindExercise); err != nil {
		return Answer{}, describe(err)
	}
	return s.answer(learner, question)
}

// Answers returns a learner's answers by question id.
func (s *Store) Answers(learner string) (map[string]Answer, error) {
	out := map[string]Answer{}
	if learner == "" {
		return out, nil
	}
	rows, err := s.r.Query(`SELECT `+answerColumns+` FROM answers WHERE learner = ?`, learner)
	if err != nil {
		return out, describe(err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAnswer(rows)
		if err != nil {
			return out, describe(err)
		}
		out[a.Question] = a
	}
	return out, describe(rows.Err())
}

// AnswerQuery selects answers of every learner.
type AnswerQuery struct {
	Lesson    string   // only this lesson's
	Questions []string // only these questions'
	Since     time.Time
	Limit     int // at most this many, oldest first (default 100,000)
}

// AllAnswers returns every learner's answers, oldest first: what an
// instructor's view of the class counts and lists (learner, lesson,
// question, answer, right or wrong).
func (s *Store) AllAnswers(q AnswerQuery) ([]Answer, error) {
	if q.Limit <= 0 {
		q.Limit = 100_000
	}
	where, args := []string{"at_ms >= ?"}, []any{q.Since.UnixMilli()}
	if q.Since.IsZero() {
		args[0] = 0
	}
	if q.Lesson != "" {
		where, args = append(where, "lesson = ?"), append(args, q.Lesson)
	}
	if len(q.Questions) > 0 {
		where = append(where, "question IN (?"+strings.Repeat(", ?", len(q.Questions)-1)+")")
		for _, id := range q.Questions {
			args = append(args, id)
		}
	}
	rows, err := s.r.Query(`SELECT `+answerColumns+` FROM answers WHERE `+strings.Join(where, " AND ")+
		` ORDER BY at_ms, learner, question LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var out []Answer
	for rows.Next() {
		a, err := scanAnswer(rows)
		if err != nil {
			return nil, describe(err)
		}
		out = append(out, a)
	}
	return out, describe(rows.Err())
}

// LearnerRuns returns the runs of these experiments that a learner asked
// for and that finished ok here, with their results, newest first: what
// an exercise checks its needs against.
func (s *Store) LearnerRuns(learner string, experiments []string, limit int) ([]Run, error) {
	if learner == "" || len(experiments) == 0 {
		return nil, nil
	}
	args := []any{learner}
	for _, e := range experiments {
		args = append(args, e)
	}
	rows, err := s.r.Query(`SELECT `+prefixed("r.", runColumns)+`, r.result FROM runs AS r
		WHERE EXISTS (SELECT 1 FROM run_learners AS l WHERE l.run = r.id AND l.learner = ?) AND r.status = 'ok'
		AND r.experiment IN (?`+strings.Repeat(", ?", len(experiments)-1)+`)
		ORDER BY r.ended_ms DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, describe(err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows, true)
		if err != nil {
			return nil, describe(err)
		}
		out = append(out, r)
	}
	return out, describe(rows.Err())
}

// importAnswers merges answers from a progress file into learner's: an
// answer to a question not answered here is added; an exercise settled
// there replaces the same exercise left open here (answer, runs and all:
// its verdict belongs to its answer). It returns how many changed.
func importAnswers(tx *sql.Tx, learner string, as []Answer) (int, error) {
	n := 0
	for _, a := range as {
		r, err := tx.Exec(`INSERT INTO answers (`+answerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (learner, question) DO UPDATE SET value = excluded.value, correct = excluded.correct, at_ms = excluded.at_ms,
				done_ms = excluded.done_ms, runs = excluded.runs, explanation = excluded.explanation
			WHERE answers.kind = 'exercise' AND answers.done_ms = 0 AND excluded.done_ms > 0`,
			learner, a.Question, a.Lesson, a.Kind, a.Value, a.Correct, a.At.UnixMilli(), doneMs(a.Done), runsJSON(a.Runs), a.Explanation)
		if err != nil {
			return n, describe(err)
		}
		if k, _ := r.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, nil
}

// Class is the answer as the classroom tallies it for the instructor.
func (a Answer) Class() classroom.Answer {
	return classroom.Answer{Learner: a.Learner, Question: a.Question, Value: a.Value, Correct: a.Correct, Done: a.IsDone()}
}

// ClassAnswers is every learner's answers to these questions, as the
// classroom tallies them (classroom.Config.Answers).
func (s *Store) ClassAnswers(questions []string) ([]classroom.Answer, error) {
	if len(questions) == 0 {
		return nil, nil
	}
	as, err := s.AllAnswers(AnswerQuery{Questions: questions})
	out := make([]classroom.Answer, len(as))
	for i, a := range as {
		out[i] = a.Class()
	}
	return out, err
}

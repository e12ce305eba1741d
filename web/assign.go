package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"conclab/internal/classroom"
	"conclab/internal/format"
	"conclab/internal/learner"
	"conclab/internal/protocol"
	"conclab/internal/store"
	"conclab/internal/teach"
	"conclab/web/ui"
)

// Class mode's assignments (internal/protocol/assign.go): the instructor
// gives the class an exercise, a self-check question or a whole
// self-check; following pages go to it, and the class view tallies the
// answers as they come. /class/answers.csv lists every answer.

func (s *Server) handleAssign(c *conn, req *protocol.Request) {
	if !s.needInstructor(c, req) {
		return
	}
	t, err := s.task(req)
	if err != nil {
		c.sendError(req, err.Error())
		return
	}
	t.Instructor = string(c.who.Learner)
	if err := s.Class.Assign(t); err != nil {
		// Assigned all the same: the tally counts the answers from now on.
		s.Log.Warn("reading the class's earlier answers", "err", err)
	}
	c.send(t.Assigned)
}

// assignUsage is how an assign request is written.
const assignUsage = `{"op":"assign","lesson":SLUG,"exercise":ID}, {"op":"assign","lesson":SLUG,"question":ID} or {"op":"assign","lesson":SLUG,"self_check":true}`

// task is what an assign request names, checked against the course.
func (s *Server) task(req *protocol.Request) (classroom.Task, error) {
	_, l, ok := s.Course.Find(req.Lesson)
	if !ok || l.Page == nil {
		return classroom.Task{}, fmt.Errorf("unknown lesson %q: assign is %s", req.Lesson, assignUsage)
	}
	named := 0
	for _, set := range []bool{req.Exercise != "", req.Question != "", req.SelfCheck} {
		if set {
			named++
		}
	}
	if named != 1 {
		return classroom.Task{}, fmt.Errorf("assign one thing at a time: %s", assignUsage)
	}
	a := protocol.Assigned{Lesson: l.Slug}
	switch {
	case req.Exercise != "":
		x, ok := s.Course.Exercise(req.Exercise)
		if !ok || x.Lesson != l.Slug {
			return classroom.Task{}, fmt.Errorf("lesson %s has no exercise %q", l.Slug, req.Exercise)
		}
		a.Kind, a.ID, a.Title, a.Anchor = protocol.AssignExercise, x.ID, x.Title, "ex-"+x.ID
		return classroom.Task{Assigned: a, Questions: []teach.Question{x.Asked()}}, nil
	case req.Question != "":
		q, ok := s.Course.Question(req.Question)
		if !ok || q.Lesson != l.Slug {
			return classroom.Task{}, fmt.Errorf("lesson %s has no self-check question %q", l.Slug, req.Question)
		}
		a.Kind, a.ID, a.Title, a.Anchor = protocol.AssignQuestion, q.ID, q.Text, "q-"+q.ID
		return classroom.Task{Assigned: a, Questions: []teach.Question{q.Question}}, nil
	}
	if len(l.Teach.Questions) == 0 {
		return classroom.Task{}, fmt.Errorf("lesson %s has no self-check", l.Slug)
	}
	a.Kind, a.Title, a.Anchor = protocol.AssignSelfCheck, l.Title, "self-check"
	return classroom.Task{Assigned: a, Questions: l.Teach.Questions}, nil
}

// assignOptions is what the dashboard offers to assign: for each lesson,
// its exercises, its whole self-check, then each of its questions.
func (s *Server) assignOptions() []ui.AssignOption {
	var out []ui.AssignOption
	for _, l := range s.Course.Lessons() {
		if l.Page == nil {
			continue
		}
		for _, x := range l.Teach.Exercises {
			out = append(out, ui.AssignOption{Lesson: l.Slug, Value: "exercise:" + x.ID, Label: "Exercise: " + x.Title})
		}
		if n := len(l.Teach.Questions); n > 0 {
			out = append(out, ui.AssignOption{Lesson: l.Slug, Value: "self-check", Label: fmt.Sprintf("The whole self-check (%d questions)", n)})
		}
		for i, q := range l.Teach.Questions {
			out = append(out, ui.AssignOption{Lesson: l.Slug, Value: "question:" + q.ID, Label: fmt.Sprintf("Question %d: %s", i+1, ui.Short(q.Text, 70))})
		}
	}
	return out
}

// tellClass reports an answer the store kept to the classroom, for the
// instructor's tally; the instructor's own answers are not the class's.
func (s *Server) tellClass(c *conn, a *store.Answer) {
	if a != nil && !c.who.Instructor {
		s.Class.Answered(a.Class())
	}
}

// classAnswersCSV exports every learner's answers, for the instructor: one
// row per answer, oldest first, learners by their short names.
func (s *Server) classAnswersCSV() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !identityOf(r).Instructor {
			plain(w, http.StatusForbidden, "The class's answers are the instructor's. Open the instructor link that conclab serve printed when it started.")
			return
		}
		as, err := s.Store.AllAnswers(store.AnswerQuery{})
		if err != nil {
			s.Log.Warn("reading the class's answers", "err", err)
			plain(w, http.StatusServiceUnavailable, "The answers cannot be read from the store now; try again in a moment.")
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="answers.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		cw.Write([]string{"learner", "lesson", "kind", "question", "text", "value", "answer", "result", "at"})
		for _, a := range as {
			q, _, _, _ := s.asked(a.Question)
			cw.Write([]string{learner.ID(a.Learner).Name(), a.Lesson, a.Kind, a.Question, q.Text, strconv.FormatFloat(a.Value, 'f', -1, 64),
				answerText(q, a.Value), resultOf(a), a.At.UTC().Format(time.RFC3339)})
		}
		cw.Flush()
	})
}

// answerText is an answer as a person reads it: the choice's words, or
// the number with its unit.
func answerText(q teach.Question, v float64) string {
	if q.IsChoice() {
		if i := int(v); i >= 0 && i < len(q.Choices) && float64(i) == v {
			return q.Choices[i]
		}
		return ""
	}
	return format.Figure(v, q.Unit)
}

// resultOf is whether an answer was right: "right" or "wrong", or, for an
// exercise whose runs are not all in yet, "pending".
func resultOf(a store.Answer) string {
	switch {
	case a.Kind == store.KindExercise && !a.IsDone():
		return "pending"
	case a.Correct:
		return "right"
	}
	return "wrong"
}

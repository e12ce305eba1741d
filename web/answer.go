package web

import (
	"encoding/json"
	"fmt"
	"time"

	"conclab/internal/course"
	"conclab/internal/learner"
	"conclab/internal/protocol"
	"conclab/internal/store"
	"conclab/internal/teach"
)

// Answers to self-checks and exercises over the websocket (see
// internal/protocol/answer.go). The first answer to a question stands; an
// exercise opens its answer once the learner's own stored runs include
// every run it needs.

// answer handles {"op":"answer"} and {"op":"exercise"}, as the page sent
// them.
func (s *Server) answer(c *conn, data []byte) {
	var req protocol.AnswerRequest
	if err := json.Unmarshal(data, &req); err != nil {
		c.sendError(nil, "malformed message: an answer is {\"op\":\"answer\",\"question\":ID,\"value\":V}")
		return
	}
	s.answerRequest(c, req)
}

// answerRequest answers an answer or exercise request.
func (s *Server) answerRequest(c *conn, req protocol.AnswerRequest) {
	fail := func(msg string) {
		c.send(protocol.AnswerError{Message: msg, Op: req.Op, Question: req.Question, Exercise: req.Exercise})
	}
	if !s.needLearner(c, &protocol.Request{Op: req.Op}) {
		return
	}
	if req.Op == protocol.OpExercise {
		x, ok := s.Course.Exercise(req.Exercise)
		if !ok {
			fail(fmt.Sprintf("unknown exercise %q", req.Exercise))
			return
		}
		st, err := s.exerciseNow(c.who.Learner, x, nil)
		if err != nil {
			fail(err.Error())
			return
		}
		s.tellClass(c, st.answer) // its runs may have come in since
		c.send(st.message(x))
		return
	}
	q, lesson, x, known := s.asked(req.Question)
	if !known {
		fail(fmt.Sprintf("unknown question %q", req.Question))
		return
	}
	v, isNumber := req.Value.(float64)
	if !isNumber {
		what := "a number"
		if q.IsChoice() {
			what = fmt.Sprintf("the index of a choice, a whole number from 0 to %d", len(q.Choices)-1)
		}
		fail(fmt.Sprintf("the answer to %s must be %s", q.ID, what))
		return
	}
	if err := q.Value(v); err != nil {
		fail(err.Error())
		return
	}
	if x != nil {
		s.answerExercise(c, *x, v, fail)
		return
	}
	s.answerQuestion(c, q, lesson, v)
}

// asked finds the question an answer is for, and its lesson: a self-check
// question, or the one an exercise ends on (x is then the exercise).
func (s *Server) asked(id string) (q teach.Question, lesson string, x *course.Assigned, ok bool) {
	if q, ok := s.Course.Question(id); ok {
		return q.Question, q.Lesson, nil, true
	}
	if x, ok := s.Course.Exercise(id); ok {
		return x.Asked(), x.Lesson, &x, true
	}
	return teach.Question{}, "", nil, false
}

func (s *Server) answerQuestion(c *conn, q teach.Question, lesson string, v float64) {
	a := store.Answer{Learner: string(c.who.Learner), Question: q.ID, Lesson: lesson, Kind: store.KindQuestion,
		Value: v, Correct: q.Correct(v), At: time.Now()}
	kept, fresh, err := s.Store.Answer(a)
	if err != nil {
		s.Log.Warn("keeping an answer", "err", err)
		kept = a
	} else {
		s.tellClass(c, &kept)
	}
	c.send(protocol.Answered{Question: q.ID, Correct: kept.Correct, Explanation: q.Explain, Value: kept.Value, Again: err == nil && !fresh, Kept: err == nil})
}

func (s *Server) answerExercise(c *conn, x course.Assigned, v float64, fail func(string)) {
	a := store.Answer{Learner: string(c.who.Learner), Question: x.ID, Lesson: x.Lesson, Kind: store.KindExercise, Value: v, At: time.Now()}
	kept, _, err := s.Store.Answer(a)
	if err != nil {
		s.Log.Warn("keeping an exercise's answer", "err", err)
		fail("your answer could not be kept, so the exercise cannot be checked: " + err.Error())
		return
	}
	st, err := s.exerciseNow(c.who.Learner, x, &kept)
	if err != nil {
		fail(err.Error())
		return
	}
	s.tellClass(c, st.answer)
	c.send(st.message(x))
}

// exercise is how an exercise stands for a learner.
type exercise struct {
	answer   *store.Answer // nil when not answered
	evidence teach.Evidence
}

func (e exercise) done() bool { return e.answer != nil && e.answer.IsDone() }

// exerciseNow is how an exercise stands, with the learner's runs written
// out first so that a run that has just ended counts: the page asks after
// each run of the exercise's experiments.
func (s *Server) exerciseNow(me learner.ID, x course.Assigned, a *store.Answer) (exercise, error) {
	s.Store.Flush()
	if a == nil {
		as, err := s.Store.Answers(string(me))
		if err != nil {
			return exercise{}, fmt.Errorf("your answers cannot be read now: %v", err)
		}
		if kept, ok := as[x.ID]; ok {
			a = &kept
		}
	}
	return s.exerciseState(me, x, a)
}

// exerciseState finds the runs an exercise needs among the learner's
// stored runs and, when they are all there and its question is answered,
// settles it: its answer is judged and explained from those runs, and
// kept so, even after the runs are pruned.
func (s *Server) exerciseState(me learner.ID, x course.Assigned, a *store.Answer) (exercise, error) {
	st := exercise{answer: a}
	if st.done() {
		return st, nil
	}
	var exps []string
	for _, n := range x.Needs {
		exps = append(exps, n.Experiment)
	}
	stored, err := s.Store.LearnerRuns(string(me), exps, 500)
	if err != nil {
		return st, fmt.Errorf("your runs cannot be read now: %v", err)
	}
	runs := make([]teach.Run, len(stored))
	for i, r := range stored {
		runs[i] = teach.Run{ID: r.ID, Experiment: r.Experiment, Params: r.Params, Metrics: r.Body().Metrics, Ended: r.Ended}
	}
	st.evidence = x.Gather(runs, s.Course.Lookup)
	if a == nil || !st.evidence.Complete() {
		return st, nil
	}
	out := x.Settle(st.evidence, a.Value)
	ids := make([]string, len(st.evidence.Runs))
	for i, r := range st.evidence.Runs {
		ids[i] = r.ID
	}
	settled, err := s.Store.Settle(string(me), x.ID, out.Right, ids, out.Explanation, time.Now())
	if err != nil {
		s.Log.Warn("settling an exercise", "exercise", x.ID, "err", err)
		settled = *a
		settled.Correct, settled.Runs, settled.Explanation, settled.Done = out.Right, ids, out.Explanation, time.Now()
	}
	st.answer = &settled
	return st, nil
}

// message is the state as the page is sent it.
func (e exercise) message(x course.Assigned) protocol.ExerciseState {
	m := protocol.ExerciseState{Exercise: x.ID, Answered: e.answer != nil, Needs: make([]protocol.NeedState, len(x.Needs))}
	if e.answer != nil {
		v := e.answer.Value
		m.Value = &v
	}
	missing := 0
	for i := range x.Needs {
		switch {
		case e.done() && i < len(e.answer.Runs):
			m.Needs[i] = protocol.NeedState{Done: true, Run: e.answer.Runs[i]}
		case i < len(e.evidence.Runs) && e.evidence.Runs[i].ID != "":
			m.Needs[i] = protocol.NeedState{Done: true, Run: e.evidence.Runs[i].ID}
		default:
			missing++
		}
	}
	switch {
	case e.done():
		m.Done, m.Correct, m.Explanation = true, e.answer.Correct, e.answer.Explanation
		m.Message = "Done: your runs and your answer are both in."
	case e.answer == nil && missing == 0:
		m.Message = "Your runs are in. Answer the question to open the explanation."
	case e.answer == nil:
		m.Message = fmt.Sprintf("%s to go, and the question to answer.", runsLeft(missing))
	default:
		m.Message = fmt.Sprintf("Your answer is kept. %s to go: the explanation opens when your runs include them.", runsLeft(missing))
	}
	return m
}

func runsLeft(n int) string {
	if n == 1 {
		return "One run"
	}
	return fmt.Sprintf("%d runs", n)
}

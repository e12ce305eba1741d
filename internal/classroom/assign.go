package classroom

import (
	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/teach"
)

// The instructor assigns the class an exercise, one self-check question
// or a lesson's whole self-check: every following page goes to it, and
// the class view tallies the class's answers as the web layer reports
// them (Answered), without reading the store again. Only the last
// assignment is tallied.

// Task is what the instructor assigns.
type Task struct {
	protocol.Assigned // lesson, kind, id, title, and the anchor followers go to
	// Questions is what it asks: the exercise's question, the one
	// question, or every question of the self-check, in the page's order.
	Questions []teach.Question
	// Instructor is the instructor's learner id: their own answers are
	// not the class's.
	Instructor string
}

// Answer is one learner's answer as the store keeps it: the first one
// they gave.
type Answer struct {
	Learner  string
	Question string
	Value    float64 // the choice's index, or the number
	Correct  bool
	// Done marks an exercise's answer that has opened: the learner's runs
	// are in, and Correct is how the answer proved against them.
	Done bool
}

// assignment is a Task and the answers it has had.
type assignment struct {
	task Task
	// class is who counts: the learners with a page of the course open
	// when it was assigned or since, and anyone who answers while it is.
	class   map[string]bool
	answers map[string]map[string]Answer // question → learner → answer
	// waiting is the earlier answers of learners not in class (yet), by
	// learner: they count once the learner opens a page of the course.
	waiting map[string][]Answer
}

// Assign gives the class a task: every following page is sent to it, and
// the class view tallies the answers to it from now on — those the class
// gave before too, read with Config.Answers. The error says those could
// not be read; the task is assigned all the same.
func (c *Classroom) Assign(t Task) error {
	a := &assignment{task: t, class: map[string]bool{}, answers: map[string]map[string]Answer{}, waiting: map[string][]Answer{}}
	ids := make([]string, len(t.Questions))
	for i, q := range t.Questions {
		ids[i] = q.ID
		a.answers[q.ID] = map[string]Answer{}
	}
	c.mu.Lock()
	for _, f := range c.followers {
		if !f.instructor && f.learner != t.Instructor {
			a.class[f.learner] = true
		}
	}
	c.assigned = a
	c.presentLocked(t.Lesson, t.Anchor)
	c.mu.Unlock()
	if c.cfg.Answers == nil {
		return nil
	}
	// Read without the lock: answers that arrive meanwhile are tallied as
	// they come, and merging the two gives the same whatever the order.
	earlier, err := c.cfg.Answers(ids)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.assigned != a {
		return err // assigned again meanwhile
	}
	for _, ans := range earlier {
		switch {
		case ans.Learner == t.Instructor:
		case a.class[ans.Learner]:
			a.add(ans)
		default:
			a.waiting[ans.Learner] = append(a.waiting[ans.Learner], ans)
		}
	}
	return err
}

// joinLocked counts a learner who opens a page of the course in the
// class of the assignment, with their earlier answers.
func (c *Classroom) joinLocked(learner string, instructor bool) {
	a := c.assigned
	if a == nil || instructor || learner == a.task.Instructor || a.class[learner] {
		return
	}
	a.class[learner] = true
	for _, ans := range a.waiting[learner] {
		a.add(ans)
	}
	delete(a.waiting, learner)
}

// Answered tells the classroom of an answer as the store kept it: given
// now, or given before and asked about again (an exercise whose runs
// came in since).
func (c *Classroom) Answered(ans Answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.assigned
	if a == nil || ans.Learner == a.task.Instructor {
		return
	}
	if _, asked := a.answers[ans.Question]; !asked {
		return
	}
	c.joinLocked(ans.Learner, false)
	a.add(ans)
}

// add keeps a learner's answer. The store keeps the first answer, so two
// reports of it differ only in whether an exercise's has opened: the
// opened one stands.
func (a *assignment) add(ans Answer) {
	byLearner, ok := a.answers[ans.Question]
	if !ok {
		return
	}
	if old, ok := byLearner[ans.Learner]; ok && old.Done && !ans.Done {
		return
	}
	byLearner[ans.Learner] = ans
}

// assignmentLocked is the assignment as the instructor sees it, with the
// number of learners on its lesson's page now.
func (c *Classroom) assignmentLocked(learnersOnLesson int) *protocol.Assignment {
	a := c.assigned
	if a == nil {
		return nil
	}
	out := &protocol.Assignment{Assigned: a.task.Assigned, Learners: learnersOnLesson, Questions: []protocol.Tally{}}
	for _, q := range a.task.Questions {
		out.Questions = append(out.Questions, tally(q, a.task.Kind == protocol.AssignExercise, a.answers[q.ID]))
	}
	return out
}

// tally sums up the answers to one question: how many, how many right,
// and their spread.
func tally(q teach.Question, exercise bool, answers map[string]Answer) protocol.Tally {
	t := protocol.Tally{Question: q.ID, Text: q.Text, Kind: protocol.QuestionNumber, Answered: len(answers), Unit: q.Unit}
	if q.IsChoice() {
		t.Kind, t.Unit, t.Choices, t.Counts = protocol.QuestionChoice, "", q.Choices, make([]int, len(q.Choices))
	}
	done := 0
	var nums []float64
	for _, a := range answers {
		if a.Done {
			done++
		}
		if a.Correct && (a.Done || !exercise) {
			t.Right++
		}
		switch {
		case !q.IsChoice():
			nums = append(nums, a.Value)
		case a.Value >= 0 && int(a.Value) < len(t.Counts):
			t.Counts[int(a.Value)]++
		}
	}
	if exercise {
		t.Done = &done
	} else {
		t.Key = keyOf(q)
	}
	if len(nums) > 0 {
		s := lab.Summarize(nums)
		t.Min, t.Median, t.Max = &s.Min, &s.P50, &s.Max
		t.Bins = answerBins(nums, s.Min, s.Max)
	}
	return t
}

// keyOf is a self-check question's right answer, for a person.
func keyOf(q teach.Question) string {
	switch {
	case q.IsChoice():
		return q.Choices[q.Right]
	case q.Lo == q.Hi:
		return format.Figure(q.Lo, q.Unit)
	}
	return format.Number(q.Lo) + "–" + format.Figure(q.Hi, q.Unit)
}

// answerBins is a histogram of numbers answered, between the lowest and
// the highest: up to eight equal bins, one when they are all the same.
func answerBins(nums []float64, lo, hi float64) [][3]float64 {
	if lo == hi {
		return [][3]float64{{lo, hi, float64(len(nums))}}
	}
	bins := lab.Histogram(nums, lo, hi, min(8, len(nums)), false)
	out := make([][3]float64, len(bins))
	for i, b := range bins {
		out[i] = [3]float64(b)
	}
	return out
}

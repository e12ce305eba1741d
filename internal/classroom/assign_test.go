package classroom_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"conclab/internal/classroom"
	"conclab/internal/engine/enginetest"
	"conclab/internal/protocol"
	"conclab/internal/teach"
)

var (
	pick  = teach.Question{ID: "t-pick", Text: "Pick the second.", Choices: []string{"first", "second", "third"}, Right: 1, Explain: "."}
	guess = teach.Question{ID: "t-num", Text: "How many?", Unit: "µs", Min: 0, Max: 100, Lo: 3, Hi: 4, Explain: "."}
	drill = teach.Question{ID: "t-ex", Text: "Faster or slower?", Choices: []string{"faster", "slower"}, Explain: "."}
)

// newClass is a classroom alone (no scheduler), whose store of earlier
// answers is earlier(questions).
func newClass(t *testing.T, earlier func([]string) ([]classroom.Answer, error)) *classroom.Classroom {
	c := classroom.New(classroom.Config{Answers: earlier})
	t.Cleanup(c.Close)
	return c
}

func task(kind, id, anchor string, qs ...teach.Question) classroom.Task {
	return classroom.Task{Assigned: protocol.Assigned{Lesson: "l1", Kind: kind, ID: id, Title: "T", Anchor: anchor}, Questions: qs, Instructor: "teacher"}
}

func assignment(t *testing.T, c *classroom.Classroom) protocol.Assignment {
	t.Helper()
	a := c.View().Assignment
	if a == nil {
		t.Fatal("the class view has no assignment")
	}
	return *a
}

// A choice question: the answers per choice, how many are right, the
// right answer in words; earlier answers count for the learners of the
// class — once they open a page — never for the instructor.
func TestAssignedChoiceIsTallied(t *testing.T) {
	t.Parallel()
	c := newClass(t, func(ids []string) ([]classroom.Answer, error) {
		if !slices.Equal(ids, []string{"t-pick"}) {
			return nil, fmt.Errorf("asked for the answers to %v", ids)
		}
		return []classroom.Answer{
			{Learner: "ann", Question: "t-pick", Value: 1, Correct: true},
			{Learner: "gone", Question: "t-pick", Value: 2}, // a learner of another day, not in class
			{Learner: "teacher", Question: "t-pick", Value: 0},
		}, nil
	})
	for _, l := range []string{"ann", "bob", "cy"} {
		c.Follow("l1", l, false, enginetest.NewViewer())
	}
	c.Follow("l2", "dee", false, enginetest.NewViewer())
	c.Follow("l1", "teacher", true, enginetest.NewViewer())
	if c.View().Assignment != nil {
		t.Fatal("an assignment in the view before anything was assigned")
	}
	if err := c.Assign(task(protocol.AssignQuestion, "t-pick", "q-t-pick", pick)); err != nil {
		t.Fatal(err)
	}
	c.Answered(classroom.Answer{Learner: "bob", Question: "t-pick", Value: 0})
	c.Answered(classroom.Answer{Learner: "bob", Question: "t-pick", Value: 0})                // asked again: the same answer
	c.Answered(classroom.Answer{Learner: "eve", Question: "t-pick", Value: 1, Correct: true}) // came in late: counts
	c.Answered(classroom.Answer{Learner: "teacher", Question: "t-pick", Value: 2})
	c.Answered(classroom.Answer{Learner: "cy", Question: "t-other", Value: 2}) // not assigned

	a := assignment(t, c)
	if a.Kind != protocol.AssignQuestion || a.ID != "t-pick" || a.Anchor != "q-t-pick" || a.Learners != 3 || len(a.Questions) != 1 {
		t.Fatalf("assignment %+v; want the question, with 3 learners on its lesson", a)
	}
	q := a.Questions[0]
	if q.Kind != protocol.QuestionChoice || q.Answered != 3 || q.Right != 2 || !slices.Equal(q.Counts, []int{1, 2, 0}) || q.Key != "second" || q.Done != nil {
		t.Errorf("tally %+v; want 3 answered (ann, bob, eve), 2 right, counts [1 2 0], key second", q)
	}
	// A learner who answered before opens a page now: their answer counts.
	c.Follow("l2", "gone", false, enginetest.NewViewer())
	c.Follow("l1", "teacher", true, enginetest.NewViewer())
	if q := assignment(t, c).Questions[0]; q.Answered != 4 || !slices.Equal(q.Counts, []int{1, 2, 1}) {
		t.Errorf("after a learner who had answered came in: %+v; want 4 answered, counts [1 2 1]", q)
	}
}

// A number question: how many, how many right, and the spread.
func TestAssignedNumberIsTallied(t *testing.T) {
	t.Parallel()
	c := newClass(t, nil)
	if err := c.Assign(task(protocol.AssignSelfCheck, "", "self-check", pick, guess)); err != nil {
		t.Fatal(err)
	}
	for i, v := range []float64{2, 3.5, 4, 10, 50} {
		c.Answered(classroom.Answer{Learner: fmt.Sprint("l", i), Question: "t-num", Value: v, Correct: v >= 3 && v <= 4})
	}
	a := assignment(t, c)
	if len(a.Questions) != 2 || a.Questions[0].Answered != 0 || a.Questions[0].Min != nil {
		t.Fatalf("the self-check's tallies %+v; want both questions, the first unanswered", a.Questions)
	}
	q := a.Questions[1]
	if q.Kind != protocol.QuestionNumber || q.Answered != 5 || q.Right != 2 || q.Key != "3–4 µs" || q.Unit != "µs" {
		t.Errorf("tally %+v", q)
	}
	if q.Min == nil || *q.Min != 2 || *q.Median != 4 || *q.Max != 50 {
		t.Errorf("spread %v %v %v, want 2, 4, 50", q.Min, q.Median, q.Max)
	}
	total := 0.0
	for _, b := range q.Bins {
		total += b[2]
	}
	if len(q.Bins) == 0 || q.Bins[0][0] != 2 || q.Bins[len(q.Bins)-1][1] != 50 || total != 5 {
		t.Errorf("bins %v; want 2 to 50 holding 5 answers", q.Bins)
	}
}

// An exercise: answered is not done; done counts once its runs are in, and
// right counts only among the done. An answer that opened stays opened,
// whichever report of it comes last — including one read from the store
// while the exercise opened.
func TestAssignedExerciseCountsDone(t *testing.T) {
	t.Parallel()
	var c *classroom.Classroom
	c = newClass(t, func([]string) ([]classroom.Answer, error) {
		// bob's runs come in while the store is read: the live report
		// is newer than what the store returns.
		c.Answered(classroom.Answer{Learner: "bob", Question: "t-ex", Value: 1, Correct: true, Done: true})
		return []classroom.Answer{
			{Learner: "ann", Question: "t-ex", Value: 0, Correct: true, Done: true},
			{Learner: "bob", Question: "t-ex", Value: 1},
		}, nil
	})
	for _, l := range []string{"ann", "bob", "cy", "dee"} {
		c.Follow("l1", l, false, enginetest.NewViewer())
	}
	if err := c.Assign(task(protocol.AssignExercise, "t-ex", "ex-t-ex", drill)); err != nil {
		t.Fatal(err)
	}
	c.Answered(classroom.Answer{Learner: "cy", Question: "t-ex", Value: 0, Correct: true}) // answered, runs not in: not judged yet
	c.Answered(classroom.Answer{Learner: "ann", Question: "t-ex", Value: 0})               // a stale report
	q := assignment(t, c).Questions[0]
	if q.Answered != 3 || q.Done == nil || *q.Done != 2 || q.Right != 2 || q.Key != "" || !slices.Equal(q.Counts, []int{2, 1}) {
		t.Errorf("tally %+v (done %v); want 3 answered, 2 done, 2 right, no key, counts [2 1]", q, q.Done)
	}
	c.Answered(classroom.Answer{Learner: "cy", Question: "t-ex", Value: 0, Done: true})
	if q := assignment(t, c).Questions[0]; *q.Done != 3 || q.Right != 2 {
		t.Errorf("after cy's runs came in: done %d, right %d; want 3 and 2", *q.Done, q.Right)
	}
}

// Assigning sends every following page to the task — wherever it is —
// and not a page that stopped following; a new assignment starts a new
// tally.
func TestAssignMovesFollowers(t *testing.T) {
	t.Parallel()
	c := newClass(t, func([]string) ([]classroom.Answer, error) { return nil, errors.New("the disk is gone") })
	here, there, away := enginetest.NewViewer(), enginetest.NewViewer(), enginetest.NewViewer()
	c.Follow("l1", "ann", false, here)
	c.Follow("l2", "bob", false, there)
	c.Follow("l1", "cy", false, away)
	c.SetFollowing(away, false)
	if err := c.Assign(task(protocol.AssignExercise, "t-ex", "ex-t-ex", drill)); err == nil {
		t.Error("Assign hid that the earlier answers could not be read")
	}
	for _, v := range []*enginetest.Viewer{here, there} {
		m := v.WaitFor(t, "the move", enginetest.IsType("present"))
		if m["lesson"] != "l1" || m["anchor"] != "ex-t-ex" {
			t.Errorf("a follower was sent %v", m)
		}
	}
	if slices.Contains(away.Types(), "present") {
		t.Error("a page that stopped following was moved")
	}
	c.Answered(classroom.Answer{Learner: "ann", Question: "t-ex", Value: 0})
	c.Assign(task(protocol.AssignQuestion, "t-pick", "q-t-pick", pick))
	c.Answered(classroom.Answer{Learner: "bob", Question: "t-ex", Value: 0}) // the old task's
	a := assignment(t, c)
	if a.ID != "t-pick" || len(a.Questions) != 1 || a.Questions[0].Answered != 0 {
		t.Errorf("after a new assignment: %+v; want t-pick, unanswered", a)
	}
}

package classroom_test

import (
	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/lab"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func ask(s *room, e *lab.Experiment, p lab.Params, learner string, instructor bool, v engine.Viewer) (engine.Started, error) {
	return s.Start(engine.Request{Exp: e, Params: p, Learner: learner, Instructor: instructor}, v)
}

func mustAsk(t *testing.T, s *room, e *lab.Experiment, p lab.Params, learner string, instructor bool, v engine.Viewer) engine.Started {
	t.Helper()
	st, err := ask(s, e, p, learner, instructor, v)
	if err != nil {
		t.Fatalf("%s asks for %s: %v", learner, p.Key(), err)
	}
	return st
}

// The instructor's runs go first; students' runs are taken one from each
// learner in turn, so that one student's burst does not hold back the
// others.
func TestInstructorFirstThenRoundRobin(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{})
	v := enginetest.NewViewer()
	blocker := enginetest.Params(t, e, 1)
	mustAsk(t, s, e, blocker, "x", false, v)
	v.WaitFor(t, "the first run to start", enginetest.IsType("started"))
	for _, q := range []struct {
		learner string
		w       int
	}{{"ann", 2}, {"ann", 3}, {"bob", 4}, {"bob", 5}, {"cy", 6}} {
		mustAsk(t, s, e, enginetest.Params(t, e, q.w), q.learner, false, enginetest.NewViewer())
	}
	mustAsk(t, s, e, enginetest.Params(t, e, 7), "teacher", true, enginetest.NewViewer())

	want := []int{7, 2, 4, 6, 3, 5}
	c := s.Class()
	if len(c.Queue) != len(want) || !c.Queue[0].Presenter || c.Queue[0].Learner != "instructor" {
		t.Fatalf("the queue is %+v, want the instructor's run first of %d", c.Queue, len(want))
	}
	f.Finish(blocker)
	for _, w := range want {
		p := enginetest.Params(t, e, w)
		f.WaitStarted(t, p)
		f.Finish(p)
	}
	var got []string
	for _, w := range append([]int{1}, want...) {
		got = append(got, enginetest.Params(t, e, w).Key())
	}
	if order := f.Order(); !slices.Equal(order, got) {
		t.Errorf("runs started in the order\n %v\nwant\n %v", order, got)
	}
}

// A learner's limit holds across their tabs: it counts runs per learner,
// not per connection.
func TestPerLearnerLimitHoldsAcrossTabs(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{PerLearner: 2})
	tab1, tab2, other := enginetest.NewViewer(), enginetest.NewViewer(), enginetest.NewViewer()
	mustAsk(t, s, e, enginetest.Params(t, e, 1), "ann", false, tab1)
	mustAsk(t, s, e, enginetest.Params(t, e, 2), "ann", false, tab1)
	if _, err := ask(s, e, enginetest.Params(t, e, 3), "ann", false, tab2); !errors.Is(err, engine.ErrTooMany) {
		t.Errorf("a third run from ann's second tab: err = %v, want ErrTooMany", err)
	}
	if _, err := ask(s, e, enginetest.Params(t, e, 3), "bob", false, other); err != nil {
		t.Errorf("another learner was refused: %v", err)
	}
	for w := 1; w <= 3; w++ {
		f.Finish(enginetest.Params(t, e, w))
	}
}

// A request identical to a run that finished recently is offered that run
// — its replay follows at once — unless the learner asks for a fresh one.
func TestRecentIdenticalRunIsOffered(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{})
	p := enginetest.Params(t, e, 1)
	first := enginetest.NewViewer()
	r := mustAsk(t, s, e, p, "ann", false, first).Run
	f.Finish(p)
	<-r.Done()

	v := enginetest.NewViewer()
	st := mustAsk(t, s, e, p, "bob", false, v)
	if st.Offer != "recent" || st.Run != r {
		t.Fatalf("answer %+v, want an offer of the finished run", st)
	}
	if got := strings.Join(v.Types(), " "); got != "offer started result done" {
		t.Errorf("the offered viewer got %q, want the offer and then the run's replay", got)
	}
	offer := v.Messages()[0]
	if offer["run"] != r.ID || offer["reason"] != "recent" || offer["experiment"] != e.ID {
		t.Errorf("offer %v", offer)
	}
	if _, err := time.Parse(time.RFC3339, offer["finished_at"].(string)); err != nil {
		t.Errorf("finished_at %v: %v", offer["finished_at"], err)
	}
	fresh, err := s.Start(engine.Request{Exp: e, Params: p, Learner: "bob", Fresh: true}, enginetest.NewViewer())
	if err != nil || fresh.Offer != "" || fresh.Run == r {
		t.Errorf("a fresh request: %+v, %v; want a new run", fresh, err)
	}
	teacher := mustAsk(t, s, e, p, "teacher", true, enginetest.NewViewer())
	if teacher.Offer != "" || teacher.Run != fresh.Run || !teacher.Joined {
		t.Errorf("the instructor's request: %+v; want it to join the fresh run, never an offer", teacher)
	}
	f.Finish(p)
}

// A full queue offers the newest run of the experiment; with none to
// offer it is a clear refusal that says how long the wait would be.
func TestFullQueueOffersOrRefusesWithTheWait(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{Queue: 1, Guess: 30 * time.Second})
	other := enginetest.Experiment()
	other.ID = "other"
	done := enginetest.Params(t, e, 9)
	r := mustAsk(t, s, e, done, "ann", false, enginetest.NewViewer()).Run
	f.Finish(done)
	<-r.Done()
	blocker, waiting := enginetest.Params(t, e, 1), enginetest.Params(t, e, 2)
	mustAsk(t, s, e, blocker, "ann", false, enginetest.NewViewer())
	mustAsk(t, s, e, waiting, "bob", false, enginetest.NewViewer())

	st, err := ask(s, e, enginetest.Params(t, e, 3), "cy", false, enginetest.NewViewer())
	if err != nil || st.Offer != "queue-full" || st.Run != r {
		t.Errorf("a full queue: %+v, %v; want an offer of the finished run", st, err)
	}
	_, err = ask(s, other, enginetest.Params(t, other, 3), "cy", false, enginetest.NewViewer())
	if !errors.Is(err, engine.ErrQueueFull) || !strings.Contains(err.Error(), "about") {
		t.Errorf("a full queue with nothing to offer: %v; want engine.ErrQueueFull saying about how long", err)
	}
	if st, err := ask(s, e, enginetest.Params(t, e, 4), "teacher", true, enginetest.NewViewer()); err != nil || st.Offer != "" {
		t.Errorf("the instructor's request with the students' queue full: %+v, %v; want it queued", st, err)
	}
	for w := 1; w <= 4; w++ {
		f.Finish(enginetest.Params(t, e, w))
	}
}

// Paused, students' runs wait (and say so) while the instructor's go on;
// a student's new request is offered a finished run, or told plainly.
func TestPauseHoldsStudentsRuns(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{})
	other := enginetest.Experiment()
	other.ID = "other"
	done := enginetest.Params(t, e, 9)
	r := mustAsk(t, s, e, done, "ann", false, enginetest.NewViewer()).Run
	f.Finish(done)
	<-r.Done()

	s.Pause(true)
	student := enginetest.NewViewer()
	held := enginetest.Params(t, e, 1)
	if st, err := s.Start(engine.Request{Exp: e, Params: held, Learner: "ann", Fresh: true}, student); err == nil && st.Offer == "" {
		t.Fatalf("a paused student's request was queued: %+v", st)
	}
	if _, err := ask(s, other, enginetest.Params(t, other, 1), "ann", false, enginetest.NewViewer()); !errors.Is(err, engine.ErrPaused) || !strings.Contains(err.Error(), "paused") {
		t.Errorf("paused, with nothing to offer: %v; want ErrPaused", err)
	}
	s.Pause(false)
	mustAsk(t, s, e, held, "ann", false, student)
	s.Pause(true)
	teacher := enginetest.NewViewer()
	tp := enginetest.Params(t, e, 2)
	mustAsk(t, s, e, tp, "teacher", true, teacher)
	teacher.WaitFor(t, "the instructor's run to start while paused", enginetest.IsType("started"))
	// The student's run was queued before the instructor's, but waits.
	student.WaitFor(t, "the student told it waits", func(m map[string]any) bool { return m["type"] == "queued" && m["paused"] == true })
	f.Finish(tp)
	teacher.WaitFor(t, "the instructor's run to end", enginetest.IsType("done"))
	if slices.Contains(f.Order(), held.Key()) {
		t.Fatal("a student's run started while runs were paused")
	}
	s.Pause(false)
	student.WaitFor(t, "the student's run to start once resumed", enginetest.IsType("started"))
	f.Finish(held)
}

// The instructor may cancel anyone's run; a student only their own.
func TestInstructorCancelsAnyRun(t *testing.T) {
	t.Parallel()
	s, _, e := newTestScheduler(t, engine.Config{})
	v := enginetest.NewViewer()
	r := mustAsk(t, s, e, enginetest.Params(t, e, 1), "ann", false, v).Run
	v.WaitFor(t, "start", enginetest.IsType("started"))
	if _, err := s.Cancel(r.ID, "bob", false, enginetest.NewViewer()); !errors.Is(err, engine.ErrNotYours) {
		t.Errorf("another student cancelled ann's run: %v", err)
	}
	if res, err := s.Cancel(r.ID, "teacher", true, enginetest.NewViewer()); err != nil || res != engine.Cancelled {
		t.Errorf("the instructor's cancel: %v, %v", res, err)
	}
	if d := v.WaitFor(t, "cancelled", enginetest.IsType("done")); d["status"] != "cancelled" {
		t.Errorf("done %v, want cancelled", d)
	}
}

// Only the instructor's runs are announced; when the instructor asks for a
// run a student already queued, it becomes the instructor's: first in
// line, and announced.
func TestOnlyTheInstructorsRunsAreAnnounced(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{})
	page := enginetest.NewViewer()
	s.Follow(e.Lesson, "cy", page)
	blocker, p := enginetest.Params(t, e, 1), enginetest.Params(t, e, 2)
	first := enginetest.NewViewer()
	mustAsk(t, s, e, blocker, "ann", false, first)
	first.WaitFor(t, "the first run to start", enginetest.IsType("started"))
	mustAsk(t, s, e, enginetest.Params(t, e, 3), "bob", false, enginetest.NewViewer())
	r := mustAsk(t, s, e, p, "ann", false, enginetest.NewViewer()).Run
	if slices.Contains(page.Types(), "live") {
		t.Fatalf("a student's run was announced: %v", page.Types())
	}
	st := mustAsk(t, s, e, p, "teacher", true, enginetest.NewViewer())
	if !st.Joined || st.Run != r {
		t.Fatalf("the instructor's identical request: %+v, want it to join", st)
	}
	live := page.WaitFor(t, "the announcement", enginetest.IsType("live"))
	if live["run"] != r.ID || live["presenter"] != true {
		t.Errorf("live %v", live)
	}
	if q := s.Class().Queue; len(q) != 2 || q[0].Run != r.ID || !q[0].Presenter {
		t.Errorf("queue %+v, want the instructor's run first", q)
	}
	for w := 1; w <= 3; w++ {
		f.Finish(enginetest.Params(t, e, w))
	}
}

// Waits come from the experiment's recent durations and grow along the
// queue.
func TestQueuedRunsSayHowLongTheyWait(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{Guess: 100 * time.Second})
	first := enginetest.NewViewer()
	blocker := enginetest.Params(t, e, 1)
	mustAsk(t, s, e, blocker, "ann", false, first)
	first.WaitFor(t, "start", enginetest.IsType("started"))
	a, b := enginetest.NewViewer(), enginetest.NewViewer()
	mustAsk(t, s, e, enginetest.Params(t, e, 2), "bob", false, a)
	mustAsk(t, s, e, enginetest.Params(t, e, 3), "cy", false, b)
	qa := a.WaitFor(t, "queued", enginetest.IsType("queued"))
	qb := b.WaitFor(t, "queued", enginetest.IsType("queued"))
	ea, eb := qa["eta_s"].(float64), qb["eta_s"].(float64)
	if ea < 50 || ea > 100 || eb < ea+99 || eb > ea+101 {
		t.Errorf("waits %v s and %v s; want about 100 s (the guess, less what the running run has used) and 100 s more", ea, eb)
	}
	f.Finish(blocker)
	for w := 2; w <= 3; w++ {
		f.Finish(enginetest.Params(t, e, w))
	}
}

// The class view counts learners per lesson and names learners, never
// their ids.
func TestClassView(t *testing.T) {
	t.Parallel()
	s, f, e := newTestScheduler(t, engine.Config{})
	s.Follow("l", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", enginetest.NewViewer())
	s.Follow("l", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", enginetest.NewViewer()) // a second tab
	s.Follow("m", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", enginetest.NewViewer())
	p := enginetest.Params(t, e, 1)
	v := enginetest.NewViewer()
	mustAsk(t, s, e, p, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, v)
	v.WaitFor(t, "start", enginetest.IsType("started"))
	c := s.Class()
	if c.Learners != 2 || len(c.Lessons) != 2 || c.Lessons[0].Learners != 1 {
		t.Errorf("class %+v, want 2 learners, one on each lesson", c)
	}
	if len(c.Running) != 1 || strings.Contains(c.Running[0].Learner, "aaaa") || c.Running[0].Learner == "" {
		t.Errorf("running %+v, want one run under a short name", c.Running)
	}
	watcher := enginetest.NewViewer()
	s.WatchClass(watcher)
	watcher.WaitFor(t, "the class view", enginetest.IsType("class"))
	f.Finish(p)
}

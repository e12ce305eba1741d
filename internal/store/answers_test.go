package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Answers are kept per learner, the first one stands, an exercise opens
// once, and all of it outlasts a restart.
func TestAnswersAreKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Dir: dir})
	at := time.UnixMilli(1_700_000_000_000).UTC()
	q := Answer{Learner: "ann", Question: "cs-q1", Lesson: "context-switching", Kind: KindQuestion, Value: 2, Correct: true, At: at}
	kept, fresh, err := s.Answer(q)
	if err != nil || !fresh || kept.Value != 2 {
		t.Fatalf("first answer: %+v fresh %v, %v", kept, fresh, err)
	}
	again := q
	again.Value, again.Correct, again.At = 0, false, at.Add(time.Minute)
	if kept, fresh, err := s.Answer(again); err != nil || fresh || kept.Value != 2 || !kept.Correct || !kept.At.Equal(at) {
		t.Errorf("a second answer to the same question: %+v fresh %v, %v; want the first kept", kept, fresh, err)
	}
	x := Answer{Learner: "ann", Question: "cs-ex-batch", Lesson: "context-switching", Kind: KindExercise, Value: 1, At: at}
	if _, _, err := s.Answer(x); err != nil {
		t.Fatal(err)
	}
	done := at.Add(time.Hour)
	settled, err := s.Settle("ann", "cs-ex-batch", true, []string{"aaaaaaaaaaaa"}, "your run showed 12 µs", done)
	if err != nil || !settled.IsDone() || !settled.Correct || settled.Explanation != "your run showed 12 µs" || len(settled.Runs) != 1 {
		t.Fatalf("settled: %+v, %v", settled, err)
	}
	if again, _ := s.Settle("ann", "cs-ex-batch", false, nil, "other", done.Add(time.Hour)); !again.Done.Equal(done) || again.Explanation != "your run showed 12 µs" {
		t.Errorf("settling twice changed it: %+v", again)
	}
	if _, err := s.Settle("ann", "cs-q1", false, nil, "x", done); err != nil {
		t.Fatal(err)
	}
	s.Answer(Answer{Learner: "bob", Question: "cs-q1", Lesson: "context-switching", Kind: KindQuestion, Value: 0, At: at.Add(time.Second)})
	s.Close()

	s = open(t, Options{Dir: dir})
	defer s.Close()
	as, err := s.Answers("ann")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as["cs-q1"].Value != 2 || !as["cs-q1"].Correct || as["cs-q1"].IsDone() || !as["cs-ex-batch"].IsDone() || as["cs-ex-batch"].Runs[0] != "aaaaaaaaaaaa" {
		t.Errorf("ann's answers after a restart: %+v", as)
	}
	for _, bad := range []Answer{
		{Learner: "", Question: "q", Kind: KindQuestion, At: at},
		{Learner: "ann", Question: "Q!", Kind: KindQuestion, At: at},
		{Learner: "ann", Question: "q", Kind: "guess", At: at},
		{Learner: "ann", Question: "q", Kind: KindQuestion},
	} {
		if _, _, err := s.Answer(bad); err == nil {
			t.Errorf("answer %+v was kept", bad)
		}
	}
}

// Every learner's answers can be listed, as the instructor's view of the
// class lists them: learner, lesson, question, answer, right or wrong.
func TestAllAnswers(t *testing.T) {
	t.Parallel()
	s := Memory(Options{Log: quiet()})
	defer s.Close()
	at := time.UnixMilli(1_700_000_000_000)
	for i, a := range []Answer{
		{Learner: "ann", Question: "a-q1", Lesson: "a", Kind: KindQuestion, Value: 1, Correct: true},
		{Learner: "bob", Question: "a-q1", Lesson: "a", Kind: KindQuestion, Value: 0},
		{Learner: "bob", Question: "b-q1", Lesson: "b", Kind: KindQuestion, Value: 3.5, Correct: true},
		{Learner: "cy", Question: "a-ex", Lesson: "a", Kind: KindExercise, Value: 2},
	} {
		a.At = at.Add(time.Duration(i) * time.Second)
		if _, _, err := s.Answer(a); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.AllAnswers(AnswerQuery{})
	if err != nil || len(all) != 4 || all[0].Learner != "ann" || all[3].Learner != "cy" || !all[2].Correct || all[2].Value != 3.5 {
		t.Fatalf("every answer: %+v, %v", all, err)
	}
	if a, _ := s.AllAnswers(AnswerQuery{Lesson: "a"}); len(a) != 3 {
		t.Errorf("lesson a: %d answers, want 3", len(a))
	}
	if a, _ := s.AllAnswers(AnswerQuery{Questions: []string{"a-q1", "b-q1"}}); len(a) != 3 {
		t.Errorf("two questions: %d answers, want 3", len(a))
	}
	if a, _ := s.AllAnswers(AnswerQuery{Since: at.Add(2 * time.Second)}); len(a) != 2 {
		t.Errorf("since the third: %d answers, want 2", len(a))
	}
}

// A learner's runs are found by experiment, newest first, ok ones only.
func TestLearnerRuns(t *testing.T) {
	t.Parallel()
	s := Memory(Options{Log: quiet()})
	defer s.Close()
	const ok, failed = "ok", "failed" // a run's statuses, as the store keeps them
	record(s, "111111111111", "hold", "ann", 1, ok)
	record(s, "222222222222", "hold", "ann", 2, failed)
	record(s, "333333333333", "other", "ann", 1, ok)
	record(s, "444444444444", "hold", "bob", 1, ok)
	s.Flush()
	runs, err := s.LearnerRuns("ann", []string{"hold"}, 10)
	if err != nil || len(runs) != 1 || runs[0].ID != "111111111111" || len(runs[0].Body().Metrics) != 1 {
		t.Fatalf("ann's runs of hold: %+v, %v", runs, err)
	}
	if runs, _ := s.LearnerRuns("ann", []string{"hold", "other"}, 10); len(runs) != 2 {
		t.Errorf("ann's runs of two experiments: %d, want 2", len(runs))
	}
}

// Moving one's progress carries one's answers; importing twice changes
// nothing, and a settled exercise settles the same one left open.
func TestProgressCarriesAnswers(t *testing.T) {
	t.Parallel()
	a := Memory(Options{Log: quiet()})
	defer a.Close()
	at := time.UnixMilli(1_700_000_000_000)
	a.Answer(Answer{Learner: "ann", Question: "a-q1", Lesson: "a", Kind: KindQuestion, Value: 1, Correct: true, At: at})
	a.Answer(Answer{Learner: "ann", Question: "a-ex", Lesson: "a", Kind: KindExercise, Value: 2, At: at})
	a.Settle("ann", "a-ex", true, []string{"aaaaaaaaaaaa"}, "from your run", at.Add(time.Minute))
	var file bytes.Buffer
	if err := a.ExportProgress("ann", &file); err != nil {
		t.Fatal(err)
	}
	var f struct {
		Format  int      `json:"format"`
		Answers []Answer `json:"answers"`
	}
	json.Unmarshal(file.Bytes(), &f)
	if f.Format != 3 || len(f.Answers) != 2 || f.Answers[0].Learner != "" {
		t.Fatalf("the file: format %d, answers %+v", f.Format, f.Answers)
	}

	b := Memory(Options{Log: quiet()})
	defer b.Close()
	b.Answer(Answer{Learner: "cy", Question: "a-ex", Lesson: "a", Kind: KindExercise, Value: 0, At: at.Add(time.Second)})
	for i := range 2 {
		res, err := b.ImportProgress("cy", bytes.NewReader(file.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{2, 0}[i]; res.Answers != want {
			t.Errorf("import %d: %d answers changed, want %d", i+1, res.Answers, want)
		}
	}
	as, _ := b.Answers("cy")
	if len(as) != 2 || !as["a-q1"].Correct || !as["a-ex"].IsDone() || as["a-ex"].Value != 2 {
		t.Errorf("cy's answers: %+v; want ann's question added, and cy's open exercise replaced by ann's settled one", as)
	}
	bad := strings.Replace(file.String(), `"kind": "question"`, `"kind": "guess"`, 1)
	if _, err := b.ImportProgress("cy", strings.NewReader(bad)); err == nil {
		t.Error("a file with a malformed answer was taken")
	}
}

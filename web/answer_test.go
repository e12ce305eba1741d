package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"conclab/internal/teach"
)

// benchPlan is the test bench's teaching: an exercise on ws-hold, whose
// answer its run decides, and two self-check questions.
var benchPlan = teach.Plan{
	Exercises: []teach.Exercise{{
		ID: "bench-ex", Title: "Hold briefly", Task: "Run ws-hold with a hold of 5 ms.",
		Needs:    []teach.Need{{Experiment: "ws-hold", Params: map[string]any{"hold": 5}, Keys: []string{"held"}}},
		Question: teach.Question{Text: "Will it hold for less than 100 ms?", Choices: []string{"yes", "no"}},
		Judge: teach.ByRuns(func(ev teach.Evidence) (int, bool) {
			v, ok := ev.Value(0, "held")
			if v < 100 {
				return 0, ok
			}
			return 1, ok
		}),
		Explain: func(ev teach.Evidence) string { return "Your run held " + ev.Figure(0, "held") + "." },
	}},
	Questions: []teach.Question{
		{ID: "bench-q", Text: "Pick the second.", Choices: []string{"first", "second", "third"}, Right: 1, Explain: "The second is second."},
		{ID: "bench-n", Text: "Three and a half?", Unit: "ms", Min: 0, Max: 10, Lo: 3, Hi: 4, Explain: "It is between 3 and 4."},
	},
}

// Self-check answers over the websocket: each is checked and explained,
// the first one stands, and a bad one gets an error naming the question
// while the connection stays usable.
func TestAnswersOverTheWebsocket(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	cookie := cookiesOf(t, s.url)
	c, err := dialAs(t, &server{url: s.url}, "", "", cookie)
	if err != nil {
		t.Fatal(err)
	}
	answer := func(q string, v any) {
		c.send(map[string]any{"op": "answer", "question": q, "value": v})
	}
	errorFor := func(q string) func(map[string]any) bool {
		return func(m map[string]any) bool { return m["type"] == "error" && m["question"] == q }
	}
	for _, bad := range []struct {
		q    string
		v    any
		want string
	}{
		{"bench-q", "second", "index of a choice"},
		{"bench-q", 3, "from 0 to 2"},
		{"bench-q", 0.5, "whole number"},
		{"bench-q", nil, "index of a choice"},
		{"bench-n", 11, "from 0 to 10"},
		{"bench-n", true, "a number"},
		{"no-such-question", 1, "unknown question"},
	} {
		answer(bad.q, bad.v)
		m := c.next("an error for "+bad.q, errorFor(bad.q))
		if msg, _ := m["message"].(string); !strings.Contains(msg, bad.want) || m["op"] != "answer" {
			t.Errorf("answer %v to %s: error %v, want one saying %q", bad.v, bad.q, m, bad.want)
		}
	}
	answered := func(q string) map[string]any {
		return c.next("the answer to "+q, func(m map[string]any) bool { return m["type"] == "answered" && m["question"] == q })
	}
	answer("bench-q", 0)
	if m := answered("bench-q"); m["correct"] != false || m["explanation"] != "The second is second." || m["kept"] != true || m["again"] == true {
		t.Errorf("a wrong choice: %v", m)
	}
	answer("bench-q", 1)
	if m := answered("bench-q"); m["correct"] != false || m["value"] != 0.0 || m["again"] != true {
		t.Errorf("answering again: %v; want the first answer, which stands", m)
	}
	answer("bench-n", 3.5)
	if m := answered("bench-n"); m["correct"] != true || m["value"] != 3.5 {
		t.Errorf("a right number: %v", m)
	}

	// The page shows the answers kept, and the lesson's header counts them.
	resp, page := getAs(t, s.url+"/lessons/context-switching", cookie)
	if resp.StatusCode != 200 || !strings.Contains(page, `data-testid="self-check"`) || !strings.Contains(page, `data-question="cs-q-saves"`) {
		t.Fatalf("the lesson page (%d) has no self-check", resp.StatusCode)
	}
	answer("cs-q-saves", 0)
	answered("cs-q-saves")
	_, page = getAs(t, s.url+"/lessons/context-switching", cookie)
	for _, want := range []string{`data-question="cs-q-saves" data-answered data-correct`, "Self-check: 1 of 6 right", `data-testid="objectives"`, `data-testid="reading"`} {
		if !strings.Contains(page, want) {
			t.Errorf("after a right answer the page lacks %q", want)
		}
	}
	_, progress := getAs(t, s.url+"/progress", cookie)
	if !strings.Contains(progress, `data-testid="questions-right">1 of `) || !strings.Contains(progress, `data-testid="exercises-done">0 of `) {
		t.Error("/progress does not count the question answered right and the exercises done")
	}
}

// An exercise opens only when the learner's own stored runs include the
// runs it needs, and its answer is written from them.
func TestAnExerciseIsDoneWhenItsRunsExist(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	cookie := cookiesOf(t, s.url)
	c, err := dialAs(t, &server{url: s.url}, "", "", cookie)
	if err != nil {
		t.Fatal(err)
	}
	state := func() map[string]any {
		return c.next("the exercise's state", func(m map[string]any) bool { return m["type"] == "exercise" && m["exercise"] == "bench-ex" })
	}
	c.send(map[string]any{"op": "answer", "question": "bench-ex", "value": 0})
	if m := state(); m["answered"] != true || m["done"] != false || m["explanation"] != nil || fmt.Sprint(m["needs"]) != "[map[done:false]]" {
		t.Errorf("answered before its run: %v; want kept, not done, no explanation", m)
	}
	// Someone else's run does not count.
	other, err := dialAs(t, &server{url: s.url}, "", "", cookiesOf(t, s.url))
	if err != nil {
		t.Fatal(err)
	}
	other.send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 5}, "fresh": true})
	other.next("the other learner's run to end", typ("done"))
	c.send(map[string]any{"op": "exercise", "exercise": "bench-ex"})
	if m := state(); m["done"] != false {
		t.Errorf("another learner's run counted: %v", m)
	}
	// Nor does a run with other settings.
	c.send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 6}, "fresh": true})
	c.next("a run with another hold to end", typ("done"))
	c.send(map[string]any{"op": "exercise", "exercise": "bench-ex"})
	if m := state(); m["done"] != false {
		t.Errorf("a run of 6 ms counted for one of 5: %v", m)
	}
	// The learner's own run, asked for the moment it has ended.
	c.send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 5}, "fresh": true})
	run := c.next("the learner's run to be accepted", typ("accepted"))["run"]
	c.next("the learner's run to end", typ("done"))
	c.send(map[string]any{"op": "exercise", "exercise": "bench-ex"})
	m := state()
	needs, _ := m["needs"].([]any)
	if m["done"] != true || m["correct"] != true || m["explanation"] != "Your run held 5 ms." || len(needs) != 1 || needs[0].(map[string]any)["run"] != run {
		t.Fatalf("after the learner's own run: %v; want done, right, explained from run %v", m, run)
	}
	c.send(map[string]any{"op": "exercise", "exercise": "no-such"})
	c.next("an error for an unknown exercise", func(m map[string]any) bool { return m["type"] == "error" && m["exercise"] == "no-such" })

	// The progress file carries it.
	resp, file := getAs(t, s.url+"/progress.json", cookie)
	if resp.StatusCode != 200 || !strings.Contains(file, `"question": "bench-ex"`) || !strings.Contains(file, `"explanation": "Your run held 5 ms."`) {
		t.Errorf("the progress file does not carry the exercise: %s", file)
	}
}

// Answers belong to a learner: a connection without a learner cookie is
// told to get one.
func TestAnAnswerNeedsALearner(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	c, err := dialAs(t, &server{url: s.url}, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"op": "answer", "question": "bench-q", "value": 1})
	m := c.next("an error", typ("error"))
	if msg, _ := m["message"].(string); !strings.Contains(msg, "learner cookie") {
		t.Errorf("an answer without a learner: %v", m)
	}
}

// /glossary lists every term, and a lesson's first use of a term links
// there with its definition beside it.
func TestGlossaryPage(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	resp, err := http.Get(s.url + "/glossary")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{`id="tlb"`, `id="gomaxprocs"`, `id="futex"`, "Translation lookaside buffer", `href="/lessons/context-switching"`} {
		if !strings.Contains(page, want) {
			t.Errorf("/glossary lacks %q", want)
		}
	}
	_, lesson := getAs(t, s.url+"/lessons/context-switching", "")
	if !strings.Contains(lesson, `<a href="/glossary#tlb" data-term="tlb" aria-describedby="tip-tlb">TLB</a><span class="term-tip" role="tooltip" id="tip-tlb">`) {
		t.Error("the lesson's first use of TLB is not linked with its definition")
	}
}

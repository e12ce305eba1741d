package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/a-h/templ"

	"conclab/internal/course"
	"conclab/internal/learner"
	"conclab/lessons"
	"conclab/web/ui"
)

var (
	classCourseOnce sync.Once
	classCourse     *course.Course
)

// assignCourse is the course with the test bench as a lesson with a page,
// so that its exercise and questions, answered in milliseconds, can be
// assigned.
func assignCourse() *course.Course {
	classCourseOnce.Do(func() {
		bench := benchLesson
		bench.Page = func(ui.Page) templ.Component {
			return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
				_, err := io.WriteString(w, "<p>The test bench.</p>")
				return err
			})
		}
		classCourse = course.MustNew(append(slices.Clone(lessons.All), bench)...)
	})
	return classCourse
}

// assignment waits for a class view whose assignment satisfies ok.
func assignment(c *client, what string, ok func(a map[string]any, q []map[string]any) bool) map[string]any {
	c.t.Helper()
	m := c.next(what, func(m map[string]any) bool {
		a, _ := m["assignment"].(map[string]any)
		if m["type"] != "class" || a == nil {
			return false
		}
		var qs []map[string]any
		for _, q := range a["questions"].([]any) {
			qs = append(qs, q.(map[string]any))
		}
		return ok(a, qs)
	})
	return m["assignment"].(map[string]any)
}

// collect returns what c is sent until a message ok accepts (included).
func collect(c *client, what string, ok func(m map[string]any) bool) []map[string]any {
	c.t.Helper()
	var got []map[string]any
	c.next(what, func(m map[string]any) bool {
		got = append(got, m)
		return ok(m)
	})
	return got
}

// The instructor assigns from the dashboard's connection: a student
// cannot; bad ids get clear errors; followers are sent to the task, not a
// page that stopped following; and the instructor's view counts the
// class's answers as they come — earlier ones too, never the
// instructor's — and an exercise's runs as they come in. The CSV lists
// every answer, for the instructor alone.
func TestAssignOverTheWebsocket(t *testing.T) {
	t.Parallel()
	s := newStoredServerWith(t, assignCourse())
	srv := &server{url: s.url}
	teacher := instructorCookies(t, s.url)
	dash, err := dialAs(t, srv, "", "?class", teacher)
	if err != nil {
		t.Fatal(err)
	}
	cookies := map[string]string{}
	pages := map[string]*client{}
	for name, query := range map[string]string{"ann": "?lesson=test-bench", "bob": "?lesson=test-bench", "cy": "?lesson=context-switching", "dee": "?lesson=test-bench&follow=0"} {
		cookies[name] = cookiesOf(t, s.url)
		if pages[name], err = dialAs(t, srv, "", query, cookies[name]); err != nil {
			t.Fatal(err)
		}
	}
	answer := func(who *client, q string, v float64) {
		who.send(map[string]any{"op": "answer", "question": q, "value": v})
		who.next("the answer to "+q, func(m map[string]any) bool { return m["question"] == q || m["exercise"] == q })
	}
	answer(pages["ann"], "bench-q", 1) // before anything is assigned

	pages["ann"].send(map[string]any{"op": "assign", "lesson": "test-bench", "question": "bench-q"})
	if e := pages["ann"].next("refusal", typ("error")); !strings.Contains(e["message"].(string), "only the instructor may assign") {
		t.Errorf("assign from a student: %v", e)
	}
	for _, bad := range []struct {
		req  map[string]any
		want string
	}{
		{map[string]any{"lesson": "nope", "question": "bench-q"}, `unknown lesson "nope"`},
		{map[string]any{"lesson": "test-bench"}, "assign one thing at a time"},
		{map[string]any{"lesson": "test-bench", "question": "bench-q", "self_check": true}, "assign one thing at a time"},
		{map[string]any{"lesson": "test-bench", "exercise": "cs-ex-batch"}, `lesson test-bench has no exercise "cs-ex-batch"`},
		{map[string]any{"lesson": "test-bench", "question": "no-such"}, `has no self-check question "no-such"`},
	} {
		bad.req["op"] = "assign"
		dash.send(bad.req)
		e := dash.next("an error", typ("error"))
		if msg, _ := e["message"].(string); !strings.Contains(msg, bad.want) || e["op"] != "assign" {
			t.Errorf("assign %v: %v, want an error saying %q", bad.req, e, bad.want)
		}
	}

	dash.send(map[string]any{"op": "assign", "lesson": "test-bench", "question": "bench-q"})
	if m := dash.next("assigned", typ("assigned")); m["anchor"] != "q-bench-q" || m["kind"] != "question" || m["title"] != "Pick the second." {
		t.Errorf("assigned %v", m)
	}
	for _, name := range []string{"ann", "bob", "cy"} {
		if m := pages[name].next("the move", typ("present")); m["lesson"] != "test-bench" || m["anchor"] != "q-bench-q" {
			t.Errorf("%s was sent %v", name, m)
		}
	}
	// dee's round trip, answered after anything sent to dee before it.
	pages["dee"].send(map[string]any{"op": "follow", "on": false})
	for _, m := range collect(pages["dee"], "dee's confirmation", typ("following")) {
		if m["type"] == "present" {
			t.Error("a page that stopped following was sent to the assignment")
		}
	}

	a := assignment(dash, "ann's earlier answer counted", func(a map[string]any, q []map[string]any) bool { return q[0]["answered"] == 1.0 })
	if q := a["questions"].([]any)[0].(map[string]any); fmt.Sprint(q["counts"]) != "[0 1 0]" || q["right"] != 1.0 || q["key"] != "second" || a["learners"] != 3.0 {
		t.Errorf("the tally of ann's earlier answer: %v (learners on the lesson %v)", q, a["learners"])
	}
	answer(pages["bob"], "bench-q", 0)
	answer(dash, "bench-q", 2) // the instructor's own: not the class's
	answer(pages["cy"], "bench-q", 2)
	a = assignment(dash, "cy's answer", func(_ map[string]any, q []map[string]any) bool { return q[0]["counts"].([]any)[2] == 1.0 })
	if q := a["questions"].([]any)[0].(map[string]any); fmt.Sprint(q["counts"]) != "[1 1 1]" || q["answered"] != 3.0 || q["right"] != 1.0 {
		t.Errorf("after bob, the instructor and cy answered: %v", q)
	}

	// An exercise: answered is not done; done once the learner's run is in.
	dash.send(map[string]any{"op": "assign", "lesson": "test-bench", "exercise": "bench-ex"})
	dash.next("assigned", typ("assigned"))
	pages["bob"].next("the move", func(m map[string]any) bool { return m["type"] == "present" && m["anchor"] == "ex-bench-ex" })
	answer(pages["bob"], "bench-ex", 0)
	answer(pages["cy"], "bench-ex", 1)
	assignment(dash, "two answers, none done", func(a map[string]any, q []map[string]any) bool {
		return a["id"] == "bench-ex" && q[0]["answered"] == 2.0 && q[0]["done"] == 0.0
	})
	pages["bob"].send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 5}, "fresh": true})
	pages["bob"].next("bob's run to end", typ("done"))
	pages["bob"].send(map[string]any{"op": "exercise", "exercise": "bench-ex"})
	pages["bob"].next("the exercise done", func(m map[string]any) bool { return m["type"] == "exercise" && m["done"] == true })
	assignment(dash, "bob's exercise done and right", func(_ map[string]any, q []map[string]any) bool {
		return q[0]["done"] == 1.0 && q[0]["right"] == 1.0 && q[0]["answered"] == 2.0
	})

	// The dashboard, as it is first drawn: what can be assigned, and the tally.
	_, page := getAs(t, s.url+"/class", teacher)
	for _, want := range []string{`data-testid="assign-form"`, `value="exercise:bench-ex" data-lesson="test-bench"`, `value="self-check" data-lesson="context-switching"`,
		`value="question:cs-q-saves"`, "Exercise: Hold briefly", "2 answered; 1 done (their runs are in), 1 of them right."} {
		if !strings.Contains(page, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	if strings.Contains(page, `<tr data-right`) {
		t.Error("an exercise's tally marks a right answer: its runs decide it")
	}

	// The CSV: every answer, the instructor's only.
	for _, cookie := range []string{"", cookies["ann"]} {
		if resp, _ := getAs(t, s.url+"/class/answers.csv", cookie); resp.StatusCode != http.StatusForbidden {
			t.Errorf("the answers CSV with cookie %q: %d, want 403", cookie, resp.StatusCode)
		}
	}
	resp, body := getAs(t, s.url+"/class/answers.csv", teacher)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the answers CSV: %d %v", resp.StatusCode, err)
	}
	if len(rows) != 7 || strings.Join(rows[0], ",") != "learner,lesson,kind,question,text,value,answer,result,at" {
		t.Fatalf("CSV %v; want a header and six answers", rows)
	}
	name := func(who string) string { return learner.ID(learnerOf(cookies[who])).Name() }
	want := map[string]string{
		name("ann") + " bench-q":  "test-bench,question,bench-q,Pick the second.,1,second,right",
		name("bob") + " bench-q":  "test-bench,question,bench-q,Pick the second.,0,first,wrong",
		name("cy") + " bench-q":   "test-bench,question,bench-q,Pick the second.,2,third,wrong",
		name("bob") + " bench-ex": "test-bench,exercise,bench-ex,Will it hold for less than 100 ms?,0,yes,right",
		name("cy") + " bench-ex":  "test-bench,exercise,bench-ex,Will it hold for less than 100 ms?,1,no,pending",
	}
	for _, r := range rows[1:] {
		if w, ok := want[r[0]+" "+r[3]]; ok {
			if got := strings.Join(r[1:8], ","); got != w {
				t.Errorf("the row of %s's answer to %s: %s, want %s", r[0], r[3], got, w)
			}
			delete(want, r[0]+" "+r[3])
		}
	}
	if len(want) > 0 {
		t.Errorf("the CSV lacks %v", want)
	}
}

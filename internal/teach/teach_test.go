package teach

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"conclab/internal/lab"
)

func experiment() *lab.Experiment {
	return &lab.Experiment{ID: "demo", Title: "Demo",
		Params: []lab.Param{lab.Int("workers", "Workers", 4, 1, 64, "how many"), lab.Bool("pin", "Pin", true, "pin or not")},
		Run:    func(context.Context, lab.Params, *lab.Emitter) error { return nil }}
}

func find(id string) (*lab.Experiment, bool) {
	if id == "demo" {
		return experiment(), true
	}
	return nil, false
}

func TestQuestionValues(t *testing.T) {
	t.Parallel()
	choice := Question{ID: "q", Text: "?", Choices: []string{"a", "b", "c"}, Right: 1, Explain: "because"}
	number := Question{ID: "n", Text: "?", Min: 0, Max: 100, Lo: 10, Hi: 20, Explain: "because"}
	for _, tc := range []struct {
		q      Question
		v      float64
		ok     bool
		right  bool
		reason string
	}{
		{choice, 1, true, true, "the right choice"},
		{choice, 0, true, false, "another choice"},
		{choice, 2, true, false, "the last choice"},
		{choice, 3, false, false, "past the last choice"},
		{choice, -1, false, false, "a negative index"},
		{choice, 0.5, false, false, "half a choice"},
		{number, 10, true, true, "the low edge"},
		{number, 20, true, true, "the high edge"},
		{number, 21, true, false, "just past it"},
		{number, 100, true, false, "the top of the range"},
		{number, 101, false, false, "out of range"},
	} {
		err := tc.q.Value(tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Value(%v) = %v, want ok %v", tc.reason, tc.v, err, tc.ok)
		}
		if tc.ok && tc.q.Correct(tc.v) != tc.right {
			t.Errorf("%s: Correct(%v) = %v, want %v", tc.reason, tc.v, !tc.right, tc.right)
		}
	}
}

func TestPlanCheck(t *testing.T) {
	t.Parallel()
	good := Exercise{ID: "ex-one", Title: "One", Task: "Run it.", Needs: []Need{{Experiment: "demo", Params: map[string]any{"workers": 8}, Keys: []string{"a.b"}}},
		Question: Question{Text: "?", Choices: []string{"x", "y"}, Explain: "why"}}
	if err := (Plan{Exercises: []Exercise{good}}).Check(find); err != nil {
		t.Fatalf("a good exercise: %v", err)
	}
	bad := func(change func(*Exercise)) Exercise {
		x := good
		x.Needs = append([]Need(nil), good.Needs...)
		change(&x)
		return x
	}
	for name, x := range map[string]Exercise{
		"no needs":             bad(func(x *Exercise) { x.Needs = nil }),
		"unknown experiment":   bad(func(x *Exercise) { x.Needs[0].Experiment = "nope" }),
		"parameter too large":  bad(func(x *Exercise) { x.Needs[0].Params = map[string]any{"workers": 1000} }),
		"unknown parameter":    bad(func(x *Exercise) { x.Needs[0].Params = map[string]any{"cores": 2} }),
		"bad key":              bad(func(x *Exercise) { x.Needs[0].Keys = []string{"Not A Key"} }),
		"bad id":               bad(func(x *Exercise) { x.ID = "Ex One" }),
		"question of its own":  bad(func(x *Exercise) { x.Question.ID = "other" }),
		"no task":              bad(func(x *Exercise) { x.Task = "" }),
		"right choice missing": bad(func(x *Exercise) { x.Question.Right = 2 }),
	} {
		if err := (Plan{Exercises: []Exercise{x}}).Check(find); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, q := range map[string]Question{
		"one choice":    {ID: "q", Text: "?", Choices: []string{"x"}, Explain: "e"},
		"no explain":    {ID: "q", Text: "?", Choices: []string{"x", "y"}},
		"range upside":  {ID: "q", Text: "?", Min: 10, Max: 1, Explain: "e"},
		"right outside": {ID: "q", Text: "?", Min: 0, Max: 10, Lo: 5, Hi: 11, Explain: "e"},
	} {
		if err := (Plan{Questions: []Question{q}}).Check(find); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (Plan{Reading: []Link{{Title: "x", URL: "ftp://example.org", Why: "y"}}}).Check(find); err == nil {
		t.Error("a link that is not a web address: accepted")
	}
}

func TestGatherPicksTheNewestMatchingRun(t *testing.T) {
	t.Parallel()
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	x := Exercise{Needs: []Need{
		{Experiment: "demo", Params: map[string]any{"workers": 8}},
		{Experiment: "demo", Params: map[string]any{"workers": 1, "pin": false}},
	}}
	runs := []Run{
		{ID: "a", Experiment: "demo", Params: map[string]any{"workers": 8.0, "pin": true}, Ended: at(1)},
		{ID: "b", Experiment: "demo", Params: map[string]any{"workers": 8.0, "pin": false}, Ended: at(3)},
		{ID: "c", Experiment: "demo", Params: map[string]any{"workers": 1.0, "pin": true}, Ended: at(4)},
		{ID: "d", Experiment: "other", Params: map[string]any{"workers": 1.0, "pin": false}, Ended: at(5)},
	}
	ev := x.Gather(runs, find)
	if got := ev.Runs[0].ID; got != "b" {
		t.Errorf("need 1 matched run %q, want the newest with 8 workers, b", got)
	}
	if ev.Runs[1].ID != "" || ev.Complete() {
		t.Errorf("need 2 matched run %q; no run has 1 worker unpinned", ev.Runs[1].ID)
	}
	runs = append(runs, Run{ID: "e", Experiment: "demo", Params: map[string]any{"workers": "1", "pin": false, "dropped": 3.0}, Ended: at(6)})
	if ev := x.Gather(runs, find); ev.Runs[1].ID != "e" || !ev.Complete() {
		t.Errorf("need 2 matched %q, want e (its values read through the experiment's parameters)", ev.Runs[1].ID)
	}
}

func TestSettle(t *testing.T) {
	t.Parallel()
	ev := Evidence{Runs: []Run{{ID: "r", Metrics: []lab.Metric{{Key: "cost", Value: 12, Unit: "µs"}}}}}
	x := Exercise{ID: "x", Question: Question{Choices: []string{"cheap", "dear"}, Right: 0, Explain: "static"},
		Judge: func(ev Evidence, v float64) (bool, bool) {
			c, ok := ev.Value(0, "cost")
			return (c > 10) == (v == 1), ok
		},
		Explain: func(ev Evidence) string { return "your run: " + ev.Figure(0, "cost") },
	}
	if o := x.Settle(ev, 1); !o.Right || !o.Known || o.Explanation != "your run: 12 µs" {
		t.Errorf("Settle = %+v, want right, known, from the run's figure", o)
	}
	if o := x.Settle(ev, 0); o.Right {
		t.Errorf("the wrong choice was judged right: %+v", o)
	}
	if o := x.Settle(Evidence{Runs: []Run{{ID: "r"}}}, 1); o.Right || o.Known || !strings.Contains(o.Explanation, "not measured") {
		t.Errorf("a run without the figure: %+v, want not known and said so", o)
	}
	x.Judge, x.Explain = nil, nil
	if o := x.Settle(ev, 0); !o.Right || o.Explanation != "static" {
		t.Errorf("without Judge and Explain: %+v, want the question's own answer", o)
	}
}

func TestParseSnippets(t *testing.T) {
	t.Parallel()
	src := "package x\n\nfunc f() {\n\t// snippet:loop\n\tfor i := 0; i < 3; i++ {\n\t\tg(i)\n\t}\n\n\t// end snippet\n}\n"
	got, err := ParseSnippets("x.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Snippet{Name: "loop", File: "x.go", Line: 5, Code: "for i := 0; i < 3; i++ {\n\tg(i)\n}"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	py := "# snippet:py\n\ndef f():\n    pass\n# end snippet\n"
	if got, err := ParseSnippets("x.py", []byte(py)); err != nil || len(got) != 1 || got[0].Code != "def f():\n    pass" || got[0].Line != 3 {
		t.Errorf("python: %+v, %v", got, err)
	}
	for name, src := range map[string]string{
		"nested":         "// snippet:a\n// snippet:b\nx\n// end snippet\n// end snippet\n",
		"end alone":      "x\n// end snippet\n",
		"never ended":    "// snippet:a\nx\n",
		"empty":          "// snippet:a\n\n// end snippet\n",
		"bad name":       "// snippet:A b\nx\n// end snippet\n",
		"repeated":       "// snippet:a\nx\n// end snippet\n// snippet:a\ny\n// end snippet\n",
		"too long":       "// snippet:a\n" + strings.Repeat("x\n", MaxSnippetLines+1) + "// end snippet\n",
		"python unended": "# snippet:a\nx\n",
	} {
		if _, err := ParseSnippets("f.go", []byte(src)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSnippetsAcrossSources(t *testing.T) {
	t.Parallel()
	a := fstest.MapFS{"a.go": {Data: []byte("// snippet:one\nx\n// end snippet\n")}, "a_templ.go": {Data: []byte("// snippet:one\n")}}
	b := fstest.MapFS{"b.py": {Data: []byte("# snippet:two\ny\n# end snippet\n")}}
	got, err := Snippets(Source{"lessons/a", a}, Source{"internal/b", b})
	if err != nil {
		t.Fatal(err)
	}
	if got["one"].File != "lessons/a/a.go" || got["two"].File != "internal/b/b.py" {
		t.Errorf("got %+v", got)
	}
	if _, err := Snippets(Source{"a", a}, Source{"a2", a}); err == nil {
		t.Error("the same name in two sources: accepted")
	}
}

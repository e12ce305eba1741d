package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/a-h/templ"

	"conclab/internal/course"
	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/lessons"
	"conclab/web/ui"
)

// eighth is a lesson made only of its descriptor, as lessons/README.md says
// a new lesson is: a page, an experiment, its own stylesheet and a figure
// for the recap.
func eighth() course.Lesson {
	return course.Lesson{
		Slug: "eighth-lesson", Title: "The eighth lesson", Summary: "A lesson added by one line in the course's list.",
		Page:        func(p ui.Page) templ.Component { return p.Panel("eighth-exp") },
		Experiments: []*lab.Experiment{{ID: "eighth-exp", Title: "Eighth", Run: func(context.Context, lab.Params, *lab.Emitter) error { return nil }}},
		Assets:      fstest.MapFS{"page.css": {Data: []byte(".eighth{color:red}")}},
		Styles:      []string{"page.css"},
		Recap:       []ui.RecapFigure{{Group: ui.RecapSpeedups, Experiment: "eighth-exp", Key: "eighth.figure", What: "The eighth figure", Claim: "whatever it is"}},
	}
}

// Adding a lesson is one more value in the course's list: the index, the
// numbering, the navigation, its page, its assets and the registry all
// follow from it, and nothing else needs to change.
func TestAnEighthLessonIsOneLine(t *testing.T) {
	t.Parallel()
	c := course.MustNew(append(slices.Clone(lessons.All), eighth())...)
	h, _ := newHandlerWithCourse(t, engine.Config{}, c)
	get := func(path string) (int, string, http.Header) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String(), rec.Header()
	}
	n := len(lessons.All) + 1

	_, index, _ := get("/")
	if got := strings.Count(index, `class="lesson-card`); got != n {
		t.Errorf("the index lists %d lessons, want %d", got, n)
	}
	if !strings.Contains(index, `href="/lessons/eighth-lesson"`) || !strings.Contains(index, "The eighth lesson") {
		t.Error("the index does not link the eighth lesson")
	}

	code, page, _ := get("/lessons/eighth-lesson")
	if code != 200 {
		t.Fatalf("the eighth lesson's page: %d", code)
	}
	for _, want := range []string{
		fmt.Sprintf("Lesson %d of %d", n, n),
		`data-experiment="eighth-exp"`,
		`href="/lessons/` + lessons.All[n-2].Slug + `"`, // back to the lesson before
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the eighth lesson's page lacks %q", want)
		}
	}
	css := regexp.MustCompile(`href="(/static/lessons/eighth-lesson/page\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if css == nil {
		t.Fatal("the eighth lesson's page does not link its own stylesheet")
	}
	code, body, hdr := get(css[1])
	if code != 200 || body != ".eighth{color:red}" || !strings.Contains(hdr.Get("Cache-Control"), "immutable") {
		t.Errorf("its stylesheet: %d %q, Cache-Control %q", code, body, hdr.Get("Cache-Control"))
	}
	if code, _, _ := get("/static/lessons/eighth-lesson/nothing.css"); code != 404 {
		t.Errorf("a missing asset: %d, want 404", code)
	}

	_, before, _ := get("/lessons/" + lessons.All[n-2].Slug)
	if !strings.Contains(before, `href="/lessons/eighth-lesson"`) {
		t.Error("the lesson before does not link on to the eighth")
	}
	if _, api, _ := get("/api/experiments"); !strings.Contains(api, `"id": "eighth-exp"`) {
		t.Error("/api/experiments lacks the eighth lesson's experiment")
	}
	if _, ok := c.Registry().Lookup("eighth-exp"); !ok {
		t.Error("the registry lacks the eighth lesson's experiment")
	}
	if r := c.Recap(); r[len(r)-1].Experiment != "eighth-exp" || r[len(r)-1].Lesson.Number != n {
		t.Errorf("the recap's last figure is %+v, want the eighth lesson's", r[len(r)-1])
	}
}

package choosing

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/web/ui"
)

// The recap's tests hand the page made-up lessons, figures and runs: the
// recap knows nothing of the real course beyond what the page gives it.
var (
	lessonA   = ui.Lesson{Number: 1, Slug: "lesson-a", Title: "Lesson A"}
	lessonB   = ui.Lesson{Number: 3, Slug: "lesson-b", Title: "Lesson B"}
	thisOne   = ui.Lesson{Number: 7, Slug: Slug, Title: "Choosing a model"}
	fakeRecap = []ui.RecapFigure{
		{Group: ui.RecapSpeedups, Experiment: "exp-a", Key: "speedup.a", What: "Figure A1", Claim: "about 2×", Lesson: lessonA},
		{Group: "Odd ones", Experiment: "exp-a", Key: "odd.a", What: "Figure A2", Claim: "odd", Lesson: lessonA},
		{Group: ui.RecapSwitches, Experiment: "exp-b", Key: "switch.b", What: "Figure B1", Claim: "1–10 µs", Lesson: lessonB},
		{Group: ui.RecapSpeedups, Experiment: "exp-b", Key: "speedup.b", What: "Figure B2", Claim: "gone", Lesson: lessonB},
		{Group: ui.RecapSpeedups, Experiment: ID, Key: keySpeedup, What: "Figure C1", Claim: "depends", Lesson: thisOne},
	}
	ended = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
)

func render(t *testing.T, p ui.Page) string {
	t.Helper()
	var buf bytes.Buffer
	if err := recapTableView(recapBlocks(p)).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	rowRE   = regexp.MustCompile(`(?s)<tr data-recap="([^"]+)" data-state="([^"]+)">(.*?)</tr>`)
	groupRE = regexp.MustCompile(`<th scope="rowgroup" colspan="5">([^<]*)</th>`)
	whatRE  = regexp.MustCompile(`<th scope="row">([^<]*)</th>`)
)

type row struct{ exp, state, what, html string }

func rows(t *testing.T, page string) []row {
	t.Helper()
	var out []row
	for _, m := range rowRE.FindAllStringSubmatch(page, -1) {
		out = append(out, row{exp: m[1], state: m[2], what: whatRE.FindStringSubmatch(m[3])[1], html: m[3]})
	}
	return out
}

func byWhat(t *testing.T, rs []row, what string) row {
	t.Helper()
	for _, r := range rs {
		if r.what == what {
			return r
		}
	}
	t.Fatalf("no recap row %q", what)
	return row{}
}

// Blocks come in the order of ui.RecapGroups, a group it does not list
// after them, no block without rows; rows keep the course's order.
func TestRecapGroupsInOrder(t *testing.T) {
	t.Parallel()
	page := render(t, ui.Page{Recap: fakeRecap})
	var groups []string
	for _, m := range groupRE.FindAllStringSubmatch(page, -1) {
		groups = append(groups, m[1])
	}
	if want := []string{ui.RecapSwitches, ui.RecapSpeedups, "Odd ones"}; !slices.Equal(groups, want) {
		t.Errorf("blocks %q, want %q", groups, want)
	}
	var whats []string
	for _, r := range rows(t, page) {
		whats = append(whats, r.what)
	}
	if want := []string{"Figure B1", "Figure A1", "Figure B2", "Figure C1", "Figure A2"}; !slices.Equal(whats, want) {
		t.Errorf("rows %q, want %q", whats, want)
	}
}

// Without any run (no scheduler, or one that has seen no runs), every row
// says so and links to where its experiment runs, named by its lesson's
// number and title; this lesson's own rows say they are above.
func TestRecapWithoutRuns(t *testing.T) {
	t.Parallel()
	for name, latest := range map[string]map[string]ui.Measured{"nil Latest": nil, "no runs": {}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rs := rows(t, render(t, ui.Page{Recap: fakeRecap, Latest: latest}))
			if len(rs) != len(fakeRecap) {
				t.Fatalf("%d rows, want one per figure (%d)", len(rs), len(fakeRecap))
			}
			for _, r := range rs {
				if r.state != "none" || !strings.Contains(r.html, "no run yet") {
					t.Errorf("%s: state %q, want none with \"no run yet\"", r.what, r.state)
				}
			}
			for what, link := range map[string]string{
				"Figure A1": `<a href="/lessons/lesson-a#exp-exp-a">Run it: 1. Lesson A</a>`,
				"Figure B1": `<a href="/lessons/lesson-b#exp-exp-b">Run it: 3. Lesson B</a>`,
				"Figure C1": `<a href="/lessons/choosing#exp-workload-lab">Run it: 7. Choosing a model (above)</a>`,
			} {
				if r := byWhat(t, rs, what); !strings.Contains(r.html, link) {
					t.Errorf("%s: no link %s in %s", what, link, r.html)
				}
			}
		})
	}
}

// With runs, each row shows its figure found by key in its experiment's
// latest result, with the metric's name, n and the run's time; a run that
// lacks the key says so and names the key; an experiment without a run
// says "no run yet". Every figure cell carries data-fill and data-key.
func TestRecapFillsByKey(t *testing.T) {
	t.Parallel()
	latest := map[string]ui.Measured{
		"exp-a": {Ended: ended, Metrics: []lab.Metric{
			{Key: "speedup.a.other", Name: "A decoy with a longer key", Value: 99, Unit: "×"},
			{Key: "speedup.a", Name: "Speedup of A", Value: 2.345, Unit: "×", N: 12},
			{Key: "odd.a", Name: "Odd figure of A", Value: 12345, Unit: "things"},
		}},
		// exp-b ran, but its result has neither of the recap's keys.
		"exp-b": {Ended: ended, Metrics: []lab.Metric{{Key: "switch.b.other", Name: "Switch of B", Value: 1, Unit: "µs"}}},
	}
	page := render(t, ui.Page{Recap: fakeRecap, Latest: latest})
	rs := rows(t, page)

	for _, c := range []struct{ what, value, metric string }{
		{"Figure A1", "2.35 ×", "Speedup of A · n = 12"},
		{"Figure A2", "12,345 things", "Odd figure of A"},
	} {
		r := byWhat(t, rs, c.what)
		if r.state != "ran" || !strings.Contains(r.html, c.value) || !strings.Contains(strings.Join(strings.Fields(r.html), " "), c.metric) {
			t.Errorf("%s: state %q, want ran with %q and %q: %s", c.what, r.state, c.value, c.metric, r.html)
		}
		if !strings.Contains(r.html, "Mar 14, 09:26:53 UTC") || !strings.Contains(r.html, `datetime="2025-03-14T09:26:53Z"`) {
			t.Errorf("%s: no run time in %s", c.what, r.html)
		}
		if !strings.Contains(r.html, `<a href="/lessons/lesson-a#exp-exp-a">1. Lesson A</a>`) {
			t.Errorf("%s: no link to its lesson in %s", c.what, r.html)
		}
	}
	for _, c := range []struct{ what, key string }{{"Figure B1", "switch.b"}, {"Figure B2", "speedup.b"}} {
		r := byWhat(t, rs, c.what)
		if r.state != "missing" || !strings.Contains(r.html, "not in the last run") || !strings.Contains(r.html, "no figure with the key <code>"+c.key+"</code>") {
			t.Errorf("%s: state %q, want missing, naming the key %s: %s", c.what, r.state, c.key, r.html)
		}
	}
	if r := byWhat(t, rs, "Figure C1"); r.state != "none" || !strings.Contains(r.html, "no run yet") || !strings.Contains(r.html, "–") {
		t.Errorf("Figure C1: state %q, want none: %s", r.state, r.html)
	}
	for _, f := range fakeRecap {
		cell := `<span class="figure" data-fill="` + f.Experiment + `" data-key="` + f.Key + `">`
		if !strings.Contains(page, cell) {
			t.Errorf("%s: no cell %s", f.What, cell)
		}
	}
}

// A run with no metrics counts as a run without the figure.
func TestRecapRunWithoutFigures(t *testing.T) {
	t.Parallel()
	latest := map[string]ui.Measured{}
	for _, f := range fakeRecap[:1] {
		latest[f.Experiment] = ui.Measured{Ended: ended}
	}
	for _, r := range rows(t, render(t, ui.Page{Recap: fakeRecap[:1], Latest: latest})) {
		if r.state != "missing" {
			t.Errorf("%s: state %q, want missing", r.what, r.state)
		}
	}
}

// No figures, no blocks: the table is there, empty.
func TestRecapWithoutFigures(t *testing.T) {
	t.Parallel()
	page := render(t, ui.Page{})
	if !strings.Contains(page, `data-testid="recap"`) || strings.Contains(page, "<tbody>") {
		t.Errorf("want an empty recap table, got %s", page)
	}
}

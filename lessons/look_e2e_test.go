package lessons_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
	"conclab/internal/lab"
	"conclab/lessons"
)

// What a page shows, checked in the page as a person would look at it.
// Each check returns a list of what is wrong, empty when all is well.
const (
	// hiddenShown: an element with the hidden attribute that a display
	// rule brings back on screen.
	hiddenShown = `[...document.querySelectorAll('[hidden]')].filter((e) => getComputedStyle(e).display !== 'none')
		.map((e) => 'shown though hidden: <' + e.localName + ' class="' + e.className + '">' + e.textContent.trim().slice(0, 60))`

	// lookHelpers measure text as drawn: its box on screen, and its size
	// once the SVG it is in is scaled to its box.
	lookHelpers = `const box = (e) => e.getBoundingClientRect();
		const px = (t) => { const m = t.getScreenCTM(); return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b); };
		const meet = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 3;
		const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
		const shown = (e) => e.getClientRects().length > 0;
		const words = (t) => JSON.stringify(t.textContent.trim().slice(0, 40));`

	// chartTrouble: in every chart drawn, text that overlaps other text,
	// runs out of the drawing or is under 11 px; series that share a
	// colour, or more series than colours.
	chartTrouble = `(() => { ` + lookHelpers + `
		const out = [];
		for (const svg of document.querySelectorAll('.plot svg.chart-svg')) {
			if (!shown(svg)) continue;
			const name = svg.closest('figure')?.dataset.chart + ' of ' + (svg.closest('[data-experiment]')?.dataset.experiment ?? 'the page');
			const frame = box(svg);
			const texts = [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim() !== '' && shown(t));
			const boxes = texts.map(box);
			texts.forEach((t, i) => {
				if (!inside(boxes[i], frame)) out.push(name + ': ' + words(t) + ' runs out of the chart');
				if (px(t) < 10.9) out.push(name + ': ' + words(t) + ' is ' + px(t).toFixed(1) + ' px');
				for (let j = 0; j < i; j++) if (meet(boxes[i], boxes[j])) out.push(name + ': ' + words(t) + ' overlaps ' + words(texts[j]));
			});
			if (+svg.dataset.series > 12) out.push(name + ': ' + svg.dataset.series + ' series for 12 colours');
			const colour = new Map();
			for (const e of svg.querySelectorAll('.bar, .line, .hbar, .span')) {
				const s = [...e.classList].find((c) => /^s\d+$/.test(c));
				const cs = getComputedStyle(e);
				colour.set(s, e.classList.contains('line') || e.classList.contains('run-b') ? cs.stroke : cs.fill);
			}
			const seen = new Map();
			for (const [s, c] of colour) {
				if (seen.has(c)) out.push(name + ': series ' + s + ' and ' + seen.get(c) + ' are both ' + c);
				seen.set(c, s);
			}
		}
		return out; })()`

	// diagramTrouble: in every diagram of the lesson's prose, text under
	// 11 px, text that overlaps other text, or text that runs out of the
	// smallest box it starts in (or out of the drawing).
	diagramTrouble = `(() => { ` + lookHelpers + `
		const out = [];
		for (const svg of document.querySelectorAll('figure.diagram svg, figure svg[role="img"]')) {
			if (!shown(svg)) continue;
			const name = svg.getAttribute('aria-labelledby') || 'a diagram';
			const frame = box(svg);
			const rects = [...svg.querySelectorAll('rect')].filter(shown).map(box);
			const texts = [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim() !== '' && shown(t));
			const boxes = texts.map(box);
			texts.forEach((t, i) => {
				const b = boxes[i];
				if (px(t) < 10.9) out.push(name + ': ' + words(t) + ' is ' + px(t).toFixed(1) + ' px');
				if (!inside(b, frame)) out.push(name + ': ' + words(t) + ' runs out of the drawing');
				const cx = b.left + Math.min(8, b.width / 2), cy = (b.top + b.bottom) / 2;
				const home = rects.filter((r) => cx >= r.left && cx <= r.right && cy >= r.top && cy <= r.bottom)
					.sort((a, c) => a.width * a.height - c.width * c.height)[0];
				if (home && !inside(b, home)) out.push(name + ': ' + words(t) + ' runs out of its box');
				for (let j = 0; j < i; j++) if (meet(b, boxes[j])) out.push(name + ': ' + words(t) + ' overlaps ' + words(texts[j]));
			});
		}
		return out; })()`
)

// chartsFit: every chart is drawn as wide as its box (after a resize, a
// chart is drawn again at its new width).
const chartsFit = `[...document.querySelectorAll('.plot svg.chart-svg')].every((s) => {
	if (s.getClientRects().length === 0) return true;
	return Math.abs(+s.dataset.w - Math.max(280, s.getBoundingClientRect().width)) < 1;
})`

// look fails the test for anything the checks find on the page.
func look(t *testing.T, b *e2e.Browser, where string, checks ...string) {
	t.Helper()
	b.WaitFor(t, "the charts of "+where+" drawn at their width", chartsFit)
	for _, c := range checks {
		for _, p := range e2e.Eval[[]string](t, b, c) {
			t.Errorf("%s: %s", where, p)
		}
	}
}

// axe fails the test for every axe-core violation on the page, in light
// mode and in dark.
func axe(t *testing.T, b *e2e.Browser, where string) {
	t.Helper()
	for _, dark := range []bool{false, true} {
		b.ColorScheme(t, dark)
		for _, v := range b.Axe(t) {
			t.Errorf("%s (dark mode %v): %s", where, dark, v)
		}
	}
	b.ColorScheme(t, false)
}

// open navigates to a page and waits until its scripts have run.
func open(t *testing.T, b *e2e.Browser, url string) {
	t.Helper()
	b.Do(t, chromedp.Navigate(url))
	b.WaitFor(t, "the page to load", `document.readyState === 'complete'`)
}

// panelOf is the JavaScript for an experiment's panel.
func panelOf(id string) string {
	return `document.querySelector('[data-experiment="` + id + `"]')`
}

// runQuick runs an experiment from its panel with its quick settings, as
// a learner who typed them would, and waits until it has finished.
func runQuick(t *testing.T, b *e2e.Browser, e *lab.Experiment) {
	t.Helper()
	panel := panelOf(e.ID)
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	setQuick(t, b, e)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="`+e.ID+`"] button.run`)))
	ended := `['finished', 'failed', 'timeout', 'cancelled'].includes(` + panel + `.querySelector('.status').dataset.state)`
	b.WaitFor(t, e.ID+" to end", ended)
	if e2e.Eval[bool](t, b, panel+`.querySelector('.offer').hidden === false`) {
		// An identical run finished a moment ago: measure it again.
		b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="`+e.ID+`"] button.fresh`)))
		b.WaitFor(t, e.ID+" to end again", panel+`.querySelector('.offer').hidden && `+ended)
	}
	if s := e2e.Eval[string](t, b, panel+`.querySelector('.status').textContent`); !strings.HasPrefix(s, "Finished") {
		t.Fatalf("%s ended: %s", e.ID, s)
	}
}

// setQuick puts an experiment's quick settings in its panel's form.
func setQuick(t *testing.T, b *e2e.Browser, e *lab.Experiment) {
	t.Helper()
	for _, p := range e.Params {
		if p.Quick == nil {
			continue
		}
		v, _ := json.Marshal(p.Quick)
		if !e2e.Eval[bool](t, b, `(() => { const i = document.getElementById(`+strconv.Quote(e.ID+"--"+p.Name)+`);
			if (!i) return false; if (i.type === 'checkbox') i.checked = `+string(v)+`; else i.value = String(`+string(v)+`); return true; })()`) {
			t.Fatalf("%s has no input for %s", e.ID, p.Name)
		}
	}
}

// everyPanelShowsItsRun fails unless every panel of the lesson shows a
// finished run of the learner's, with a verdict on each of its claims.
func everyPanelShowsItsRun(t *testing.T, b *e2e.Browser, l *lessonRef) {
	t.Helper()
	for _, e := range l.exps {
		panel := panelOf(e.ID)
		b.WaitFor(t, e.ID+"'s last run on the panel", panel+`.querySelector('.status').dataset.state === 'finished'`)
		b.WaitFor(t, e.ID+"'s verdicts", `[...`+panel+`.querySelectorAll('.claim .verdict')].every((v) => ['holds', 'differs', 'inconclusive'].includes(v.dataset.verdict))`)
		if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('table.metrics tbody tr').length`); n == 0 {
			t.Errorf("%s: no figures on the panel", e.ID)
		}
	}
}

type lessonRef struct {
	slug string
	exps []*lab.Experiment
}

// TestEveryPageLooksRight opens every page of the course, in light and
// dark mode, and finds no axe-core violation on any: the index, each
// lesson before a run, after a run of each of its experiments and after
// a reload (which shows the learner's runs again, with their verdicts),
// the history, a run's permanent page, a comparison, the progress page,
// the glossary and the instructor's dashboard. On each, nothing hidden
// shows, and every chart's text stays apart and inside it, at least
// 11 px, its series each in a colour of its own — on a desktop and on a
// 390-px phone.
func TestEveryPageLooksRight(t *testing.T) {
	b := e2e.NewBrowser(t, 10*time.Minute)
	srv := startStoredServer(t)
	var ls []*lessonRef
	c := lessons.Course()
	for _, l := range c.Lessons() {
		if l.Page != nil && (os.Getenv("LOOK_ONLY") == "" || os.Getenv("LOOK_ONLY") == l.Slug) {
			ls = append(ls, &lessonRef{slug: l.Slug, exps: l.Experiments})
		}
	}

	open(t, b, srv.URL+"/")
	look(t, b, "the index", hiddenShown)
	// One experiment is one, not "0 of its 1".
	for _, text := range e2e.Eval[[]string](t, b, `[...document.querySelectorAll('[data-testid="lesson-ticks"]')].map((p) => p.textContent.trim())`) {
		if strings.Contains(text, "of its 1 ") || strings.Contains(text, "run 0 of") {
			t.Errorf("the index says %q", text)
		}
	}
	axe(t, b, "the index")

	var runs []string // a finished run of every experiment, in course order
	for _, l := range ls {
		t.Run(l.slug, func(t *testing.T) {
			url := srv.URL + "/lessons/" + l.slug
			open(t, b, url)
			look(t, b, l.slug+" before a run", hiddenShown, diagramTrouble)
			if e2e.Eval[int](t, b, `document.querySelectorAll('.views:not([hidden]), .classbar:not([hidden])').length`) != 0 {
				t.Error("a learner alone sees the instructor's switch or bar")
			}
			axe(t, b, l.slug+" before a run")
			for _, e := range l.exps {
				runQuick(t, b, e)
				runs = append(runs, e2e.Eval[string](t, b, `window.conclab.panelFor('`+e.ID+`').run`))
				if s := e2e.Eval[string](t, b, panelOf(e.ID)+`.querySelector('.history-link').textContent`); !strings.Contains(s, "(1 finished)") {
					t.Errorf("%s: after its run the panel says %q", e.ID, strings.Join(strings.Fields(s), " "))
				}
			}
			look(t, b, l.slug+" after its runs", hiddenShown, chartTrouble)
			axe(t, b, l.slug+" after its runs")

			// A reload keeps the learner's place: each panel shows its last run
			// (written to the store once the writer has caught up with the runs).
			srv.Store.Flush()
			open(t, b, url)
			everyPanelShowsItsRun(t, b, l)
			look(t, b, l.slug+" reloaded", hiddenShown, chartTrouble)
			b.Phone(t, 390)
			look(t, b, l.slug+" on a phone", hiddenShown, chartTrouble, diagramTrouble)
			b.Phone(t, 0)
		})
	}

	pages := []string{"/runs", "/progress", "/glossary"}
	for _, id := range runs {
		pages = append(pages, "/runs/"+id)
	}
	// Two runs of one experiment side by side: one more of the first lesson's
	// first experiment.
	open(t, b, srv.URL+"/lessons/"+ls[0].slug)
	runQuick(t, b, ls[0].exps[0])
	again := e2e.Eval[string](t, b, `window.conclab.panelFor('`+ls[0].exps[0].ID+`').run`)
	pages = append(pages, "/compare?a="+runs[0]+"&b="+again)
	for _, p := range pages {
		open(t, b, srv.URL+p)
		if strings.HasPrefix(p, "/runs/") || strings.HasPrefix(p, "/compare") {
			b.WaitFor(t, "the charts of "+p, `document.body.dataset.chartsDrawn === 'true' || !document.querySelector('figure.chart[data-runs]')`)
		}
		look(t, b, p, hiddenShown, chartTrouble)
		axe(t, b, p)
	}
	b.Phone(t, 390)
	for _, p := range []string{"/runs/" + runs[0], pages[len(pages)-1]} {
		open(t, b, srv.URL+p)
		b.WaitFor(t, "the charts of "+p, `document.body.dataset.chartsDrawn === 'true'`)
		look(t, b, p+" on a phone", chartTrouble)
	}
	b.Phone(t, 0)

	open(t, b, srv.URL+"/class?key="+srv.App.InstructorKey)
	b.WaitFor(t, "the dashboard", `document.querySelector('[data-testid="dashboard"]') !== null`)
	look(t, b, "the dashboard", hiddenShown)
	axe(t, b, "the dashboard")
	b.NoErrors(t)
}

// A figure that came out zero or negative on a chart drawn to a log scale
// (memory-footprint's growth per thread, divided by a few threads, can)
// has no bar and its figure stays inside the chart, on a desktop and on
// a phone.
func TestALogChartShowsANegativeFigure(t *testing.T) {
	t.Parallel()
	b := e2e.NewBrowser(t, 2*time.Minute)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/processes-vs-threads"))
	b.WaitFor(t, "the page's socket", `window.conclab?.panelFor('memory-footprint') !== undefined`)
	for _, phone := range []bool{false, true} {
		if phone {
			b.Phone(t, 390)
		}
		e2e.Eval[bool](t, b, `(() => { const c = window.conclab.panelFor('memory-footprint').charts.get('per-unit');
			c.reset();
			for (const [label, v] of [['process, resident', 2400], ['thread, resident', -4.7], ['goroutine, stack', 0], ['thread, reserved', 8200]])
				c.handle({ type: 'bar', chart: 'per-unit', label, value: v, lo: v, hi: v });
			c.flush(); return true; })()`)
		look(t, b, fmt.Sprintf("a log chart with a negative figure (phone %v)", phone), chartTrouble)
		texts := e2e.Eval[[]string](t, b, `[...document.querySelectorAll('[data-experiment="memory-footprint"] figure[data-chart="per-unit"] svg text.value')].map((t) => t.textContent)`)
		if !slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, "-4.7") || strings.HasPrefix(s, "−4.7") }) {
			t.Errorf("phone %v: the negative figure is not written on the chart: %q", phone, texts)
		}
		if n := e2e.Eval[int](t, b, `document.querySelectorAll('[data-experiment="memory-footprint"] figure[data-chart="per-unit"] svg rect.bar').length`); n != 2 {
			t.Errorf("phone %v: %d bars, want 2 (none for 0 and -4.7 on a log scale)", phone, n)
		}
	}
}

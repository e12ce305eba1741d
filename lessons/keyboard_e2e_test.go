package lessons_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"conclab/internal/e2e"
	"conclab/lessons"
)

// focusContrast is the contrast of the focus ring of the element that has
// the focus against the panel it sits on.
const focusContrast = `(() => {
	const rgb = (s) => s.match(/[\d.]+/g).slice(0, 3).map(Number);
	const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	const e = document.activeElement;
	const ring = lum(rgb(getComputedStyle(e).outlineColor));
	const under = lum(rgb(getComputedStyle(e.closest('section.experiment')).backgroundColor));
	return getComputedStyle(e).outlineStyle === 'none' ? 0 : (Math.max(ring, under) + 0.05) / (Math.min(ring, under) + 0.05);
})()`

// TestKeyboardThroughARun: a learner on the keyboard alone skips a
// panel's guesses in one step and lands on Run; the focus ring shows
// against the panel in light and dark mode; pressing Run moves the focus
// to Cancel, and the end of the run brings it back to Run, whether the run
// finished or was cancelled. While the run goes, no chart says to run the
// experiment; after it, the panel counts it among the learner's runs.
func TestKeyboardThroughARun(t *testing.T) {
	b := e2e.NewBrowser(t, 3*time.Minute)
	srv := startServer(t)
	_, cs, _ := lessons.Course().Find("context-switching")
	exp := cs.Experiments[0] // switch-cost, whose histogram comes only at the end
	panel := panelOf(exp.ID)
	open(t, b, srv.URL+"/lessons/context-switching")
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)

	// One guess skipped: its field, slider and Skip go, "Make a guess" stays.
	one := panelOf("yield-batching") + `.querySelector('.guess-item')`
	e2e.Eval[chromedp.Void](t, b, one+`.querySelector('button.guess-skip').click()`)
	look(t, b, "a skipped guess", hiddenShown)
	if e2e.Eval[int](t, b, `[...`+one+`.querySelectorAll('input, button')].filter((e) => e.getClientRects().length > 0).length`) != 1 {
		t.Error("a skipped guess still shows more than its Make a guess button")
	}

	// The guesses, skipped in one step, leave one control behind.
	tabbable := `[...` + panel + `.querySelectorAll('.guess button, .guess input')].filter((e) => e.getClientRects().length > 0 && !e.disabled).length`
	if n := e2e.Eval[int](t, b, tabbable); n < 3 {
		t.Fatalf("switch-cost's guesses have %d controls; the test needs a panel with several guesses", n)
	}
	e2e.Eval[chromedp.Void](t, b, panel+`.querySelector('button.guess-skip-all').focus()`)
	b.Do(t, chromedp.KeyEvent(kb.Enter))
	b.WaitFor(t, "the guesses skipped", panel+`.querySelector('.guess-item:not([hidden])') === null`)
	if n := e2e.Eval[int](t, b, tabbable); n != 1 {
		t.Errorf("after skipping the guesses %d of their controls are left, want only the one that brings them back", n)
	}
	if !e2e.Eval[bool](t, b, `document.activeElement === `+panel+`.querySelector('button.run')`) {
		t.Errorf("after skipping the guesses the focus is on %s, want Run", e2e.Eval[string](t, b, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	for _, dark := range []bool{false, true} {
		b.ColorScheme(t, dark)
		if c := e2e.Eval[float64](t, b, focusContrast); c < 3 {
			t.Errorf("dark mode %v: the focus ring's contrast with the panel is %.1f:1, want 3:1 or more", dark, c)
		}
	}
	b.ColorScheme(t, false)

	// Record what the empty charts said while the run went, and where the
	// focus went (with whether Run could be pressed then).
	e2e.Eval[chromedp.Void](t, b, `(() => {
		const p = `+panel+`;
		window.__focus = [];
		p.addEventListener('focusin', (e) => window.__focus.push(e.target.className));
		window.__said = new Set();
		window.__focusRunning = new Set();
		new MutationObserver(() => {
			if (p.querySelector('.status').dataset.state !== 'running') return;
			window.__focusRunning.add(document.activeElement.className);
			for (const e of p.querySelectorAll('.plot > p.empty')) window.__said.add(e.textContent);
		}).observe(p, { subtree: true, childList: true, attributes: true, characterData: true });
	})()`)
	setQuick(t, b, exp)
	e2e.Eval[chromedp.Void](t, b, panel+`.querySelector('button.run').focus()`)
	b.Do(t, chromedp.KeyEvent(kb.Enter))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)
	b.WaitFor(t, "the focus back on Run", `document.activeElement === `+panel+`.querySelector('button.run')`)
	// (Run has the focus already, from skipping the guesses; focusing it
	// again may or may not be an event.)
	if got := strings.TrimPrefix(strings.Join(e2e.Eval[[]string](t, b, `window.__focus`), ", "), "run, "); got != "cancel, run" {
		t.Errorf("through the run the focus went to: %s; want Cancel, then Run", got)
	}
	if got := strings.Join(e2e.Eval[[]string](t, b, `[...window.__focusRunning]`), ", "); got != "cancel" {
		t.Errorf("while the run went the focus was on: %s; want cancel", got)
	}
	said := e2e.Eval[[]string](t, b, `[...window.__said]`)
	if len(said) == 0 {
		t.Error("no empty chart was seen while the run went (the histogram is drawn only at its end)")
	}
	for _, s := range said {
		if strings.Contains(s, "Run the experiment") {
			t.Errorf("while the run went a chart said %q", s)
		}
	}
	if s := e2e.Eval[string](t, b, panel+`.querySelector('.history-link').textContent`); strings.Contains(s, "none yet") {
		t.Errorf("after the run the panel says %q", strings.Join(strings.Fields(s), " "))
	}

	// Cancel by keyboard: the focus comes back to Run once the run is over.
	// (Other settings than the run's just made: the same would be offered
	// that run instead of measuring again.)
	// The most batches: a run that is still going when Cancel is pressed.
	b.Do(t, chromedp.SetValue(chromedp.ID(exp.ID+"--batches"), "3000"))
	e2e.Eval[chromedp.Void](t, b, panel+`.querySelector('button.run').focus()`)
	b.Do(t, chromedp.KeyEvent(kb.Enter))
	b.WaitFor(t, "the focus on Cancel", `document.activeElement === `+panel+`.querySelector('button.cancel')`)
	b.Do(t, chromedp.KeyEvent(kb.Enter))
	b.WaitFor(t, "the run to end", `['finished', 'cancelled'].includes(`+panel+`.querySelector('.status').dataset.state)`)
	b.WaitFor(t, "the focus back on Run after Cancel", `document.activeElement === `+panel+`.querySelector('button.run')`)
	b.NoErrors(t)
}

// TestDashboardButtons: on the instructor's dashboard only the one of
// Pause and Resume that would change something can be pressed, and the
// focus follows it; "Reveal to the class" waits for a guess.
func TestDashboardButtons(t *testing.T) {
	dashboard := e2e.NewBrowser(t, 90*time.Second)
	student := dashboard.NewPerson(t)
	srv := startServer(t)
	open(t, dashboard, srv.URL+"/class?key="+srv.App.InstructorKey)
	dashboard.WaitFor(t, "the dashboard's websocket", `window.conclabClass.open === true`)
	state := `[document.querySelector('[data-testid="pause"]').disabled, document.querySelector('[data-testid="resume"]').disabled]`
	if got := e2e.Eval[[]bool](t, dashboard, state); !(!got[0] && got[1]) {
		t.Errorf("running: pause and resume disabled = %v, want [false true]", got)
	}
	e2e.Eval[chromedp.Void](t, dashboard, `document.querySelector('[data-testid="pause"]').focus()`)
	dashboard.Do(t, chromedp.KeyEvent(kb.Enter))
	dashboard.WaitFor(t, "students' runs paused", `document.querySelector('[data-testid="paused-state"]').dataset.paused === 'true'`)
	if got := e2e.Eval[[]bool](t, dashboard, state); !(got[0] && !got[1]) {
		t.Errorf("paused: pause and resume disabled = %v, want [true false]", got)
	}
	if !e2e.Eval[bool](t, dashboard, `document.activeElement === document.querySelector('[data-testid="resume"]')`) {
		t.Error("after Pause the focus is not on Resume")
	}
	dashboard.Do(t, chromedp.KeyEvent(kb.Enter))
	dashboard.WaitFor(t, "students' runs resumed", `document.querySelector('[data-testid="paused-state"]').dataset.paused === 'false'`)
	if got := e2e.Eval[[]bool](t, dashboard, state); !(!got[0] && got[1]) {
		t.Errorf("resumed: pause and resume disabled = %v, want [false true]", got)
	}

	// A round with no guess has nothing to reveal.
	panel := panelOf("yield-batching")
	open(t, student, srv.URL+"/lessons/context-switching")
	student.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	dashboard.Do(t, chromedp.SetValue(chromedp.ID("present-lesson"), "context-switching"),
		chromedp.SetValue(chromedp.ID("present-anchor"), "exp-yield-batching"),
		chromedp.Click(chromedp.CSS(`[data-testid="present"]`)))
	round := `document.querySelector('[data-testid="rounds"] .round[data-experiment="yield-batching"]')`
	dashboard.WaitFor(t, "a round of guesses", round+` !== null`)
	if !e2e.Eval[bool](t, dashboard, round+`.querySelector('[data-round-op="reveal"]').disabled`) {
		t.Error("Reveal can be pressed with no guess in")
	}
	student.WaitFor(t, "the student's page moved to the experiment", `window.conclab.presented?.anchor === 'exp-yield-batching'`)
	e2e.Eval[chromedp.Void](t, student, `(() => { const n = `+panel+`.querySelector('.guess-number'); n.value = '200'; n.dispatchEvent(new Event('input')); })()`)
	dashboard.WaitFor(t, "the guess counted", round+`.dataset.count === '1'`)
	if e2e.Eval[bool](t, dashboard, round+`.querySelector('[data-round-op="reveal"]').disabled`) {
		t.Error("Reveal cannot be pressed with a guess in")
	}
	dashboard.NoErrors(t)
	student.NoErrors(t)
}

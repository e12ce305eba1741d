package lessons_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestAClassGuessesInBrowser: the instructor presents an experiment, three
// students guess before it runs, the instructor sees their guesses come
// in and runs it; each student's guess is scored, and when the instructor
// reveals the class's guesses every student sees them, their own marked.
func TestAClassGuessesInBrowser(t *testing.T) {
	instructor := e2e.NewBrowser(t, 120*time.Second)
	students := []*e2e.Browser{instructor.NewPerson(t), instructor.NewPerson(t), instructor.NewPerson(t)}
	dashboard := instructor.NewTab(t)
	srv := startServer(t)
	instructor.Do(t, chromedp.Navigate(srv.URL+"/class?key="+srv.App.InstructorKey))
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	item := panel + `.querySelector('.guess-item')`
	for _, b := range append([]*e2e.Browser{instructor}, students...) {
		b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
		b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	}
	dashboard.Do(t, chromedp.Navigate(srv.URL+"/class"))
	dashboard.WaitFor(t, "the dashboard's websocket", `window.conclabClass.open === true`)
	dashboard.Do(t, chromedp.SetValue(chromedp.ID("present-lesson"), "context-switching"),
		chromedp.SetValue(chromedp.ID("present-anchor"), "exp-yield-batching"),
		chromedp.Click(chromedp.CSS(`[data-testid="present"]`)))
	dashboard.WaitFor(t, "a round of guesses for the experiment", `!!document.querySelector('[data-testid="rounds"] .round[data-experiment="yield-batching"]')`)

	// Each student guesses: a number typed into the field, or a choice.
	for i, s := range students {
		s.WaitFor(t, "the page moved to the experiment", `window.conclab.presented?.anchor === 'exp-yield-batching'`)
		e2e.Eval[chromedp.Void](t, s, fmt.Sprintf(`(() => {
			const fs = %s;
			if (fs.dataset.kind === 'choice') {
				const radios = fs.querySelectorAll('input[type="radio"]');
				const r = radios[%d %% radios.length];
				r.checked = true; r.dispatchEvent(new Event('change'));
			} else {
				const n = fs.querySelector('.guess-number');
				const lo = +fs.dataset.min, hi = +fs.dataset.max;
				n.value = String(+(lo * Math.pow(hi / lo, %f)).toPrecision(3));
				n.dispatchEvent(new Event('input'));
			}
		})()`, item, i, 0.3+0.2*float64(i)))
		s.WaitFor(t, "the guess acknowledged as the class's", item+`.querySelector('.guess-state').textContent.includes('counts with your class')`)
	}
	dashboard.WaitFor(t, "the instructor to see three guesses", `document.querySelector('[data-testid="rounds"] .round[data-experiment="yield-batching"]')?.dataset.count === '3'`)
	for _, s := range students {
		if e2e.Eval[bool](t, s, item+`.querySelector('.guess-class').hidden === false`) {
			t.Fatal("a student saw the class's guesses before the reveal")
		}
	}

	// The present scrolled the instructor's own page too, smoothly: a click
	// by position could land while it moves, so the button is pressed by script.
	instructor.WaitFor(t, "the instructor's page moved too", `window.conclab.presented?.anchor === 'exp-yield-batching'`)
	instructor.Do(t, chromedp.SetValue(chromedp.ID("yield-batching--items"), "40000"),
		chromedp.SetValue(chromedp.ID("yield-batching--budget"), "300"))
	e2e.Eval[chromedp.Void](t, instructor, panel+`.querySelector('button.run').click()`)
	instructor.WaitFor(t, "the instructor's run to start", panel+`.querySelector('.status').dataset.state !== 'idle'`)
	for _, s := range students {
		s.WaitFor(t, "the guess scored once the instructor's run ended", item+`.querySelector('.guess-result').hidden === false`)
		if got := e2e.Eval[string](t, s, item+`.querySelector('.guess-score strong').textContent`); got == "" {
			t.Error("a scored guess shows no score")
		}
	}
	round := `[data-testid="rounds"] .round[data-experiment="yield-batching"]`
	dashboard.WaitFor(t, "the dashboard to see the round measured", `document.querySelector('`+round+` .round-count').textContent.includes('measured')`)
	dashboard.Do(t, chromedp.Click(chromedp.CSS(round+` button[data-round-op="reveal"]`)))
	for i, s := range students {
		s.WaitFor(t, "the class's guesses revealed", item+`.querySelector('.guess-class').hidden === false`)
		if n := e2e.Eval[int](t, s, item+`.querySelectorAll('.guess-class tr[data-yours]').length`); n != 1 {
			t.Errorf("student %d: %d rows marked as their own guess, want 1", i, n)
		}
		if notes := e2e.Eval[string](t, s, item+`.querySelector('.guess-notes').textContent`); !strings.Contains(notes, "Your guess") || !strings.Contains(notes, "Measured here") {
			t.Errorf("student %d: the revealed guesses say %q; they must mark the measurement and the student's own guess", i, notes)
		}
	}
	csv := e2e.Eval[string](t, dashboard, `(() => { const x = new XMLHttpRequest(); x.open('GET', '/class/predictions.csv', false); x.send(); return x.responseText; })()`)
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 4 {
		t.Errorf("the predictions CSV has %d lines, want a header and one per guess:\n%s", len(lines), csv)
	}
	for _, b := range append([]*e2e.Browser{instructor, dashboard}, students...) {
		b.NoErrors(t)
	}
}

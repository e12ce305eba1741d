package lessons_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestStoredRunsInBrowser: a run is kept — after a reload the lesson
// counts it, the history lists it, its permanent page draws it from the
// store — and it compares with a second run.
func TestStoredRunsInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 120*time.Second)
	srv := startStoredServer(t)
	lesson := srv.URL + "/lessons/context-switching"
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	run := func(items string) string {
		t.Helper()
		b.Do(t, chromedp.Navigate(lesson))
		b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
		b.Do(t, chromedp.SetValue(chromedp.ID("yield-batching--items"), items), chromedp.SetValue(chromedp.ID("yield-batching--budget"), "100"),
			chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.run`)))
		b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)
		b.WaitFor(t, "the panel to link the kept run", panel+`.querySelector('[data-testid="permalink"]') !== null`)
		return e2e.Eval[string](t, b, `window.conclab.panelFor('yield-batching').run`)
	}
	first := run("10000")

	// After a reload the lesson counts it, and the panel links to it.
	b.Do(t, chromedp.Reload())
	b.WaitFor(t, "the reloaded page", panel+` !== null`)
	if got := e2e.Eval[string](t, b, panel+`.querySelector('.history-link').textContent`); !strings.Contains(got, "(1 finished)") {
		t.Errorf("after a reload the panel says %q, want its one earlier run", got)
	}
	if !e2e.Eval[bool](t, b, `document.querySelector('[data-testid="lesson-progress"] [data-tick="yield-batching"]').hasAttribute('data-done')`) {
		t.Error("the lesson's header does not tick yield-batching")
	}

	// The history lists it among this learner's runs; its page draws it.
	b.Do(t, chromedp.Navigate(srv.URL+"/runs"))
	row := `document.querySelector('[data-testid="runs-mine"] tr[data-run="` + first + `"]')`
	b.WaitFor(t, "the run in the history", row+` !== null`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-testid="runs-mine"] tr[data-run="`+first+`"] a`)))
	b.WaitFor(t, "the permalink", `document.querySelector('[data-testid="stored-run"]')?.dataset.run === '`+first+`'`)
	b.WaitFor(t, "its charts", `document.body.dataset.chartsDrawn === 'true'`)
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('[data-chart="rate"] svg path.line').length`); n == 0 {
		t.Error("the permalink drew no line from the stored events")
	}
	if v := e2e.Eval[string](t, b, `document.querySelector('.claim .verdict').dataset.verdict`); v != "holds" && v != "differs" && v != "inconclusive" {
		t.Errorf("the permalink's first verdict is %q", v)
	}

	// A second run, then "compare with…" from the first's page.
	second := run("20000")
	if second == first {
		t.Fatalf("the second run is the first (%s)", first)
	}
	b.Do(t, chromedp.Navigate(srv.URL+"/runs/"+first))
	b.WaitFor(t, "the compare form", `document.querySelector('[data-testid="compare-with"] option[value="`+second+`"]') !== null`)
	b.Do(t, chromedp.SetValue(chromedp.CSS(`[data-testid="compare-with"] select`), second), chromedp.Click(chromedp.CSS(`[data-testid="compare-with"] button`)))
	b.WaitFor(t, "the comparison", `document.querySelector('[data-testid="compare"]') !== null`)
	b.WaitFor(t, "its charts", `document.body.dataset.chartsDrawn === 'true'`)
	if got := e2e.Eval[[]string](t, b, `[document.querySelector('[data-testid="run-a"]').textContent, document.querySelector('[data-testid="run-b"]').textContent]`); got[0] != first || got[1] != second {
		t.Errorf("comparing %v, want %s and %s", got, first, second)
	}
	if n := e2e.Eval[int](t, b, `[...document.querySelectorAll('[data-testid="compare-metrics"] td.ratio')].filter(td => td.textContent.startsWith('×')).length`); n == 0 {
		t.Error("no metric with its ratio")
	}
	legend := e2e.Eval[string](t, b, `document.querySelector('[data-chart="rate"] .legend')?.textContent ?? ''`)
	if !strings.Contains(legend, "A: ") || !strings.Contains(legend, "B: ") {
		t.Errorf("the rate chart is not overlaid: legend %q", legend)
	}
	b.NoErrors(t)
}

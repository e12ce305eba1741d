package lessons_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestGreenThreadsInBrowser presses Run on cooperative in a real browser
// and checks that the heartbeat gaps draw while the run goes, then
// that every claim gets a verdict and the recap table fills in.
func TestGreenThreadsInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 90*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/green-threads"))
	panel := `document.querySelector('[data-experiment="cooperative"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)

	// Shorter spins keep the test quick (a run of about two and a half
	// seconds, longer than the page takes to draw a running run first: at
	// most once a second, panel.js); the page sends them like a learner would.
	e2e.Eval[bool](t, b, `(() => { const i = document.getElementById('cooperative--spin'); i.value = '600'; return true; })()`)

	// Record whether heartbeat gaps were drawn while the run was still
	// going, not only once it had finished.
	e2e.Eval[chromedp.Void](t, b, `(() => {
		const p = `+panel+`;
		window.__gaps = false;
		new MutationObserver(() => {
			if (p.querySelector('.status').dataset.state !== 'running') return;
			if (p.querySelectorAll('[data-chart="gaps"] path.line').length > 0) window.__gaps = true;
		}).observe(p, { subtree: true, childList: true, attributes: true, characterData: true });
	})()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="cooperative"] button.run`)))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)

	if !e2e.Eval[bool](t, b, `window.__gaps`) {
		t.Error("no heartbeat gaps were drawn while the run was going")
	}
	// The timeline's spans come late in each part of the run, and the page
	// draws at most once a second while it goes (panel.js): they may be
	// drawn only at its end, which the lanes below check.
	// The finished timeline has a spinner lane and a heartbeat lane for each run.
	lanes := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('[data-chart="timeline"] tbody tr')].map(r => r.cells[0].textContent)`)
	for _, want := range []string{"off: spinner", "off: beats", "yield: spinner", "yield: beats", "on: spinner", "on: beats"} {
		if !slices.Contains(lanes, want) {
			t.Errorf("the timeline's table has no %q lane", want)
		}
	}
	if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-chart="gaps"] path.line').length`); n != 3 {
		t.Errorf("the gap chart has %d lines, want one per run (3)", n)
	}
	verdicts := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('.claim .verdict')].map(v => v.dataset.verdict)`)
	if len(verdicts) != 3 {
		t.Fatalf("got %d claims on the panel, want 3", len(verdicts))
	}
	for i, v := range verdicts {
		if v != "holds" && v != "differs" && v != "inconclusive" {
			t.Errorf("claim %d has verdict %q, want holds, differs or inconclusive", i, v)
		}
	}
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('[data-fill="cooperative"][data-filled="true"]').length`); n != 2 {
		t.Errorf("%d recap cells filled from cooperative, want 2", n)
	}
	// The recap cells find their figures by metric key, never by the words of a name.
	for _, key := range []string{"heartbeat.longest_gap.preemption_off", "heartbeat.longest_gap.preemption_on"} {
		if !e2e.Eval[bool](t, b, `!!document.querySelector('[data-fill="cooperative"][data-key="`+key+`"][data-filled]')`) {
			t.Errorf("the recap cell for %s was not filled", key)
		}
	}
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('[data-metric]').length`); n != 0 {
		t.Errorf("%d cells still find their figure by words (data-metric)", n)
	}
	if path := os.Getenv("CONCLAB_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(90))
		if err == nil {
			os.WriteFile(path, png, 0o644)
		}
	}
	b.NoErrors(t)
}

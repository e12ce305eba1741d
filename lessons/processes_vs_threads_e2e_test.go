package lessons_test

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestProcessesVsThreadsInBrowser presses Run on crash-isolation in a real
// browser: rows show up live while the workers run, the chosen worker's
// row turns crashed while its siblings finish, every thread of the one
// process ends crashed, the verdicts arrive, and the comparison table at
// the end of the page fills in.
func TestProcessesVsThreadsInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 120*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/processes-vs-threads"))
	panel := `document.querySelector('[data-experiment="crash-isolation"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)

	if n := e2e.Eval[int](t, b, `document.querySelectorAll('figure.pvt-diagram svg[role="img"] title').length`); n != 2 {
		t.Errorf("found %d titled drawings, want 2", n)
	}

	// Record whether a worker row was seen running while the run went on.
	e2e.Eval[chromedp.Void](t, b, `(() => {
		const p = `+panel+`;
		window.__liveRows = false;
		new MutationObserver(() => {
			const running = p.querySelector('.status').dataset.state === 'running';
			if (running && p.querySelector('[data-table="processes"] tr[data-state="running"]')) window.__liveRows = true;
		}).observe(p, { subtree: true, childList: true, attributes: true });
	})()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="crash-isolation"] button.run`)))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)

	if !e2e.Eval[bool](t, b, `window.__liveRows`) {
		t.Error("no worker row was seen running while the run was going")
	}
	states := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('[data-table="processes"] tbody tr')].map(r => r.dataset.key + ':' + r.dataset.state)`)
	want := []string{"w1:finished", "w2:crashed", "w3:finished", "w4:finished"}
	if len(states) != len(want) {
		t.Fatalf("worker rows %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Errorf("worker row %d is %s, want %s", i+1, states[i], want[i])
		}
	}
	crashedCell := e2e.Eval[string](t, b, panel+`.querySelector('[data-table="processes"] tr[data-state="crashed"]').textContent`)
	if crashedCell == "" {
		t.Error("the crashed row is empty")
	}
	if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-table="threads"] tbody tr[data-state="crashed"]').length`); n != 4 {
		t.Errorf("%d thread rows are crashed, want all 4", n)
	}
	verdicts := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('.claim .verdict')].map(v => v.dataset.verdict)`)
	if len(verdicts) != 2 {
		t.Fatalf("got %d claims on the panel, want 2", len(verdicts))
	}
	for i, v := range verdicts {
		if v != "holds" { // a crash is contained, or not, the same on any machine
			t.Errorf("claim %d has verdict %q, want holds", i+1, v)
		}
	}
	filled := e2e.Eval[[]string](t, b, `[...document.querySelectorAll('[data-fill="crash-isolation"][data-filled="true"]')].map(c => c.dataset.key + ' = ' + c.textContent)`)
	wantFilled := []string{"crash.processes.siblings_finished = 3 of 3", "crash.threads.alive_after = 0 of 4"}
	if !slices.Equal(filled, wantFilled) {
		t.Errorf("the comparison table's crash row shows %q, want %q", filled, wantFilled)
	}
	if path := os.Getenv("CONCLAB_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(90))
		if err == nil {
			os.WriteFile(path, png, 0o644)
		}
	}
	b.NoErrors(t)
}

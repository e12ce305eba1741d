package lessons_test

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestContextSwitchingInBrowser presses Run on switch-cost in a real
// browser and checks that results arrive while the run goes, then verdicts.
func TestContextSwitchingInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 90*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
	panel := `document.querySelector('[data-experiment="switch-cost"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)

	// Record whether chart points and progress showed up while the run was
	// still going, not only once it had finished.
	e2e.Eval[chromedp.Void](t, b, `(() => {
		const p = `+panel+`;
		window.__live = false;
		new MutationObserver(() => {
			const running = p.querySelector('.status').dataset.state === 'running';
			const points = p.querySelectorAll('[data-chart="batches"] path.line').length > 0;
			const progress = p.querySelector('progress').value > 0;
			if (running && points && progress) window.__live = true;
		}).observe(p, { subtree: true, childList: true, attributes: true, characterData: true });
	})()`)
	// Fewer batches than the default keep the run short on a busy machine;
	// it still takes long enough to be watched while it goes.
	b.Do(t, chromedp.SetValue(chromedp.ID("switch-cost--batches"), "60"),
		chromedp.Click(chromedp.CSS(`[data-experiment="switch-cost"] button.run`)))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)

	if !e2e.Eval[bool](t, b, `window.__live`) {
		t.Error("no live progress and chart points were seen while the run was going")
	}
	verdicts := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('.claim .verdict')].map(v => v.dataset.verdict)`)
	if len(verdicts) != 6 {
		t.Fatalf("got %d claims on the panel, want 6", len(verdicts))
	}
	for i, v := range verdicts {
		if v != "holds" && v != "differs" && v != "inconclusive" {
			t.Errorf("claim %d has verdict %q, want holds, differs or inconclusive", i, v)
		}
	}
	if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('table.metrics tbody tr').length`); n == 0 {
		t.Error("the metrics table is empty")
	}
	if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-table="evidence"] tbody tr').length`); n < 3 {
		t.Errorf("the evidence table has %d rows, want at least 3", n)
	}
	if path := os.Getenv("CONCLAB_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(90))
		if err == nil {
			os.WriteFile(path, png, 0o644)
		}
	}
	b.NoErrors(t)
}

// TestReconnectRewatchesTheRun drops the page's websocket in the middle of
// a run: the page reconnects, watches the run again, and ends with the
// verdicts, each event drawn once.
func TestReconnectRewatchesTheRun(t *testing.T) {
	b := e2e.NewBrowser(t, 90*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.run`)))
	b.WaitFor(t, "the run to start", panel+`.querySelector('.status').dataset.state === 'running'`)
	e2e.Eval[chromedp.Void](t, b, `window.__first = window.conclab.ws; window.conclab.ws.close()`)
	b.WaitFor(t, "a new connection", `window.conclab.ws !== window.__first && window.conclab.open`)
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)
	// One throughput point per batch size and kind, none drawn twice.
	if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-chart="rate"] tbody tr').length`); n != yieldRows() {
		t.Errorf("the rate table has %d rows after the reconnect, want %d", n, yieldRows())
	}
	if v := e2e.Eval[string](t, b, panel+`.querySelector('.claim .verdict').dataset.verdict`); v == "pending" {
		t.Error("no verdict after the reconnect")
	}
	b.NoErrors(t)
}

// TestOthersSeeARunLive: a run the instructor starts plays live on the
// page of everyone else on the lesson.
func TestOthersSeeARunLive(t *testing.T) {
	instructor := e2e.NewBrowser(t, 90*time.Second)
	student := instructor.NewPerson(t)
	srv := startServer(t)
	instructor.Do(t, chromedp.Navigate(srv.URL+"/class?key="+srv.App.InstructorKey))
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	for _, b := range []*e2e.Browser{student, instructor} {
		b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
		b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	}
	instructor.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.run`)))
	student.WaitFor(t, "the student's page to follow the run", panel+`.dataset.origin === 'other'`)
	student.WaitFor(t, "the run to finish on the student's page", panel+`.querySelector('.status').dataset.state === 'finished'`)
	if n := e2e.Eval[int](t, student, panel+`.querySelectorAll('[data-chart="rate"] tbody tr').length`); n != yieldRows() {
		t.Errorf("the student's rate table has %d rows, want %d", n, yieldRows())
	}
	student.NoErrors(t)
	instructor.NoErrors(t)
}

package lessons_test

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestCPUvsIOBoundInBrowser runs scaling from the lesson page with small
// settings and checks that the speedup curves are drawn while it runs —
// I/O-bound and CPU-bound, with the core count marked — and that the run
// ends with verdicts and the recap filled in.
func TestCPUvsIOBoundInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 90*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/cpu-vs-io-bound"))
	panel := `document.querySelector('[data-experiment="scaling"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)

	// Small settings, typed into the form as a learner would; four rounds
	// make a run of about two seconds, longer than the page takes to draw a
	// running run first (at most once a second: panel.js).
	for name, value := range map[string]string{"max-workers": "16", "tasks": "16", "delay": "4", "compute": "1", "rounds": "4"} {
		sel := `#scaling--` + name
		b.Do(t, chromedp.SetValue(chromedp.CSS(sel), value))
	}

	// Record whether curves showed up while the run was still going.
	e2e.Eval[chromedp.Void](t, b, `(() => {
		const p = `+panel+`;
		window.__live = false;
		new MutationObserver(() => {
			const running = p.querySelector('.status').dataset.state === 'running';
			const lines = p.querySelectorAll('[data-chart="speedup"] path.line').length > 0;
			if (running && lines) window.__live = true;
		}).observe(p, { subtree: true, childList: true, attributes: true, characterData: true });
	})()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="scaling"] button.run`)))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)

	if !e2e.Eval[bool](t, b, `window.__live`) {
		t.Error("no speedup curve was drawn while the run was going")
	}
	legend := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('[data-chart="speedup"] .legend li')].map(li => li.textContent)`)
	for _, want := range []string{"I/O-bound, all CPUs", "I/O-bound, one CPU", "CPU-bound, all CPUs", "CPU-bound, one CPU"} {
		found := false
		for _, got := range legend {
			found = found || got == want
		}
		if !found {
			t.Errorf("the speedup chart's legend %q lacks %q", legend, want)
		}
	}
	if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-chart="speedup"] path.line').length`); n != 4 {
		t.Errorf("%d curves drawn, want 4", n)
	}
	if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-chart="speedup"] line.mark').length`); n != 1 {
		t.Errorf("%d marks on the speedup chart, want one at the core count", n)
	}
	verdicts := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('.claim .verdict')].map(v => v.dataset.verdict)`)
	if len(verdicts) != 3 {
		t.Fatalf("got %d claims on the panel, want 3", len(verdicts))
	}
	for i, v := range verdicts {
		if v != "holds" && v != "differs" && v != "inconclusive" {
			t.Errorf("claim %d has verdict %q", i, v)
		}
	}
	if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-table="evidence"] tbody tr').length`); n != 4 {
		t.Errorf("the evidence table has %d rows, want 4", n)
	}
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('[data-testid="recap"] td[data-fill="scaling"][data-filled="true"]').length`); n != 4 {
		t.Errorf("%d recap cells filled from scaling, want 4", n)
	}
	if path := os.Getenv("CONCLAB_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(90))
		if err == nil {
			os.WriteFile(path, png, 0o644)
		}
	}
	b.NoErrors(t)
}

package lessons_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestConcurrencyVsParallelismInBrowser runs cpu-timeline from the page and
// checks that lanes were drawn while it ran, then runs the Web Workers
// experiment in the browser and checks its result.
func TestConcurrencyVsParallelismInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 120*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/concurrency-vs-parallelism"))
	panel := `document.querySelector('[data-experiment="cpu-timeline"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)

	// Record whether spans were drawn in a lanes chart while the run was
	// still going, not only once it had finished.
	e2e.Eval[chromedp.Void](t, b, `(() => {
		const p = `+panel+`;
		window.__lanesLive = false;
		new MutationObserver(() => {
			const running = p.querySelector('.status').dataset.state === 'running';
			const spans = p.querySelectorAll('[data-chart="cpu-concurrent"] path.span').length > 0;
			if (running && spans) window.__lanesLive = true;
		}).observe(p, { subtree: true, childList: true, attributes: true, characterData: true });
	})()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="cpu-timeline"] button.run`)))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)

	if !e2e.Eval[bool](t, b, `window.__lanesLive`) {
		t.Error("no lanes were drawn while cpu-timeline was running")
	}
	for _, chart := range []string{"cpu-concurrent", "task-concurrent", "cpu-parallel", "task-parallel", "cpu-combined", "task-combined"} {
		if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-chart="`+chart+`"] path.span').length`); n == 0 {
			t.Errorf("chart %s has no spans", chart)
		}
	}
	verdicts := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('.claim .verdict')].map(v => v.dataset.verdict)`)
	if len(verdicts) != 2 {
		t.Fatalf("got %d claims on the panel, want 2", len(verdicts))
	}
	for i, v := range verdicts {
		if v != "holds" && v != "differs" && v != "inconclusive" {
			t.Errorf("claim %d has verdict %q", i, v)
		}
	}
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('[data-testid="cvp-measured"] td[data-filled="true"]').length`); n < 12 {
		t.Errorf("%d cells of the measured table were filled, want at least 12", n)
	}

	// The Web Workers experiment, with the smallest amount of work.
	bw := `document.getElementById('browser-workers')`
	b.WaitFor(t, "the browser experiment to be ready", bw+`.querySelector('#bw-run').disabled === false`)
	e2e.Eval[chromedp.Void](t, b, `(() => { document.getElementById('bw-size').value = '500'; })()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`#bw-run`)))
	b.WaitFor(t, "the browser experiment to finish", `['finished', 'failed'].includes(document.getElementById('bw-status').dataset.state)`)
	if st := e2e.Eval[string](t, b, `document.getElementById('bw-status').textContent`); !strings.HasPrefix(st, "Finished") {
		t.Fatalf("browser experiment: %s", st)
	}
	speedup := e2e.Eval[string](t, b, `document.querySelector('[data-bw="speedup"]').textContent`)
	if !strings.HasSuffix(speedup, "×") || strings.HasPrefix(speedup, "–") {
		t.Errorf("speedup cell reads %q", speedup)
	}
	workers := e2e.Eval[int](t, b, `new Set([...document.querySelectorAll('#bw-chart tbody tr:not(:has(td.empty))')].map(r => r.cells[0].textContent)).size`)
	if workers < 2 {
		t.Errorf("the browser timeline has %d lanes, want the main thread and at least one worker", workers)
	}
	// The server's column was filled from the cpu-timeline result.
	if got := e2e.Eval[string](t, b, bw+`.querySelector('td[data-key="speedup.parallel_over_concurrent"]').textContent`); !strings.Contains(got, "×") {
		t.Errorf("server speedup cell reads %q", got)
	}
	b.NoErrors(t)
}

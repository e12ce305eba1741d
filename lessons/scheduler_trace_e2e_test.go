package lessons_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"conclab/internal/e2e"
)

// TestSchedulerTraceInBrowser runs scheduler-trace from the lesson page and
// checks that the lanes are drawn while it runs, one per P at most, that
// the marks can be stepped through with the keyboard and are said in
// words, that the finished run offers its raw trace, and that the run's
// permanent page draws the same lanes from the store.
func TestSchedulerTraceInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 90*time.Second)
	srv := startStoredServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/threading-models"))
	panel := `document.querySelector('[data-experiment="scheduler-trace"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	// The chart's module loads on demand (sched.js), so its stepper comes
	// when the module is in, which may be after the socket is up.
	b.WaitFor(t, "the scheduler chart's stepper", panel+`.querySelector('[data-testid="sched-say"]') !== null`)
	if got := e2e.Eval[string](t, b, panel+`.querySelector('[data-testid="sched-say"]').textContent`); !strings.Contains(got, "step through") {
		t.Errorf("before a run the stepper says %q", got)
	}

	// Small sizes keep the run short on a busy machine.
	e2e.Eval[chromedp.Void](t, b, `(() => {
		for (const [name, v] of [['procs', 2], ['computing', 2], ['waiting', 16], ['block', 50], ['duration', 600]]) {
			document.getElementById('scheduler-trace--' + name).value = v;
		}
	})()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="scheduler-trace"] button.run`)))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)

	// The trace's parts come late in a run this short, and the page draws at
	// most once a second while a run goes (panel.js), so the lanes are
	// checked once it has ended.
	chart := panel + `.querySelector('[data-chart="sched"]')`
	lanes := e2e.Eval[[]string](t, b, `[...new Set([...`+chart+`.querySelectorAll('tbody tr')].map((r) => r.cells[1]?.textContent))]`)
	if len(lanes) == 0 || len(lanes) > 2 {
		t.Errorf("the table lists spans and marks on Ps %q, want 1 or 2 (GOMAXPROCS 2)", lanes)
	}

	// Step with the keyboard: Next, then the arrow key, each said in words.
	b.Do(t, chromedp.Focus(chromedp.CSS(`[data-experiment="scheduler-trace"] .sched-next`)), chromedp.KeyEvent(kb.ArrowRight))
	first := e2e.Eval[string](t, b, chart+`.querySelector('[data-testid="sched-say"]').textContent`)
	if !strings.HasPrefix(first, "1 of ") || !strings.Contains(first, " ms on P") {
		t.Errorf("after the first step the stepper says %q, want the first mark in words", first)
	}
	b.Do(t, chromedp.KeyEvent(kb.ArrowRight))
	b.WaitFor(t, "the second mark", chart+`.querySelector('[data-testid="sched-say"]').textContent.startsWith('2 of ')`)
	b.WaitFor(t, "the chosen mark ringed on the chart", chart+`.querySelector('circle.mk-ring') !== null`)
	e2e.Eval[chromedp.Void](t, b, `(() => { const f = `+chart+`.querySelector('.sched-filter'); f.value = 'syscall'; f.dispatchEvent(new Event('change')); })()`)
	if got := e2e.Eval[string](t, b, chart+`.querySelector('[data-testid="sched-say"]').textContent`); !strings.Contains(got, "entered read()") {
		t.Errorf("stepping through read() calls, the stepper says %q", got)
	}

	// The raw trace, offered beside the chart, downloads whole.
	b.WaitFor(t, "the download link", panel+`.querySelector('[data-testid="sched-download"] a') !== null`)
	e2e.Eval[chromedp.Void](t, b, `(() => {
		window.__trace = null;
		const href = `+panel+`.querySelector('[data-testid="sched-download"] a').getAttribute('href');
		(async () => {
			for (let i = 0; i < 100; i++) { // the store writes the run's end a moment after the page sees it
				const r = await fetch(href);
				if (r.status === 200) { window.__trace = (await r.arrayBuffer()).byteLength; return; }
				await new Promise((ok) => setTimeout(ok, 100));
			}
			window.__trace = -1;
		})();
	})()`)
	b.WaitFor(t, "the trace to download", `window.__trace !== null`)
	if got := e2e.Eval[int](t, b, `window.__trace`); got <= 0 {
		t.Errorf("the trace download gave %d bytes", got)
	}
	spans := e2e.Eval[int](t, b, chart+`.querySelectorAll('tbody tr').length`)

	// The run's permanent page draws the same chart from its stored events.
	run := e2e.Eval[string](t, b, `window.conclab.panelFor('scheduler-trace').run`)
	b.Do(t, chromedp.Navigate(srv.URL+"/runs/"+run))
	b.WaitFor(t, "the stored run's charts", `document.body.dataset.chartsDrawn === 'true'`)
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('[data-chart="sched"] svg rect.span').length`); n == 0 {
		t.Error("the permanent page drew no span from the stored events")
	}
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('[data-chart="sched"] tbody tr').length`); n != spans {
		t.Errorf("the permanent page's table has %d rows, the live one had %d", n, spans)
	}
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-chart="sched"] .sched-next`)))
	if got := e2e.Eval[string](t, b, `document.querySelector('[data-chart="sched"] [data-testid="sched-say"]').textContent`); !strings.HasPrefix(got, "1 of ") {
		t.Errorf("on the permanent page the stepper says %q", got)
	}
	if e2e.Eval[int](t, b, `document.querySelectorAll('[data-testid="trace-download"] a').length`) != 1 {
		t.Error("the permanent page does not offer the trace")
	}
	if path := os.Getenv("CONCLAB_SCREENSHOT"); path != "" {
		if png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(90)); err == nil {
			os.WriteFile(path, png, 0o644)
		}
	}
	b.NoErrors(t)
}

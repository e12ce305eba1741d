package lessons_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
	"conclab/lessons"
)

// TestChoosingInBrowser runs workload-lab from the lesson page in a real
// browser: progress shows while it runs, the ranking and the verdict
// arrive, the recap's own row fills in live, and after a reload the recap
// shows that run from the server's side.
func TestChoosingInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 120*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/choosing"))
	panel := `document.querySelector('[data-experiment="workload-lab"]')`
	recapRow := `document.querySelector('table.recap tr[data-recap="workload-lab"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)

	if got := e2e.Eval[string](t, b, recapRow+`.dataset.state`); got != "none" {
		t.Errorf("before any run the recap's workload-lab row is %q, want none", got)
	}
	// Every figure the course offers is a row, and before any run each
	// links to where its experiment runs.
	rows := len(lessons.Course().Recap())
	if rows < 3 {
		t.Fatalf("the course offers %d recap figures, want at least lesson 4's two and this lesson's own", rows)
	}
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('table.recap tr[data-state="none"] a[href*="#exp-"]').length`); n != rows {
		t.Errorf("%d recap rows link to where they run, want all %d", n, rows)
	}

	// A small workload keeps the test quick on a busy machine; it runs for
	// about two seconds, longer than the page takes to draw a running run
	// first (at most once a second: panel.js).
	e2e.Eval[chromedp.Void](t, b, `(() => {
		const set = (name, v) => { document.getElementById('workload-lab--' + name).value = v; };
		set('tasks', 12); set('cpu_ms', 2); set('io_ms', 10); set('rounds', 5);
		const p = `+panel+`;
		window.__live = false;
		new MutationObserver(() => {
			const running = p.querySelector('.status').dataset.state === 'running';
			const bars = p.querySelectorAll('[data-chart="wall"] rect.bar').length > 0;
			if (running && bars) window.__live = true;
		}).observe(p, { subtree: true, childList: true, attributes: true, characterData: true });
	})()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="workload-lab"] button.run`)))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)

	if !e2e.Eval[bool](t, b, `window.__live`) {
		t.Error("no wall-time bars were drawn while the run was still going")
	}
	ranking := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('[data-table="ranking"] tbody tr')].map(tr => tr.cells[1].textContent)`)
	if len(ranking) != 5 {
		t.Fatalf("the ranking shows %d strategies, want 5: %q", len(ranking), ranking)
	}
	seen := map[string]bool{}
	for _, s := range ranking {
		seen[s] = true
	}
	if len(seen) != 5 {
		t.Errorf("the ranking repeats strategies: %q", ranking)
	}
	verdict := e2e.Eval[string](t, b, panel+`.querySelector('.claim .verdict').dataset.verdict`)
	if verdict != "holds" && verdict != "differs" && verdict != "inconclusive" {
		t.Errorf("verdict %q, want holds, differs or inconclusive", verdict)
	}
	if !e2e.Eval[bool](t, b, recapRow+`.querySelector('.figure[data-key="speedup.fastest_over_sequential"]').dataset.filled === 'true'`) {
		t.Error("the recap's workload-lab row was not filled by the run on the page")
	}
	if got := e2e.Eval[string](t, b, recapRow+`.dataset.state`); got != "ran" {
		t.Errorf("after the run on the page the recap's workload-lab row is %q, want ran", got)
	}
	if !e2e.Eval[bool](t, b, recapRow+`.querySelector('.recap-when time') !== null`) {
		t.Error("the recap's workload-lab row was not stamped with the time of the run")
	}
	if path := os.Getenv("CONCLAB_SCREENSHOT"); path != "" {
		if png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(90)); err == nil {
			os.WriteFile(path, png, 0o644)
		}
	}

	// The server remembers the run: a fresh page shows it in the recap.
	b.Do(t, chromedp.Reload())
	b.WaitFor(t, "the page to load again", `document.querySelector('table.recap') !== null`)
	if got := e2e.Eval[string](t, b, recapRow+`.dataset.state`); got != "ran" {
		t.Errorf("after a reload the recap's workload-lab row is %q, want ran", got)
	}
	b.NoErrors(t)
}

// TestWorkloadSolutionPresets: each row of the Workload → solution table
// puts its workload into the lab's form, ready to run.
func TestWorkloadSolutionPresets(t *testing.T) {
	b := e2e.NewBrowser(t, 60*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/choosing"))
	rows := e2e.Eval[int](t, b, `document.querySelectorAll('table.solutions tbody tr').length`)
	if rows != 4 {
		t.Fatalf("%d rows in the Workload → solution table, want 4", rows)
	}
	for _, lang := range []string{"asyncio", "Promises", "multiprocessing", "Web Workers"} {
		if !e2e.Eval[bool](t, b, `document.querySelector('table.solutions').textContent.includes(`+strconv.Quote(lang)+`)`) {
			t.Errorf("the table does not name %s", lang)
		}
	}
	for i := range rows {
		got := e2e.Eval[[]string](t, b, `(() => {
			const btn = document.querySelectorAll('table.solutions button.preset')[`+strconv.Itoa(i)+`];
			btn.click();
			const v = (n) => document.getElementById('workload-lab--' + n).value;
			return [btn.dataset.tasks, btn.dataset.cpuMs, btn.dataset.ioMs, v('tasks'), v('cpu_ms'), v('io_ms')];
		})()`)
		if len(got) != 6 || got[0] != got[3] || got[1] != got[4] || got[2] != got[5] {
			t.Errorf("row %d: the button's workload %v did not reach the form %v", i+1, got[:3], got[3:])
		}
	}
	b.NoErrors(t)
}

package lessons_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestThreadingModelsInBrowser runs threading-models from the lesson page
// and checks the progress lanes fill while it runs, the N:1 stall
// shows in the table, and the diagrams light up with what was measured.
func TestThreadingModelsInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 90*time.Second)
	srv := startServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/threading-models"))
	panel := `document.querySelector('[data-experiment="threading-models"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('.tm-map svg[role="img"]').length`); n != 3 {
		t.Fatalf("%d mapping diagrams on the page, want 3", n)
	}

	// Small sizes keep the run short on a busy machine: about three seconds,
	// longer than the page takes to draw a running run first.
	e2e.Eval[chromedp.Void](t, b, `(() => {
		for (const [name, v] of [['tasks', 3], ['block', 500], ['batches', 5]]) {
			document.getElementById('threading-models--' + name).value = v;
		}
		const p = `+panel+`;
		window.__lanes = 0;
		new MutationObserver(() => {
			if (p.querySelector('.status').dataset.state !== 'running') return;
			const drawn = ['lane-1to1', 'lane-nto1', 'lane-mton']
				.filter((c) => p.querySelectorAll('[data-chart="' + c + '"] path.line').length > 0).length;
			window.__lanes = Math.max(window.__lanes, drawn);
		}).observe(p, { subtree: true, childList: true, attributes: true });
	})()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="threading-models"] button.run`)))
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)

	// The page draws at most once a second while a run goes (panel.js), so
	// a short run shows some of its lanes live, and all of them at its end.
	if got := e2e.Eval[int](t, b, `window.__lanes`); got == 0 {
		t.Errorf("none of the 3 progress lanes was drawn while the run was going")
	}
	for _, chart := range []string{"lane-1to1", "lane-nto1", "lane-mton"} {
		if n := e2e.Eval[int](t, b, panel+`.querySelectorAll('[data-chart="`+chart+`"] path.line').length`); n != 4 {
			t.Errorf("%s: %d task lines, want 4 (3 tasks and the reader)", chart, n)
		}
	}
	pace := e2e.Eval[string](t, b, panel+`.querySelector('[data-table="models"] tr[data-key="nto1"]').textContent`)
	if !strings.Contains(pace, "0% (0 chunks)") {
		t.Errorf("the N:1 row does not show the stall: %q", pace)
	}
	verdicts := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('.claim .verdict')].map(v => v.dataset.verdict)`)
	if len(verdicts) != 5 {
		t.Fatalf("got %d claims on the panel, want 5", len(verdicts))
	}
	for i, v := range verdicts {
		if v != "holds" && v != "differs" && v != "inconclusive" {
			t.Errorf("claim %d has verdict %q", i, v)
		}
	}
	// The diagrams now carry the measured figures: N:1 used one thread.
	b.WaitFor(t, "the diagrams to be filled", `document.querySelectorAll('.tm-map[data-state="measured"]').length === 3`)
	if got := e2e.Eval[string](t, b, `document.querySelector('.tm-map[data-model="N:1"] .tm-value[data-what="threads"]').textContent`); got != "1" {
		t.Errorf("N:1 diagram says %q kernel threads, want 1", got)
	}
	if n := e2e.Eval[int](t, b, `document.querySelectorAll('.tm-map[data-model="N:1"] .tm-thread.on').length`); n != 1 {
		t.Errorf("N:1 diagram lights %d kernel threads, want 1", n)
	}
	// Every diagram shows the figures of the result (found by key), not the
	// last live gauge reading.
	for _, model := range []string{"1:1", "N:1", "M:N"} {
		for _, what := range []string{"threads", "cpus"} {
			got := e2e.Eval[string](t, b, `document.querySelector('.tm-map[data-model="`+model+`"] .tm-value[data-what="`+what+`"]').textContent`)
			if _, err := strconv.ParseFloat(got, 64); err != nil {
				t.Errorf("%s diagram shows %q for %s, want the measured figure", model, got, what)
			}
		}
	}
	if path := os.Getenv("CONCLAB_SCREENSHOT"); path != "" {
		if png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(90)); err == nil {
			os.WriteFile(path, png, 0o644)
		}
	}
	b.NoErrors(t)
}

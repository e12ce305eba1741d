package lessons_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
	"conclab/internal/lab"
	"conclab/lessons"
)

// TestPageCPU measures what a page costs the machine while a learner
// watches a run: for every experiment, the CPU time Chromium (all its
// processes) used from pressing Run until the verdicts were in, as a share
// of one CPU over that time, beside what the same page costs idle. The
// goal is under 5% of one CPU: a browser on the serving machine competes
// with the run for its CPUs, and the run counts it as another program. It
// also checks that every chart is complete when the run has ended, though
// the page draws at a bounded rate while the run measures.
//
// It is a measurement, so it runs only when asked, on an idle machine:
//
//	CONCLAB_PAGE_CPU=1 go test ./lessons -run TestPageCPU -v -timeout 60m
//
// CONCLAB_PAGE_CPU_QUICK=1 uses the experiments' quick settings (a short
// try), CONCLAB_PAGE_CPU_ONLY=id,id measures only those experiments, and
// CONCLAB_PAGE_CPU_LIMIT=0.05 fails an experiment whose page took more
// than that share of a CPU.
func TestPageCPU(t *testing.T) {
	if os.Getenv("CONCLAB_PAGE_CPU") != "1" {
		t.Skip("a measurement for an idle machine: set CONCLAB_PAGE_CPU=1 to run it")
	}
	quick := os.Getenv("CONCLAB_PAGE_CPU_QUICK") == "1"
	var only []string
	if s := os.Getenv("CONCLAB_PAGE_CPU_ONLY"); s != "" {
		only = strings.Split(s, ",")
	}
	limit, _ := strconv.ParseFloat(os.Getenv("CONCLAB_PAGE_CPU_LIMIT"), 64)
	b := e2e.NewBrowser(t, 60*time.Minute)
	srv := startServer(t)
	var report []string
	for _, l := range lessons.Course().Lessons() {
		for _, e := range l.Experiments {
			if only != nil && !slices.Contains(only, e.ID) {
				continue
			}
			t.Run(e.ID, func(t *testing.T) {
				share, idle, wall := watchOne(t, b, srv.URL+"/lessons/"+l.Slug, e, quick)
				line := fmt.Sprintf("| `%s` | %.1f s | %.1f%% | %.1f%% |", e.ID, wall.Seconds(), 100*share, 100*idle)
				report = append(report, line)
				t.Log(line)
				if limit > 0 && share > limit {
					t.Errorf("the page took %.1f%% of a CPU while %s ran, more than %.1f%%", 100*share, e.ID, 100*limit)
				}
			})
		}
	}
	t.Logf("Chromium's CPU while watching each experiment (quick settings: %v):\n| experiment | run | page, watching | page, idle |\n|---|---|---|---|\n%s", quick, strings.Join(report, "\n"))
	b.NoErrors(t)
}

// watchOne opens the experiment's lesson, measures the idle page for a
// second, then runs the experiment and measures the page while it runs.
// It returns the share of one CPU the browser took while watching, while
// idle, and the run's wall time.
func watchOne(t *testing.T, b *e2e.Browser, url string, e *lab.Experiment, quick bool) (share, idle float64, wall time.Duration) {
	t.Helper()
	panel := `document.querySelector('[data-experiment="` + e.ID + `"]')`
	b.Do(t, chromedp.Navigate(url))
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	if quick {
		for _, p := range e.Params {
			if p.Quick == nil {
				continue
			}
			v, _ := json.Marshal(p.Quick)
			e2e.Eval[bool](t, b, `(() => { const i = document.getElementById(`+strconv.Quote(e.ID+"--"+p.Name)+`);
				if (!i) return false; if (i.type === 'checkbox') i.checked = `+string(v)+`; else i.value = String(`+string(v)+`); return true; })()`)
		}
	}
	time.Sleep(2 * time.Second) // let the page settle after loading
	c0, t0 := b.CPU(t), time.Now()
	time.Sleep(2 * time.Second) // the page alone: its timers, its idle websocket
	c1, t1 := b.CPU(t), time.Now()
	idle = (c1 - c0).Seconds() / t1.Sub(t0).Seconds()

	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="`+e.ID+`"] button.run`)))
	// Wait inside the page, looking twice a second: polling from here
	// would make the browser evaluate a script every 50 ms, which is load
	// of the test's own that a learner's browser does not have.
	_, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`new Promise((done) => { const p = `+panel+`;
		const t = setInterval(() => { if (['finished', 'failed', 'timeout', 'cancelled'].includes(p.querySelector('.status').dataset.state)) { clearInterval(t); done(true); } }, 500); })`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("waiting for the run to end: %v", err)
	}
	c2, t2 := b.CPU(t), time.Now()
	wall = t2.Sub(t1)
	share = (c2 - c1).Seconds() / wall.Seconds()
	if state := e2e.Eval[string](t, b, panel+`.querySelector('.status').dataset.state`); state != "finished" {
		t.Errorf("the run ended %s", state)
	}
	// Every chart whose table got data is drawn: the bounded redraws
	// left nothing behind at the end.
	missing := e2e.Eval[[]string](t, b, `[...`+panel+`.querySelectorAll('figure.chart')].filter(f =>
		f.querySelectorAll('tbody tr:not(:has(td.empty))').length > 0 && !f.querySelector('.plot svg')).map(f => f.dataset.chart)`)
	if len(missing) > 0 {
		t.Errorf("charts with data but no drawing at the end: %v", missing)
	}
	return share, idle, wall
}

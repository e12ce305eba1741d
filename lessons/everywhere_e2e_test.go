package lessons_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/app"
	"conclab/internal/e2e"
)

// TestEveryHostInBrowser: on a course with two measuring hosts, the
// dashboard lists them live; the instructor runs one experiment on every
// host at once, and the panel — the instructor's and a following
// student's — lays the hosts side by side, with the spread across them.
func TestEveryHostInBrowser(t *testing.T) {
	instructor := e2e.NewBrowser(t, 120*time.Second)
	student := instructor.NewPerson(t)
	dashboard := instructor.NewTab(t)
	srv := serveCourseWith(t, app.Options{Parallel: 2, HostName: "bench"})
	instructor.Do(t, chromedp.Navigate(srv.URL+"/class?key="+srv.App.InstructorKey))
	dashboard.Do(t, chromedp.Navigate(srv.URL+"/class"))
	dashboard.WaitFor(t, "the dashboard to list both hosts", `document.querySelectorAll('[data-testid="hosts-table"] tbody tr').length === 2`)
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	for _, b := range []*e2e.Browser{instructor, student} {
		b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
		b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	}
	if e2e.Eval[bool](t, student, panel+`.querySelector('button.run-everywhere') !== null`) {
		t.Error("a student's panel offers to run on every host")
	}
	instructor.Do(t, chromedp.SetValue(chromedp.ID("yield-batching--items"), "20000"),
		chromedp.SetValue(chromedp.ID("yield-batching--budget"), "200"),
		chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.run-everywhere`)))
	rows := panel + `.querySelectorAll('[data-testid="everywhere-table"] tbody tr')`
	spread := panel + `.querySelector('[data-testid="everywhere-table"] tfoot th')?.textContent === 'Spread'`
	for _, b := range []*e2e.Browser{instructor, student} {
		b.WaitFor(t, "a row per host", rows+`.length === 2`)
		b.WaitFor(t, "every host to finish, and the spread", spread)
		if got := e2e.Eval[string](t, b, rows+`[1].querySelector('th').textContent`); got != "bench#2" && got != "bench" {
			t.Errorf("a host's row is named %q", got)
		}
	}
	for _, b := range []*e2e.Browser{instructor, student, dashboard} {
		b.NoErrors(t)
	}
}

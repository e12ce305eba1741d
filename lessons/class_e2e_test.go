package lessons_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestAClassInBrowser: an instructor and two students, each in a browser
// of their own. A student's results survive another student's run and
// the instructor's; the instructor's run plays live beside them and the
// student can switch between the two and back; the instructor's present
// moves a follower, and not a student who stopped following.
func TestAClassInBrowser(t *testing.T) {
	instructor := e2e.NewBrowser(t, 120*time.Second)
	ann, bob := instructor.NewPerson(t), instructor.NewPerson(t)
	dashboard := instructor.NewTab(t) // the instructor's second tab: same cookies
	srv := startServer(t)
	instructor.Do(t, chromedp.Navigate(srv.URL+"/class?key="+srv.App.InstructorKey))
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	rows := panel + `.querySelectorAll('[data-chart="rate"] tbody tr').length`
	for _, b := range []*e2e.Browser{instructor, ann, bob} {
		b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
		b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	}
	dashboard.Do(t, chromedp.Navigate(srv.URL+"/class"))
	// The two students are the class; the instructor's own tab is not counted.
	dashboard.WaitFor(t, "the dashboard to count the two students on the lesson", `document.querySelector('[data-testid="learners"]').textContent === '2'`)

	run := func(b *e2e.Browser, items int) {
		t.Helper()
		b.Do(t, chromedp.SetValue(chromedp.ID("yield-batching--items"), fmt.Sprint(items)),
			chromedp.SetValue(chromedp.ID("yield-batching--budget"), "300"),
			chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.run`)))
	}
	finished := panel + `.querySelector('.status').dataset.state === 'finished'`

	run(ann, 40_000)
	ann.WaitFor(t, "ann's run to finish", finished)
	annRun := e2e.Eval[string](t, ann, `window.conclab.panelFor('yield-batching').own.run`)
	annFigures := e2e.Eval[string](t, ann, panel+`.querySelector('table.metrics tbody').textContent`)
	if n := e2e.Eval[int](t, ann, rows); n != yieldRows() {
		t.Fatalf("ann's rate table has %d rows, want %d", n, yieldRows())
	}

	// Another student's run is not broadcast: ann's panel is untouched.
	run(bob, 50_000)
	bob.WaitFor(t, "bob's run to finish", finished)
	if got := e2e.Eval[string](t, ann, `window.conclab.panelFor('yield-batching').own.run`); got != annRun {
		t.Errorf("ann's panel now holds run %s, want her own %s", got, annRun)
	}
	if e2e.Eval[bool](t, ann, panel+`.querySelector('.views').hidden === false`) {
		t.Error("a student's run showed on another student's page")
	}

	// The instructor's run plays beside ann's results, not over them.
	run(instructor, 60_000)
	ann.WaitFor(t, "the instructor's run to be offered beside ann's", panel+`.querySelector('.views').hidden === false`)
	if got := e2e.Eval[string](t, ann, panel+`.dataset.showing`); got != "own" {
		t.Errorf("ann's panel switched to %q by itself; her own results must stay on screen", got)
	}
	if got := e2e.Eval[string](t, ann, panel+`.querySelector('table.metrics tbody').textContent`); got != annFigures {
		t.Error("ann's figures changed when the instructor ran")
	}
	ann.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.view[data-view="presenter"]`)))
	ann.WaitFor(t, "the instructor's run, live, on ann's page", panel+`.dataset.origin === 'other'`)
	ann.WaitFor(t, "the instructor's run to finish on ann's page", finished)
	if n := e2e.Eval[int](t, ann, rows); n != yieldRows() {
		t.Errorf("the instructor's rate table on ann's page has %d rows, want %d", n, yieldRows())
	}
	ann.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.view[data-view="own"]`)))
	ann.WaitFor(t, "ann's own results back", panel+`.dataset.showing === 'own'`)
	if got := e2e.Eval[string](t, ann, panel+`.querySelector('table.metrics tbody').textContent`); got != annFigures {
		t.Error("switching back did not bring back ann's own figures")
	}
	if n := e2e.Eval[int](t, ann, rows); n != yieldRows() {
		t.Errorf("ann's own rate table has %d rows after switching back, want %d", n, yieldRows())
	}
	bob.WaitFor(t, "bob to be offered the instructor's run too", panel+`.querySelector('.views').hidden === false`)

	// Present: ann follows and moves; bob stopped following and stays.
	bob.WaitFor(t, "the class bar", `document.querySelector('.classbar').hidden === false`)
	bob.Do(t, chromedp.Click(chromedp.CSS(`.classbar input.follow`)))
	bob.WaitFor(t, "the server to confirm bob stopped following", `window.conclab.followingAck === false`)
	dashboard.Do(t, chromedp.SetValue(chromedp.ID("present-lesson"), "processes-vs-threads"))
	dashboard.Do(t, chromedp.SetValue(chromedp.ID("present-anchor"), "exp-isolation"))
	dashboard.Do(t, chromedp.Click(chromedp.CSS(`[data-testid="present"]`)))
	ann.WaitFor(t, "ann's page to move where the instructor presents", `location.pathname === '/lessons/processes-vs-threads' && location.hash === '#exp-isolation'`)
	dashboard.WaitFor(t, "the dashboard to confirm", `document.querySelector('[data-testid="present-status"]').textContent.startsWith('Sent')`)
	// The server sent the present to its followers before it confirmed it
	// to the dashboard. A round trip on bob's own connection, answered
	// after anything queued to it before, shows he was sent nothing.
	e2e.Eval[bool](t, bob, `window.conclab.followingAck = null, window.conclab.send({op: 'follow', on: false}), true`)
	bob.WaitFor(t, "a second confirmation on bob's connection", `window.conclab.followingAck === false`)
	if got := e2e.Eval[bool](t, bob, `window.conclab.presented === undefined`); !got {
		t.Error("bob stopped following but was sent the instructor's present")
	}
	if path := e2e.Eval[string](t, bob, `location.pathname`); !strings.HasSuffix(path, "/lessons/context-switching") {
		t.Errorf("bob stopped following but was moved to %s", path)
	}
	for _, b := range []*e2e.Browser{instructor, ann, bob, dashboard} {
		b.NoErrors(t)
	}
}

// TestARecentRunIsOfferedInBrowser: asking again for a run that just
// finished shows that run at once, labelled with when it was measured,
// with a button that measures it again.
func TestARecentRunIsOfferedInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 90*time.Second)
	srv := startServer(t)
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	b.Do(t, chromedp.SetValue(chromedp.ID("yield-batching--items"), "40000"),
		chromedp.SetValue(chromedp.ID("yield-batching--budget"), "300"),
		chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.run`)))
	b.WaitFor(t, "the first run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)
	first := e2e.Eval[string](t, b, `window.conclab.panelFor('yield-batching').own.run`)

	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.run`)))
	b.WaitFor(t, "the offer", panel+`.querySelector('.offer').hidden === false`)
	if got := e2e.Eval[string](t, b, `window.conclab.panelFor('yield-batching').own.run`); got != first {
		t.Errorf("the offer shows run %s, want the finished one %s", got, first)
	}
	if text := e2e.Eval[string](t, b, panel+`.querySelector('.offer-text').textContent`); !strings.Contains(text, "measured here at") {
		t.Errorf("the offer says %q; it must say when the run was measured", text)
	}
	b.WaitFor(t, "the offered run's results, at once", panel+`.querySelectorAll('[data-chart="rate"] tbody tr').length === `+strconv.Itoa(yieldRows()))

	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.fresh`)))
	b.WaitFor(t, "a fresh run to finish", panel+`.querySelector('.status').dataset.state === 'finished' && window.conclab.panelFor('yield-batching').own.run !== '`+first+`'`)
	if e2e.Eval[bool](t, b, panel+`.querySelector('.offer').hidden === false`) {
		t.Error("the offer is still shown over a fresh run")
	}
	b.NoErrors(t)
}

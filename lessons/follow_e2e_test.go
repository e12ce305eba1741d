package lessons_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestAFollowerSeesTheWholeRun: a page that follows a run the instructor
// started ends with all of it — every point in the chart's table — the
// moment it says the run finished, even when the browser draws frames
// slowly, as it does on a busy machine. (The table was filled on the next
// animation frame, so a page read as soon as it said "finished" could
// miss the last rows.)
func TestAFollowerSeesTheWholeRun(t *testing.T) {
	starter := e2e.NewBrowser(t, 90*time.Second)
	follower := starter.NewPerson(t)
	follower.SlowFrames(t, 3000)
	srv := startServer(t)
	starter.Do(t, chromedp.Navigate(srv.URL+"/class?key="+srv.App.InstructorKey)) // the instructor's runs are the ones followed
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	for _, b := range []*e2e.Browser{follower, starter} {
		b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
		b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	}
	starter.Do(t, chromedp.SetValue(chromedp.ID("yield-batching--items"), "100000"),
		chromedp.Click(chromedp.CSS(`[data-experiment="yield-batching"] button.run`)))
	follower.WaitFor(t, "the follower's page to follow the run", panel+`.dataset.origin === 'other'`)
	follower.WaitFor(t, "the run to finish on the follower's page", panel+`.querySelector('.status').dataset.state === 'finished'`)
	if n := e2e.Eval[int](t, follower, panel+`.querySelectorAll('[data-chart="rate"] tbody tr').length`); n != yieldRows() {
		t.Errorf("the follower's rate table has %d rows when the run is finished, want %d", n, yieldRows())
	}
	follower.NoErrors(t)
	starter.NoErrors(t)
}

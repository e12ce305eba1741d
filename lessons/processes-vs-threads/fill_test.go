package processesvsthreads

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"conclab/internal/lab"
	"conclab/web/ui"
)

// The comparison table shows the newest run's figures when the page is
// rendered, and a link to the experiment when there is no run yet.
func TestComparisonFillsFromLatestRun(t *testing.T) {
	t.Parallel()
	p := ui.Page{Latest: map[string]ui.Measured{"crash-isolation": {Metrics: []lab.Metric{
		{Key: "crash.processes.siblings_finished", Name: "Sibling processes that finished after the crash", Value: 3, Unit: "of 3"},
		{Key: "crash.threads.alive_after", Name: "Threads still running after one crashed", Value: 0, Unit: "of 4"},
	}}}}
	var buf bytes.Buffer
	if err := comparison(p).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`data-fill="crash-isolation" data-key="crash.processes.siblings_finished" data-filled="true">3 of 3<`,
		`data-fill="crash-isolation" data-key="crash.threads.alive_after" data-filled="true">0 of 4<`,
		`data-fill="spawn-cost" data-key="spawn.process"><a href="#exp-spawn-cost">run spawn-cost</a>`,
		`<a href="/lessons/context-switching#exp-switch-cost">run switch-cost</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the table lacks %s", want)
		}
	}
	if n := strings.Count(html, `data-filled="true"`); n != 2 {
		t.Errorf("%d cells filled, want 2", n)
	}
}

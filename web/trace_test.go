package web_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/exp/trace"
)

// A scheduler-trace run carries the runtime's execution trace in its
// events; /runs/{id}/trace puts it back together as a file go tool trace
// opens, and the run's page offers it and lists the chart's spans and
// marks. The fixture is a real quick run.
func TestRunTrace(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	events := fixture(t, "scheduler-trace")
	id := s.put(t, events, "")

	resp, body := get(t, s.url+"/runs/"+id+"/trace")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `attachment; filename=conclab-`+id+`.trace`) {
		t.Fatalf("GET /runs/%s/trace: %d %q %q", id, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	r, err := trace.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the served trace does not open: %v", err)
	}
	n := 0
	for ; ; n++ {
		if _, err := r.ReadEvent(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("the served trace breaks after %d events: %v", n, err)
		}
	}
	if n < 100 {
		t.Errorf("the served trace holds %d events", n)
	}

	_, page := get(t, s.url+"/runs/"+id)
	for _, want := range []string{
		`data-testid="trace-download"`, `href="/runs/` + id + `/trace"`, "go tool trace conclab-" + id + ".trace",
		`data-chart="sched"`, `data-kind="sched"`, "entered read() on thread", "until preempted",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the run's page lacks %q", want)
		}
	}

	// Two runs compared: a scheduler's lanes side by side, one figure each.
	second := s.put(t, events, "")
	if _, page := get(t, s.url+"/compare?a="+id+"&b="+second); strings.Count(page, `data-kind="sched"`) != 2 {
		t.Errorf("the comparison has %d sched figures, want one per run", strings.Count(page, `data-kind="sched"`))
	}

	// A run without a trace, a trace with its part missing, and no run.
	other := s.put(t, fixture(t, "switch-cost"), "")
	var cut bytes.Buffer
	for _, l := range strings.SplitAfter(string(events), "\n") {
		if !strings.Contains(l, `"type":"trace-part"`) {
			cut.WriteString(l)
		}
	}
	broken := s.put(t, cut.Bytes(), "")
	for _, c := range []struct{ path, want string }{
		{"/runs/" + other + "/trace", "carries no execution trace"},
		{"/runs/" + broken + "/trace", "cannot be offered"},
		{"/runs/0123456789ab/trace", "There is no run"},
		{"/runs/nope/trace", "is not a run id"},
	} {
		if resp, body := get(t, s.url+c.path); resp.StatusCode != 404 || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d %q, want 404 saying %q", c.path, resp.StatusCode, body, c.want)
		}
	}
	if _, page := get(t, s.url+"/runs/"+other); strings.Contains(page, "trace-download") {
		t.Error("a run without a trace offers one")
	}
}

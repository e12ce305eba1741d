package web_test

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"conclab/internal/app"
	"conclab/internal/engine"
)

// serverWithHosts is the course measuring on this machine as n hosts.
func serverWithHosts(t *testing.T, n int) *server {
	t.Helper()
	a := app.New(app.Options{Course: theCourse(), Parallel: n, HostName: "here", InstructorKey: testKey,
		Log: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	t.Cleanup(a.Close)
	ts := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return &server{url: ts.URL, sched: a.Scheduler}
}

// /api/hosts lists the measuring hosts with their facts; a run may name
// its host, and one that is not there is refused with the hosts' names.
func TestHostsAreListedAndNamed(t *testing.T) {
	t.Parallel()
	s := serverWithHosts(t, 2)
	resp, b := get(t, s.url+"/api/hosts")
	code := resp.StatusCode
	var hosts []engine.HostInfo
	if code != 200 || json.Unmarshal([]byte(b), &hosts) != nil || len(hosts) != 2 || hosts[0].Name != "here" || hosts[1].Name != "here#2" ||
		hosts[0].Host.Name != "here" || hosts[0].State != engine.HostIdle {
		t.Fatalf("/api/hosts: %d %s", code, b)
	}
	c := mustDial(t, s)
	c.send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 10}, "host": "here#2"})
	acc := c.next("accepted", typ("accepted"))
	started := c.next("its start", func(m map[string]any) bool { return m["type"] == "started" && m["run"] == acc["run"] })
	if h := started["host"].(map[string]any)["name"]; h != "here#2" {
		t.Errorf("the run naming here#2 ran on %v", h)
	}
	c.send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 11}, "host": "elsewhere"})
	if e := c.next("an error", typ("error")); !strings.Contains(e["message"].(string), `no such host "elsewhere": the hosts are here, here#2`) {
		t.Errorf("a run naming a host that is not there: %v", e["message"])
	}
}

// The instructor runs an experiment on every host at once: one run per
// host, named to it, announced as a group; a student may not.
func TestTheInstructorRunsOnEveryHost(t *testing.T) {
	t.Parallel()
	s := serverWithHosts(t, 2)
	student := mustDial(t, s)
	student.send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 10}, "everywhere": true})
	if e := student.next("an error", typ("error")); !strings.Contains(e["message"].(string), "only the instructor") {
		t.Errorf("a student's run everywhere: %v", e["message"])
	}
	teacher, err := dialAs(t, s, "", "", instructorCookies(t, s.url))
	if err != nil {
		t.Fatal(err)
	}
	teacher.send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 10}, "everywhere": true})
	g := teacher.next("the group", typ("everywhere"))
	want := map[string]string{} // run → the host it was named to
	var hosts []string
	for _, r := range g["runs"].([]any) {
		rr := r.(map[string]any)
		want[rr["run"].(string)] = rr["host"].(string)
		hosts = append(hosts, rr["host"].(string))
	}
	for started := 0; started < len(want); started++ {
		m := teacher.next("every host's run to start", func(m map[string]any) bool { return m["type"] == "started" })
		if h := m["host"].(map[string]any)["name"]; h != want[m["run"].(string)] {
			t.Errorf("the run of %v ran on %v", want[m["run"].(string)], h)
		}
	}
	slices.Sort(hosts)
	if !slices.Equal(hosts, []string{"here", "here#2"}) {
		t.Errorf("the group's hosts: %v, want both", hosts)
	}
}

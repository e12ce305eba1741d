package web_test

import (
	"conclab/internal/engine"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type client struct {
	t    *testing.T
	c    *websocket.Conn
	ctx  context.Context
	msgs chan map[string]any
}

// cookiesOf opens the course's front page as a new browser would and
// returns the cookies it is given: a learner's.
func cookiesOf(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var parts []string
	for _, c := range resp.Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		t.Fatal("the front page set no learner cookie")
	}
	return strings.Join(parts, "; ")
}

// instructorCookies logs in at /class?key= as the instructor would, and
// returns the cookies that gives: the instructor's and a learner's.
func instructorCookies(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url + "/class?key=" + testKey)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("/class?key=<the key>: %d, want 303", resp.StatusCode)
	}
	var parts []string
	for _, c := range resp.Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// dial opens the websocket as a new learner (a browser that opened the
// front page first).
func dial(t *testing.T, s *server, origin, query string) (*client, error) {
	t.Helper()
	return dialAs(t, s, origin, query, cookiesOf(t, s.url))
}

// dialAs opens the websocket with these cookies ("" for none).
func dialAs(t *testing.T, s *server, origin, query, cookies string) (*client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if origin != "" {
		opts.HTTPHeader.Set("Origin", origin)
	}
	if cookies != "" {
		opts.HTTPHeader.Set("Cookie", cookies)
	}
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/ws"+query, opts)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	cl := &client{t: t, c: c, ctx: ctx, msgs: make(chan map[string]any, 4096)}
	go func() {
		defer close(cl.msgs)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("server sent non-JSON: %s", b)
				return
			}
			cl.msgs <- m
		}
	}()
	return cl, nil
}

func mustDial(t *testing.T, s *server) *client {
	t.Helper()
	c, err := dial(t, s, "", "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	if err := c.c.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next message for which ok is true, skipping others.
func (c *client) next(what string, ok func(m map[string]any) bool) map[string]any {
	c.t.Helper()
	for {
		select {
		case m, open := <-c.msgs:
			if !open {
				c.t.Fatalf("connection closed while waiting for %s", what)
			}
			if ok(m) {
				return m
			}
		case <-c.ctx.Done():
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func typ(want string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == want }
}

func run(hold int) map[string]any {
	return map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": hold}}
}

func TestRunStreamsEventsThroughDone(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	c := mustDial(t, s)
	c.send(run(10))
	acc := c.next("accepted", typ("accepted"))
	id := acc["run"]
	var types []string
	lastSeq := 0.0
	for {
		m := c.next("an event", func(m map[string]any) bool { return true })
		if m["run"] != id {
			t.Fatalf("event %v is not tagged with run %v", m, id)
		}
		if m["type"] == "queued" {
			continue
		}
		if seq := m["seq"].(float64); seq <= lastSeq {
			t.Errorf("seq went from %v to %v", lastSeq, seq)
		} else {
			lastSeq = seq
		}
		types = append(types, m["type"].(string))
		if m["type"] == "done" {
			if m["status"] != "ok" {
				t.Errorf("done: %v", m)
			}
			break
		}
	}
	if got, want := strings.Join(types, " "), "started progress progress result done"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
}

// children counts this process's child processes that are runs.
func children(t *testing.T) []int {
	t.Helper()
	var pids []int
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			var pid int
			fmt.Sscan(f, &pid)
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if strings.Contains(string(cmd), "experiment\x00ws-hold") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func TestTwentyIdenticalRequestsShareOneChild(t *testing.T) {
	// Not parallel: it counts this process's children.
	s := newServer(t, engine.Config{})
	var clients []*client
	var id any
	for i := range 20 {
		c := mustDial(t, s)
		c.send(run(3000))
		acc := c.next("accepted", typ("accepted"))
		if i == 0 {
			id = acc["run"]
		} else if acc["run"] != id || acc["joined"] != true {
			t.Fatalf("request %d got %v, want to join run %v", i, acc, id)
		}
		clients = append(clients, c)
	}
	for _, c := range clients {
		c.next("started", typ("started"))
	}
	if n := len(children(t)); n != 1 {
		t.Errorf("%d child processes for 20 identical requests, want 1", n)
	}
	info, _ := s.sched.Find(id.(string))
	if v := info.Info().Viewers; v != 20 {
		t.Errorf("%d viewers, want 20", v)
	}
	for _, c := range clients {
		if d := c.next("done", typ("done")); d["status"] != "ok" {
			t.Errorf("done: %v", d)
		}
	}
	if st := s.sched.Stats(); st.Started != 1 {
		t.Errorf("%d runs started, want 1", st.Started)
	}
}

func TestCancelLeavesNoProcess(t *testing.T) {
	s := newServer(t, engine.Config{})
	c := mustDial(t, s)
	c.send(run(60_000))
	id := c.next("accepted", typ("accepted"))["run"]
	pid := int(c.next("started", typ("started"))["pid"].(float64))
	c.send(map[string]any{"op": "cancel", "run": id})
	d := c.next("done", typ("done"))
	if d["status"] != "cancelled" {
		t.Errorf("done after cancel: %v", d)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !os.IsNotExist(err) {
		t.Errorf("child %d still exists after cancel", pid)
	}
	if pids := children(t); len(pids) != 0 {
		t.Errorf("child processes left: %v", pids)
	}
}

func TestLimitsAreClearErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{Queue: 1})
	a, b := mustDial(t, s), mustDial(t, s)
	a.send(run(60_000))
	a.next("started", typ("started"))
	a.send(run(50_001)) // queued: the queue is now full
	a.next("queued", typ("queued"))
	a.send(run(50_002))
	if e := a.next("error", typ("error")); !strings.Contains(e["message"].(string), "you already have 2 runs") {
		t.Errorf("third run on one connection: %v", e)
	}
	b.send(run(50_003))
	if e := b.next("error", typ("error")); !strings.Contains(e["message"].(string), "queue is full") {
		t.Errorf("run with a full queue: %v", e)
	}
}

func TestBadRequestsGetErrorsAndTheConnectionLives(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	c := mustDial(t, s)
	tests := []struct {
		name string
		msg  any
		want string
	}{
		{"malformed JSON", `{"op": "run",`, "malformed message"},
		{"not an object", `[1,2]`, "malformed message"},
		{"missing op", `{}`, "missing op"},
		{"unknown op", map[string]any{"op": "explode"}, `unknown op "explode"`},
		{"unknown experiment", map[string]any{"op": "run", "experiment": "nope"}, `unknown experiment "nope"`},
		{"out of range", map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": 1e9}}, "hold must be an integer from 0 to 60000, got 1000000000"},
		{"unknown param", map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"speed": 1}}, `no parameter "speed"`},
		{"wrong type", map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{"hold": "lots"}}, "hold must be an integer"},
		{"oversized", `{"op":"run","experiment":"` + strings.Repeat("x", 40_000) + `"}`, "message too large"},
		{"unknown run", map[string]any{"op": "watch", "run": "nope"}, `run "nope" is not on this server`},
		{"cancel unknown run", map[string]any{"op": "cancel", "run": "nope"}, `run "nope" is not on this server`},
	}
	for _, tt := range tests {
		c.send(tt.msg)
		e := c.next("error for "+tt.name, typ("error"))
		if msg, _ := e["message"].(string); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: error %q, want it to contain %q", tt.name, msg, tt.want)
		}
	}
	if err := c.c.Write(c.ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	c.next("error for binary", typ("error"))
	// Still usable: a good request runs.
	c.send(run(0))
	if d := c.next("done", typ("done")); d["status"] != "ok" {
		t.Errorf("after bad requests, a run ended %v", d)
	}
}

func TestOriginCheck(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	if _, err := dial(t, s, s.url, ""); err != nil {
		t.Errorf("same-host Origin %s refused: %v", s.url, err)
	}
	if _, err := dial(t, s, "https://evil.example", ""); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("foreign Origin: err = %v, want a 403 refusal", err)
	}
}

func TestLessonFollowersSeeOthersRuns(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	student, err := dial(t, s, "", "?lesson="+benchSlug)
	if err != nil {
		t.Fatal(err)
	}
	instructor, err := dialAs(t, s, "", "", instructorCookies(t, s.url))
	if err != nil {
		t.Fatal(err)
	}
	instructor.send(run(20))
	id := instructor.next("accepted", typ("accepted"))["run"]
	live := student.next("live", typ("live"))
	if live["run"] != id || live["experiment"] != "ws-hold" {
		t.Errorf("announcement %v, want run %v", live, id)
	}
	student.send(map[string]any{"op": "watch", "run": id})
	student.next("done", func(m map[string]any) bool { return m["type"] == "done" && m["run"] == id })
}

// Shutting the scheduler down kills a running run's processes.
func TestCloseKillsRuns(t *testing.T) {
	s := newServer(t, engine.Config{})
	c := mustDial(t, s)
	c.send(run(60_000))
	pid := int(c.next("started", typ("started"))["pid"].(float64))
	s.sched.Close()
	if d := c.next("done", typ("done")); d["status"] != "cancelled" {
		t.Errorf("done after shutdown: %v", d)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !os.IsNotExist(err) {
		t.Errorf("child %d still exists after shutdown", pid)
	}
}

// A page that asks for batches (/ws?batch=MS) is sent JSON arrays of
// messages, every message of the protocol in order, in fewer websocket
// messages than there are events; a bad batch is refused before the
// upgrade with the reason.
func TestBatchedDeliveryIsArraysInOrder(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.url, "http") + "/ws?batch=200"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookiesOf(t, s.url)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	b, _ := json.Marshal(run(10))
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	var types []string
	messages := 0
	for len(types) == 0 || types[len(types)-1] != "done" {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read after %v: %v", types, err)
		}
		messages++
		var batch []map[string]any
		if err := json.Unmarshal(data, &batch); err != nil {
			t.Fatalf("a batched connection was sent %s, not an array of messages: %v", data, err)
		}
		for _, m := range batch {
			if m["type"] != "queued" {
				types = append(types, m["type"].(string))
			}
		}
	}
	if got, want := strings.Join(types, " "), "accepted started progress progress result done"; got != want {
		t.Errorf("messages %q, want %q", got, want)
	}
	if messages >= len(types) {
		t.Errorf("%d messages came in %d websocket messages: none were sent together", len(types), messages)
	}

	for _, bad := range []string{"0", "abc", "5000", ""} {
		resp, err := http.Get(s.url + "/ws?batch=" + bad)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "batch must be a whole number of milliseconds from 1 to 1000") {
			t.Errorf("/ws?batch=%s: %d %q, want 400 with the allowed range", bad, resp.StatusCode, body)
		}
	}
}

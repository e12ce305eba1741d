package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"conclab/internal/store"
)

// serveEnv makes the test binary a real `conclab` process (see
// TestMain), so that a test can start a server and kill it.
const serveEnv = "CONCLAB_TEST_MAIN"

func serveMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return exitCode(run(ctx, os.Args, os.Stdout, os.Stderr), os.Stderr)
}

// server is `conclab serve` in a process of its own.
type server struct {
	cmd *exec.Cmd
	url string
}

func startProcess(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{}
	s.cmd = serveProcess(t, args, func(line string) bool {
		s.url = strings.TrimSuffix(strings.TrimPrefix(line, "Concurrency Lab is running at "), "/")
		return true
	})
	return s
}

// serveProcess starts `conclab serve --addr 127.0.0.1:0 args...` in a
// process of its own and hands each line it prints to read until read
// says it has what it needs. A server that prints nothing of the kind
// within a minute is killed and fails the test.
func serveProcess(t *testing.T, args []string, read func(line string) bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.Stderr = testLog{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	stuck := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() }) // which ends the read below
	defer stuck.Stop()
	rd := bufio.NewReader(out)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("the server did not print what the test waits for: %v", err)
		}
		if read(strings.TrimSpace(line)) {
			break
		}
	}
	go io.Copy(io.Discard, out)
	return cmd
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// cookieOf opens the front page as a browser would and returns the
// learner cookie it sets.
func cookieOf(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		return c.Name + "=" + c.Value
	}
	t.Fatal("the front page set no cookie")
	return ""
}

func body(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A server killed with SIGKILL in the middle of a run restarts with every
// earlier run intact and that run recorded as interrupted.
func TestKilledServerRestartsWithItsRuns(t *testing.T) {
	dir := t.TempDir()
	srv := startProcess(t, "--data", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.url, "http")+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookieOf(t, srv.url)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	next := func(ok func(m map[string]any) bool) map[string]any {
		t.Helper()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("websocket: %v", err)
			}
			var m map[string]any
			json.Unmarshal(b, &m)
			if m["type"] == "error" {
				t.Fatalf("the server said: %v", m["message"])
			}
			if ok(m) {
				return m
			}
		}
	}
	send := func(params map[string]any) {
		b, _ := json.Marshal(map[string]any{"op": "run", "experiment": "yield-batching", "params": params, "fresh": true})
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}

	// A run that finishes: every event the page saw is kept.
	send(map[string]any{"items": 10000, "budget": 100})
	first := next(func(m map[string]any) bool { return m["type"] == "accepted" })["run"].(string)
	seen := 0
	for {
		m := next(func(m map[string]any) bool { return m["run"] == first && m["seq"] != nil })
		seen++
		if m["type"] == "done" {
			if m["status"] != "ok" {
				t.Fatalf("the first run ended %v: %v", m["status"], m["error"])
			}
			break
		}
	}
	// A run killed with its server as it measures.
	send(map[string]any{"items": 5000000, "budget": 5000})
	second := next(func(m map[string]any) bool { return m["type"] == "accepted" })["run"].(string)
	next(func(m map[string]any) bool { return m["run"] == second && m["type"] == "progress" })
	// Wait until the store holds it as running (its row and started event
	// are written at once, off the measuring path), as another process
	// reading the same data directory sees it.
	for {
		st, err := store.Open(store.Options{Dir: dir, Source: store.SourceCLI})
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.Get(second)
		st.Close()
		if err == nil && r.Status == store.StatusRunning {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the running run never reached the store: %+v, %v", r, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()

	again := startProcess(t, "--data", dir)
	code, events := body(t, again.url+"/runs/"+first+".json")
	lines := strings.Split(strings.TrimSpace(events), "\n")
	if code != 200 || len(lines) != seen || !strings.Contains(lines[len(lines)-1], `"status":"ok"`) || !strings.Contains(lines[0], `"type":"started"`) {
		t.Errorf("after the restart the first run has %d events (status %d), want the %d the page saw, ending with done ok:\n%s", len(lines), code, seen, events)
	}
	code, page := body(t, again.url+"/runs/"+second)
	if code != 200 || !strings.Contains(page, `data-status="interrupted"`) || !strings.Contains(page, "stopped before it finished") {
		t.Errorf("the killed run's page (status %d) does not say it was interrupted", code)
	}
	code, out := body(t, again.url+"/runs/"+second+".json")
	if code != 200 || !strings.Contains(out, `"type":"started"`) {
		t.Errorf("the killed run kept none of what it measured: %d %q", code, out)
	}
}

// `conclab run` keeps its run unless --no-save; history, show, export and
// import read and carry it; a broken file is refused with its line.
func TestRunIsKeptAndCarried(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	code, _, stderr := conclab(t, "run", "yield-batching", "--quick", "--data", dir)
	if code != 0 || !strings.Contains(stderr, "Saved as run ") {
		t.Fatalf("run: exit %d, %s", code, stderr)
	}
	id := strings.Fields(strings.SplitAfter(stderr, "Saved as run ")[1])[0]
	if code, _, _ := conclab(t, "run", "yield-batching", "--quick", "--no-save", "--data", dir); code != 0 {
		t.Fatalf("run --no-save: exit %d", code)
	}

	code, out, _ := conclab(t, "history", "--json", "--data", dir)
	var list []historyEntry
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil {
		t.Fatalf("history --json: exit %d, %v: %s", code, err, out)
	}
	if len(list) != 1 || list[0].ID != id || list[0].Status != "ok" || list[0].Who != "terminal" || list[0].Source != "cli" || list[0].Headline == "" {
		t.Errorf("history --json = %+v, want the one saved run, by the terminal", list)
	}
	code, out, _ = conclab(t, "history", "--data", dir)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "have no learner") {
		t.Errorf("history: exit %d\n%s", code, out)
	}
	code, out, _ = conclab(t, "show", id, "--data", dir)
	for _, want := range []string{"run " + id, "yield-batching —", "Measured:", "Claims:", "ok after"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("show lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	code, file, _ := conclab(t, "export", id, "--data", dir)
	if code != 0 || !strings.HasPrefix(file, `{"type":"conclab-run"`) {
		t.Fatalf("export: exit %d, %.100s", code, file)
	}
	path := filepath.Join(t.TempDir(), "run.ndjson")
	os.WriteFile(path, []byte(file), 0o644)
	code, out, stderr = conclab(t, "import", path, "--data", other)
	if code != 0 || !strings.Contains(out, "Imported run "+id) {
		t.Fatalf("import: exit %d, %s %s", code, out, stderr)
	}
	if _, shown, _ := conclab(t, "show", id, "--data", other); !strings.Contains(shown, "Measured:") {
		t.Errorf("the imported run does not show:\n%s", shown)
	}
	broken := filepath.Join(t.TempDir(), "broken.ndjson")
	os.WriteFile(broken, []byte(file[:len(file)/2]), 0o644)
	code, _, stderr = conclab(t, "import", broken, "--data", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "line ") || !strings.Contains(stderr, "nothing was imported") {
		t.Errorf("a truncated file: exit %d, %q", code, stderr)
	}
	for _, args := range [][]string{{"show", "0123456789ab", "--data", dir}, {"show"}, {"export", "nope", "--data", dir}, {"import", "/no/such/file"}} {
		if code, _, stderr := conclab(t, args...); code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("conclab %v: exit %d, %q; want 2 and one line", args, code, stderr)
		}
	}
}

// A server whose data directory cannot be written still serves, and its
// pages say that runs are not being saved, and why.
func TestServeWithAnUnusableDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	srv := startProcess(t, "--data", file)
	code, page := body(t, srv.url+"/")
	if code != 200 || !strings.Contains(page, `data-testid="store-banner"`) || !strings.Contains(page, "Runs are not being saved") || !strings.Contains(page, file) {
		t.Errorf("the front page (%d) has no banner naming %s", code, file)
	}
}

package main

import (
	"bufio"
	"bytes"
	"conclab/internal/runner"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets the test binary act as the run's child process, which the
// runner starts by re-executing its own binary.
//
// It also keeps every test away from the real data directory: a test that
// forgets --data keeps its runs in a temporary one, never in
// ~/.local/share.
func TestMain(m *testing.M) {
	if runner.IsChild(os.Args) {
		os.Exit(exitCode(run(context.Background(), os.Args, os.Stdout, os.Stderr), os.Stderr))
	}
	if os.Getenv(serveEnv) == "1" {
		os.Exit(serveMain())
	}
	tmp, err := os.MkdirTemp("", "conclab-test-data-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func conclab(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"conclab"}, args...), &out, &errb)
	code = exitCode(err, &errb)
	return code, out.String(), errb.String()
}

func TestBadInputExitsTwo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "run needs an experiment id"},
		{[]string{"run", "no-such"}, `unknown experiment "no-such"; the experiments are`},
		{[]string{"run", "switch-cost", "--set", "batches=99999"}, "batches must be an integer from 10 to 3000, got \"99999\""},
		{[]string{"run", "switch-cost", "--set", "speed=2"}, `switch-cost has no parameter "speed"; it takes batches, across`},
		{[]string{"run", "switch-cost", "--set", "batches"}, "--set needs name=value"},
		{[]string{"run", "switch-cost", "--fast"}, `unknown flag "--fast"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--queue", "0"}, "--queue must be 1–1000, got 0"},
	}
	for _, tt := range tests {
		code, _, stderr := conclab(t, tt.args...)
		if code != 2 {
			t.Errorf("conclab %s: exit %d, want 2", strings.Join(tt.args, " "), code)
		}
		if !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("conclab %s: stderr %q, want one line containing %q", strings.Join(tt.args, " "), stderr, tt.want)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	code, out, _ := conclab(t, "list", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var list []struct {
		ID     string `json:"id"`
		Lesson string `json:"lesson"`
		Params []struct {
			Name    string `json:"name"`
			Default any    `json:"default"`
			Min     *float64
			Max     *float64
			Help    string `json:"help"`
		} `json:"params"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list --json is not JSON: %v", err)
	}
	if len(list) < 3 || list[0].ID == "" || list[0].Lesson == "" {
		t.Errorf("list --json = %+v", list)
	}
	code, out, _ = conclab(t, "list")
	if code != 0 || !strings.Contains(out, "switch-cost") || !strings.Contains(out, "--set batches=300") {
		t.Errorf("list: exit %d, output %q", code, out)
	}
}

// `conclab run <id> --quick --json` prints events ending with a result and
// then a done with status ok, and exits 0.
func TestRunQuickJSON(t *testing.T) {
	code, out, stderr := conclab(t, "run", "switch-cost", "--quick", "--json", "--no-save")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var types []string
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line is not JSON: %q", l)
		}
		types = append(types, ev["type"].(string))
	}
	n := len(types)
	if n < 3 || types[n-2] != "result" || types[n-1] != "done" || !strings.Contains(lines[n-1], `"status":"ok"`) {
		t.Errorf("events end %v (%s), want result then done ok", types[max(0, n-3):], lines[n-1])
	}
}

func TestRunReport(t *testing.T) {
	code, out, stderr := conclab(t, "run", "yield-batching", "--quick", "--data", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"yield-batching —", "host:", "Measured:", "Claims:", "expected:", "ok after"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conclab", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, pw, &stderr)
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "Concurrency Lab is running at "), "/")
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("loopback serve warned: %s", stderr.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	pw.Close()
}

func TestServeWarnsBeyondLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conclab", "serve", "--addr", "0.0.0.0:0", "--data", ""}, pw, &stderr)
	}()
	// The warning comes before the address line on stdout.
	if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	<-done
	pw.Close()
	if !strings.Contains(stderr.String(), "Anyone who can reach this port can") {
		t.Errorf("no warning when bound beyond loopback; stderr: %s", stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer safe to read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// loadtest against a live server: every viewer watches one run to its end.
func TestLoadtest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"conclab", "serve", "--addr", "127.0.0.1:0", "--instructor-key", "a-test-instructor-key", "--data", ""}, pw, io.Discard)
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "Concurrency Lab is running at "), "/")

	code, out, stderr := conclab(t, "loadtest", "--addr", url, "--viewers", "20", "--experiment", "yield-batching",
		"--set", "items=10000", "--set", "budget=100")
	if code != 0 {
		t.Fatalf("loadtest exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"viewers: 20 finished, 0 failed", "delivery delay", "server memory", "the run measured, while watched:"} {
		if !strings.Contains(out, want) {
			t.Errorf("loadtest output lacks %q:\n%s", want, out)
		}
	}
	code, out, stderr = conclab(t, "loadtest", "--addr", url, "--viewers", "0", "--pages", "50", "--duration", "1s")
	if code != 0 || !strings.Contains(out, "page latency (") || !strings.Contains(out, " 0 failed") {
		t.Errorf("loadtest --pages: exit %d, %s %s", code, out, stderr)
	}
	// A small class: every request answered, nothing lost.
	code, out, stderr = conclab(t, "loadtest", "--addr", url, "--students", "12", "--instructor-key", "a-test-instructor-key",
		"--experiment", "yield-batching", "--set", "items=10000", "--set", "budget=100")
	if code != 0 {
		t.Fatalf("loadtest --students exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"requests: 12 answered, 0 unanswered", "events of the instructor's run lost: 0", "sent twice or out of order: 0", "moved by the instructor's present"} {
		if !strings.Contains(out, want) {
			t.Errorf("loadtest --students output lacks %q:\n%s", want, out)
		}
	}
	// Every student insists on a run of their own: each has theirs.
	code, out, stderr = conclab(t, "loadtest", "--addr", url, "--students", "4", "--own", "--timeout", "2m",
		"--experiment", "yield-batching", "--set", "items=10000", "--set", "budget=100")
	if code != 0 || !strings.Contains(out, "own runs finished: 4 of 4") || !strings.Contains(out, "within 5 minutes: 4 of 4") {
		t.Errorf("loadtest --own: exit %d, %s %s", code, out, stderr)
	}
	if code, _, stderr := conclab(t, "loadtest", "--addr", url, "--students", "2", "--instructor-key", "wrong-key-wrong-key"); code != 1 || !strings.Contains(stderr, "refused") {
		t.Errorf("loadtest with a wrong key: exit %d, %q", code, stderr)
	}
	if code, _, stderr := conclab(t, "loadtest", "--viewers", "0"); code != 2 || !strings.Contains(stderr, "nothing to do") {
		t.Errorf("loadtest --viewers 0: exit %d, %q", code, stderr)
	}
	cancel()
	<-done
	pw.Close()
}

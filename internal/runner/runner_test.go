package runner

import (
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// testRegistry holds experiments that exercise the runner: well-behaved,
// hanging with a grandchild, crashing, and writing garbage.
func testRegistry() *lab.Registry {
	r := lab.NewRegistry()
	base := func(id string, run func(ctx context.Context, p lab.Params, out *lab.Emitter) error) *lab.Experiment {
		return &lab.Experiment{ID: id, Lesson: "test", Title: id, Run: run, Limit: 20 * time.Second}
	}
	hang := base("t-hang", func(ctx context.Context, p lab.Params, out *lab.Emitter) error {
		cmd, err := lab.Worker(ctx, "t-hang", "sleep")
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		out.Event("worker", map[string]any{"pid": cmd.Process.Pid})
		select {} // never returns: only a kill ends it
	})
	hang.Workers = map[string]func([]string) int{"sleep": func([]string) int { time.Sleep(time.Hour); return 0 }}
	short := base("t-timeout", func(ctx context.Context, p lab.Params, out *lab.Emitter) error { select {} })
	short.Limit = 300 * time.Millisecond
	r.Register(
		base("t-ok", func(ctx context.Context, p lab.Params, out *lab.Emitter) error {
			for i := range 3 {
				out.Progress("step", i, 3)
			}
			out.Result([]lab.Metric{{Name: "n", Value: 3, Unit: "steps"}}, nil)
			return nil
		}),
		hang, short,
		base("t-panic", func(ctx context.Context, p lab.Params, out *lab.Emitter) error { panic("boom") }),
		base("t-crash", func(ctx context.Context, p lab.Params, out *lab.Emitter) error {
			go func() {
				var p *int
				*p = 1 // a real fault in another goroutine: the process dies
			}()
			select {}
		}),
		base("t-garbage", func(ctx context.Context, p lab.Params, out *lab.Emitter) error {
			fmt.Println("this is not JSON")
			out.Result(nil, nil)
			return nil
		}),
		base("t-noresult", func(ctx context.Context, p lab.Params, out *lab.Emitter) error { return nil }),
		base("t-twice", func(ctx context.Context, p lab.Params, out *lab.Emitter) error {
			out.Result(nil, nil)
			out.Event("done", map[string]any{"status": "ok"}) // the runner owns done
			out.Result(nil, nil)
			return nil
		}),
	)
	return r
}

func TestMain(m *testing.M) {
	if IsChild(os.Args) {
		os.Exit(ChildMain(testRegistry(), os.Args[2:], os.Stdout, os.Stderr))
	}
	BecomeSubreaper()
	os.Exit(m.Run())
}

type collected struct {
	types  []string
	events []map[string]any
}

func runTest(t *testing.T, ctx context.Context, id string, during func(ev map[string]any)) (runlog.Outcome, collected) {
	t.Helper()
	reg := testRegistry()
	exp, _ := reg.Lookup(id)
	p, _ := exp.Validate(nil, false)
	var c collected
	out := (&Runner{Registry: reg}).Run(ctx, exp, p, func(ev runlog.Event) {
		var m map[string]any
		if err := json.Unmarshal(ev.JSON, &m); err != nil {
			t.Errorf("event is not JSON: %s", ev.JSON)
		}
		c.types = append(c.types, ev.Type)
		c.events = append(c.events, m)
		if during != nil {
			during(m)
		}
	})
	if n := len(c.types); n == 0 || c.types[n-1] != "done" {
		t.Errorf("events %v do not end with done", c.types)
	}
	return out, c
}

func TestRunnerOK(t *testing.T) {
	t.Parallel()
	out, c := runTest(t, context.Background(), "t-ok", nil)
	if out.Status != protocol.StatusOK {
		t.Fatalf("status %s: %s", out.Status, out.Error)
	}
	want := "started progress progress progress result done"
	if got := strings.Join(c.types, " "); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestRunnerFailures(t *testing.T) {
	t.Parallel()
	tests := []struct{ id, status, msg string }{
		{"t-panic", protocol.StatusFailed, "panicked: boom"},
		{"t-crash", protocol.StatusFailed, "nil pointer dereference"},
		{"t-garbage", protocol.StatusFailed, "not an event"},
		{"t-noresult", protocol.StatusFailed, "ended without a result"},
		{"t-timeout", protocol.StatusTimeout, "time limit"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			out, c := runTest(t, context.Background(), tt.id, nil)
			if out.Status != tt.status || !strings.Contains(out.Error, tt.msg) {
				t.Errorf("got %s %q, want %s containing %q", out.Status, out.Error, tt.status, tt.msg)
			}
			last := c.events[len(c.events)-1]
			if last["status"] != tt.status || last["error"] == "" {
				t.Errorf("done event %v", last)
			}
		})
	}
}

func TestRunnerKeepsOneResult(t *testing.T) {
	t.Parallel()
	out, c := runTest(t, context.Background(), "t-twice", nil)
	if out.Status != protocol.StatusOK {
		t.Fatalf("status %s: %s", out.Status, out.Error)
	}
	if got := strings.Join(c.types, " "); got != "started result done" {
		t.Errorf("events %q, want one result then one done", got)
	}
}

// Cancelling a run kills the child and the worker it started; nothing is
// left, not even a zombie.
func TestRunnerCancelKillsEveryProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	var worker int
	out, _ := runTest(t, ctx, "t-hang", func(ev map[string]any) {
		if ev["type"] == "worker" {
			worker = int(ev["pid"].(float64))
			cancel(errors.New("test says stop"))
		}
	})
	if out.Status != protocol.StatusCancelled || !strings.Contains(out.Error, "test says stop") {
		t.Errorf("got %s %q, want cancelled with the cause", out.Status, out.Error)
	}
	if worker <= 0 {
		t.Fatal("the worker never reported its pid")
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", worker)); !os.IsNotExist(err) {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", worker))
		t.Errorf("worker %d still exists after cancel: %s", worker, st)
	}
}

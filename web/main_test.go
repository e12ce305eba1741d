package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/lessons"
	"conclab/web"
	"conclab/web/ui"
)

// registry is the course's experiments plus one the websocket tests can
// steer: it emits a few events, then holds for `hold` ms unless cancelled.
func registry() *lab.Registry {
	r := lessons.Registry()
	r.Register(&lab.Experiment{
		ID: "ws-hold", Lesson: "context-switching", Title: "Hold",
		Params: []lab.Param{lab.Int("hold", "Hold", 100, 0, 60_000, "ms to wait before the result")},
		Limit:  70 * time.Second,
		Run: func(ctx context.Context, p lab.Params, out *lab.Emitter) error {
			out.Progress("holding", 0, 1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(p.Int("hold")) * time.Millisecond):
			}
			out.Progress("holding", 1, 1)
			out.Result([]lab.Metric{{Name: "held", Value: float64(p.Int("hold")), Unit: "ms"}}, nil)
			return nil
		},
	})
	return r
}

func TestMain(m *testing.M) {
	if lab.IsChild(os.Args) {
		os.Exit(lab.ChildMain(registry(), os.Args[2:], os.Stdout, os.Stderr))
	}
	lab.BecomeSubreaper()
	os.Exit(m.Run())
}

type server struct {
	url   string
	sched *lab.Scheduler
}

func newServer(t *testing.T, cfg lab.Config) *server {
	t.Helper()
	h, sched := newHandler(t, cfg)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return &server{url: ts.URL, sched: sched}
}

// newHandler is the course's router with a real runner and scheduler.
func newHandler(t testing.TB, cfg lab.Config) (http.Handler, *lab.Scheduler) {
	return newHandlerWithCourse(t, cfg, lessons.Course)
}

func newHandlerWithCourse(t testing.TB, cfg lab.Config, course []ui.Lesson) (http.Handler, *lab.Scheduler) {
	reg := registry()
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sched := lab.NewScheduler((&lab.Runner{Registry: reg, Log: log}).Run, cfg, log)
	t.Cleanup(sched.Close)
	srv := &web.Server{Course: course, Registry: reg, Scheduler: sched, Host: probe.ReadHost(), Log: log}
	return srv.Routes(), sched
}

type testLog struct{ t testing.TB }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

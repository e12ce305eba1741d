package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"conclab/internal/app"
	"conclab/internal/course"
	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/runner"
	"conclab/lessons"
)

// testKey is the instructor key of every test server.
const testKey = "test-instructor-key"

// benchSlug is a lesson only the tests have: its one experiment, ws-hold,
// emits a few events, then holds for `hold` ms unless cancelled, so the
// websocket tests can steer a run.
const benchSlug = "test-bench"

var benchLesson = course.Lesson{
	Slug: benchSlug, Title: "Test bench", Summary: "An experiment the websocket tests steer.",
	Teach: benchPlan, // answer_test.go
	Experiments: []*lab.Experiment{{
		ID: "ws-hold", Title: "Hold",
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
			out.Result([]lab.Metric{{Key: "held", Name: "held", Value: float64(p.Int("hold")), Unit: "ms"}}, nil)
			return nil
		},
	}},
}

var (
	courseOnce sync.Once
	testCourse *course.Course
)

// theCourse is the course's lessons and the test bench after them.
func theCourse() *course.Course {
	courseOnce.Do(func() { testCourse = course.MustNew(append(slices.Clone(lessons.All), benchLesson)...) })
	return testCourse
}

func registry() *lab.Registry { return theCourse().Registry() }

func TestMain(m *testing.M) {
	if runner.IsChild(os.Args) {
		os.Exit(runner.ChildMain(registry(), os.Args[2:], os.Stdout, os.Stderr))
	}
	runner.BecomeSubreaper()
	os.Exit(m.Run())
}

type server struct {
	url   string
	sched *engine.Scheduler
}

func newServer(t *testing.T, cfg engine.Config) *server {
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
func newHandler(t testing.TB, cfg engine.Config) (http.Handler, *engine.Scheduler) {
	return newHandlerWithCourse(t, cfg, theCourse())
}

func newHandlerWithCourse(t testing.TB, cfg engine.Config, c *course.Course) (http.Handler, *engine.Scheduler) {
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := app.New(app.Options{Course: c, Scheduler: cfg, Log: log, InstructorKey: testKey})
	t.Cleanup(a.Close)
	return a.Handler(), a.Scheduler
}

type testLog struct{ t testing.TB }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

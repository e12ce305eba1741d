package lessons_test

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"conclab/internal/app"
	"conclab/internal/runner"
	"conclab/internal/store"
	"conclab/lessons"
)

// TestMain lets the test binary serve as the child process of runs: the
// runner re-executes it as `<test binary> experiment <id> ...`.
func TestMain(m *testing.M) {
	if runner.IsChild(os.Args) {
		os.Exit(runner.ChildMain(lessons.Registry(), os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// testServer is the whole course served by httptest, for the browser tests.
type testServer struct {
	URL string
	App *app.App
	// Store is the run store of startStoredServer (nil for startServer).
	Store *store.Store
}

// startServer serves the course with the real runner and scheduler until
// the test ends. Its runs are kept in memory only.
func startServer(t testing.TB) *testServer { return serveCourse(t, nil) }

// startStoredServer is startServer with a run store in a temporary data
// directory, as conclab serve --data has.
func startStoredServer(t testing.TB) *testServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(store.Options{Dir: t.TempDir(), Serve: true, Log: log, LessonOf: app.LessonOf(lessons.Course())})
	if err != nil {
		t.Fatal(err)
	}
	return serveCourse(t, st)
}

func serveCourse(t testing.TB, st *store.Store) *testServer {
	return serveCourseWith(t, app.Options{Store: st})
}

// serveCourseWith is the course served with these options.
func serveCourseWith(t testing.TB, o app.Options) *testServer {
	t.Helper()
	o.Course = lessons.Course()
	o.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a := app.New(o)
	ts := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		a.Close()
	})
	return &testServer{URL: ts.URL, App: a, Store: o.Store}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

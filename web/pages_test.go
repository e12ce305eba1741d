package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"conclab/internal/course"
	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/lessons"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPages(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	i, _, _ := theCourse().Find("context-switching")
	lessonOf := fmt.Sprintf("Lesson %d of %d", i+1, theCourse().Len())
	tests := []struct {
		path     string
		status   int
		contains []string
		lacks    []string
	}{
		{"/", 200, []string{"Concurrency, measured on this machine", `href="/lessons/context-switching"`, "Processes vs threads", `href="/lessons/choosing"`, `data-testid="host-panel"`}, nil},
		{"/lessons/context-switching", 200, []string{
			"<h1>Context switching</h1>", `data-experiment="switch-cost"`, `data-experiment="switch-count"`, `data-experiment="yield-batching"`,
			lessonOf, `data-testid="host-panel"`, "A switch between two threads of one process costs about 1–10 µs.",
			`min="10"`, `max="3000"`, "go run ./cmd/conclab run switch-cost",
		}, nil},
		{"/lessons/no-such-lesson", 404, []string{"There is no page at", "/lessons/no-such-lesson", `href="/lessons/context-switching"`}, nil},
		{"/nowhere", 404, []string{"There is no page at"}, nil},
		{"/healthz", 200, []string{"ok"}, nil},
	}
	for _, tt := range tests {
		resp, body := get(t, s.url+tt.path)
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
		for _, want := range tt.contains {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s: page lacks %q", tt.path, want)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", tt.path, csp)
		}
	}
}

// Lessons not written yet appear on the index but never as links to a
// missing page, and are not served.
func TestComingLessonsAreNotLinks(t *testing.T) {
	t.Parallel()
	all := slices.Clone(lessons.All)
	all[5].Page = nil // pretend lesson 6 is not written yet
	h, _ := newHandlerWithCourse(t, engine.Config{}, course.MustNew(all...))
	course := course.MustNew(all...).Refs()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.String()
	for _, l := range course {
		link := `href="/lessons/` + l.Slug + `"`
		if l.Ready != strings.Contains(body, link) {
			t.Errorf("lesson %s: ready=%v but link present=%v", l.Slug, l.Ready, !l.Ready)
		}
	}
	if !strings.Contains(body, `<span class="badge">coming</span>`) {
		t.Error("the unwritten lesson is not marked as coming")
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/lessons/"+course[5].Slug, nil))
	if rec.Code != 404 {
		t.Errorf("an unwritten lesson is served with %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/lessons/"+course[4].Slug, nil))
	if !strings.Contains(rec.Body.String(), "Next (coming)") {
		t.Error("the lesson before an unwritten one does not show its next lesson as coming")
	}
}

func TestAPI(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	_, body := get(t, s.url+"/api/experiments")
	var exps []lab.ExperimentInfo
	if err := json.Unmarshal([]byte(body), &exps); err != nil {
		t.Fatalf("/api/experiments: %v", err)
	}
	ids := map[string]bool{}
	for _, e := range exps {
		ids[e.ID] = true
	}
	for _, id := range []string{"switch-cost", "switch-count", "yield-batching"} {
		if !ids[id] {
			t.Errorf("/api/experiments lacks %s", id)
		}
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatalf("/api/experiments: %v", err)
	}
	p := raw[0]["params"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "default", "min", "max", "help"} {
		if _, ok := p[k]; !ok {
			t.Errorf("a parameter in /api/experiments lacks %q: %v", k, p)
		}
	}

	_, body = get(t, s.url+"/api/host")
	var host map[string]any
	if err := json.Unmarshal([]byte(body), &host); err != nil {
		t.Fatalf("/api/host: %v", err)
	}
	for _, k := range []string{"cpu_model", "logical_cpus", "usable_cpus", "gomaxprocs", "kernel", "go_version", "virtualization"} {
		if _, ok := host[k]; !ok {
			t.Errorf("/api/host lacks %q", k)
		}
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	for path, ctype := range map[string]string{"/static/js/lab.js": "javascript", "/static/css/site.css": "text/css", "/static/js/charts.js": "javascript"} {
		resp, body := get(t, s.url+path)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), ctype) || len(body) == 0 {
			t.Errorf("GET %s: %d %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	if resp, _ := get(t, s.url+"/static/js/"); resp.StatusCode != 404 {
		t.Errorf("directory listing served: %d", resp.StatusCode)
	}
}

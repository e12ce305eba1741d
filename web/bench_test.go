package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"conclab/internal/engine"
	"conclab/lessons"
)

// BenchmarkLessonPage renders a lesson page through the router.
func BenchmarkLessonPage(b *testing.B) {
	h := handler(b)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/lessons/context-switching", nil))
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// pageWeight is the bytes a browser fetches for a lesson: the HTML and
// every stylesheet and script it loads, imports included. A chart module
// that charts.js loads only for a page with such a chart (import('./K.js')
// for a figure of data-kind="K") counts where the page has one.
func pageWeight(t testing.TB, h http.Handler, path string) (int, []string) {
	fetch := func(p string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d", p, rec.Code)
		}
		return rec.Body.String()
	}
	html := fetch(path)
	total := len(html)
	seen := map[string]bool{}
	var files []string
	queue := regexp.MustCompile(`(?:href|src)="(/static/[^"?]+\.(?:css|js|svg))`).FindAllStringSubmatch(html, -1)
	var paths []string
	for _, m := range queue {
		paths = append(paths, m[1])
	}
	imports := regexp.MustCompile(`from '\./([^']+\.js)'`)
	lazy := regexp.MustCompile(`import\('\./(([^']+)\.js)'\)`)
	for len(paths) > 0 {
		p := paths[0]
		paths = paths[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		body := fetch(p)
		total += len(body)
		files = append(files, p)
		for _, m := range imports.FindAllStringSubmatch(body, -1) {
			paths = append(paths, p[:strings.LastIndex(p, "/")+1]+m[1])
		}
		for _, m := range lazy.FindAllStringSubmatch(body, -1) {
			if strings.Contains(html, `data-kind="`+m[2]+`"`) {
				paths = append(paths, p[:strings.LastIndex(p, "/")+1]+m[1])
			}
		}
	}
	return total, files
}

// The whole of a lesson page — HTML, CSS, JS — stays under 235 KB. (It
// was 150 KB until each lesson carried its objectives, exercises,
// self-check, reading, the definitions of its terms and the code of its
// panels: 30–47 KB more, 137–183 KB in all; then processes-vs-threads
// gained a sixth experiment, shared-counter, and weighs about 200 KB; the
// run-on-every-host table and the finished page's labels, diagrams and
// focus handling took it to 226 KB.)
func TestPageWeight(t *testing.T) {
	t.Parallel()
	h := handler(t)
	paths := []string{"/"}
	for _, l := range lessons.All {
		paths = append(paths, "/lessons/"+l.Slug)
	}
	for _, path := range paths {
		n, files := pageWeight(t, h, path)
		t.Logf("%s: %d KB", path, n>>10)
		if n > 235<<10 {
			t.Errorf("%s weighs %d KB with %v, over the 235 KB budget", path, n>>10, files)
		}
		if !strings.Contains(strings.Join(files, " "), "charts.js") && path != "/" {
			t.Errorf("%s: the weight walk missed the chart module: %v", path, files)
		}
	}
}

func handler(t testing.TB) http.Handler {
	h, _ := newHandler(t, engine.Config{})
	return h
}

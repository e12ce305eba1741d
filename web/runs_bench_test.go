package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"conclab/internal/app"
	"conclab/internal/learner"
	"conclab/internal/store"
)

// benchStore is a store of n runs of real events, every other one the
// learner's, and the router in front of it.
func benchStore(b *testing.B, n int) (http.Handler, *store.Store, string, string) {
	b.Helper()
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(store.Options{Dir: b.TempDir(), Serve: true, Log: log, LessonOf: app.LessonOf(theCourse())})
	if err != nil {
		b.Fatal(err)
	}
	a := app.New(app.Options{Course: theCourse(), Log: log, Store: st, Secret: bytes.Repeat([]byte("k"), 32)})
	b.Cleanup(a.Close)
	me := learner.New()
	file, err := readFixture("switch-cost")
	if err != nil {
		b.Fatal(err)
	}
	var id string
	for i := range n {
		who := ""
		if i%2 == 0 {
			who = string(me)
		}
		imp, err := st.Import(bytes.NewReader(file), who)
		if err != nil {
			b.Fatal(err)
		}
		id = imp.ID
	}
	cookie := "conclab_learner=" + learner.NewSigner(bytes.Repeat([]byte("k"), 32)).Cookie(me)
	return a.Handler(), st, cookie, id
}

// timePage requests path b.N times and reports the p50 and p99.
func timePage(b *testing.B, h http.Handler, path, cookie string) {
	var took []time.Duration
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		took = append(took, time.Since(start))
		if rec.Code != 200 {
			b.Fatalf("GET %s: %d", path, rec.Code)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkHistoryPage is /runs with 1,000 stored runs.
func BenchmarkHistoryPage(b *testing.B) {
	h, _, cookie, _ := benchStore(b, 1000)
	timePage(b, h, "/runs", cookie)
}

// BenchmarkPermalinkPage is a stored run's page, rendered from its events.
func BenchmarkPermalinkPage(b *testing.B) {
	h, _, cookie, id := benchStore(b, 1000)
	timePage(b, h, "/runs/"+id, cookie)
}

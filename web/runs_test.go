package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"conclab/internal/app"
	"conclab/internal/course"
	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/learner"
	"conclab/internal/probe"
	"conclab/internal/store"
	"conclab/web"
)

// storedServer is the course with a real store in a temporary directory.
type storedServer struct {
	url string
	st  *store.Store
}

func newStoredServer(t *testing.T) *storedServer {
	t.Helper()
	return newStoredServerWith(t, theCourse())
}

// newStoredServerWith is a stored server of another course.
func newStoredServerWith(t *testing.T, c *course.Course) *storedServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(store.Options{Dir: t.TempDir(), Serve: true, Log: log, LessonOf: app.LessonOf(c)})
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(app.Options{Course: c, Log: log, InstructorKey: testKey, Store: st})
	ts := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		a.Close()
	})
	return &storedServer{url: ts.URL, st: st}
}

// fixture is a real run's events, as `conclab run --json` printed them.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readFixture(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFixture(name string) ([]byte, error) { return os.ReadFile("testdata/" + name + ".ndjson") }

// learnerOf is the learner id in a learner cookie.
func learnerOf(cookie string) string {
	v := strings.TrimPrefix(cookie, "conclab_learner=")
	id, _, _ := strings.Cut(v, ".")
	return id
}

func (s *storedServer) put(t *testing.T, file []byte, learner string) string {
	t.Helper()
	imp, err := s.st.Import(bytes.NewReader(file), learner)
	if err != nil {
		t.Fatal(err)
	}
	return imp.ID
}

func getAs(t *testing.T, url, cookie string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRunPermalinkAndItsFiles(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	events := fixture(t, "switch-cost")
	id := s.put(t, events, "")

	resp, page := get(t, s.url+"/runs/"+id)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /runs/%s: %d", id, resp.StatusCode)
	}
	for _, want := range []string{
		`data-testid="stored-run"`, `data-status="ok"`, "What one context switch costs", // the experiment, by its title
		`data-testid="measured-host"`, "AMD EPYC", "batches", // its machine and parameters
		`data-metric-key="switch.thread.same_cpu"`, // the metrics, by key
		`data-testid="table-evidence"`,             // the live table as the run left it
		`data-chart="median"`, `data-runs="` + id + `"`, "js/stored.js",
		`name="a" value="` + id + `"`, // no other run yet: no compare form …
	} {
		if want == `name="a" value="`+id+`"` {
			if strings.Contains(page, want) {
				t.Error("a compare form with nothing to compare with")
			}
			continue
		}
		if !strings.Contains(page, want) {
			t.Errorf("the permalink lacks %q", want)
		}
	}
	for _, v := range []string{"holds", "differs", "inconclusive"} {
		if strings.Contains(page, `class="verdict" data-verdict="`+v+`"`) {
			goto verdicts
		}
	}
	t.Error("the permalink shows no verdict")
verdicts:
	if strings.Count(page, "<tr") < 20 {
		t.Errorf("the permalink has %d table rows: its tables were not rendered on the server", strings.Count(page, "<tr"))
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<script type=\"module\">") {
		t.Error("an inline script, which the CSP forbids")
	}

	// The events, exactly as conclab run --json printed them.
	if resp, got := get(t, s.url+"/runs/"+id+".json"); resp.StatusCode != 200 || got != string(events) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
		t.Errorf("GET .json: %d %s, %d bytes, want the %d bytes of the run", resp.StatusCode, resp.Header.Get("Content-Type"), len(got), len(events))
	}
	resp, body := get(t, s.url+"/runs/"+id+".csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != "key,name,value,unit,p50,p99,min,max,n" {
		t.Fatalf("GET .csv: %d, %v, %q", resp.StatusCode, err, body)
	}
	var res struct {
		Metrics []lab.Metric `json:"metrics"`
	}
	for _, l := range strings.Split(string(events), "\n") {
		if strings.Contains(l, `"type":"result"`) {
			json.Unmarshal([]byte(l), &res)
		}
	}
	if len(rows)-1 != len(res.Metrics) || rows[1][0] != res.Metrics[0].Key {
		t.Errorf("the CSV has %d metrics, the result %d", len(rows)-1, len(res.Metrics))
	}
	if resp, body := get(t, s.url+"/runs/"+id+".ndjson"); resp.StatusCode != 200 || !strings.HasPrefix(body, `{"type":"conclab-run"`) || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("GET .ndjson: %d, %.80s", resp.StatusCode, body)
	}

	bad := []struct{ path, want string }{
		{"/runs/0123456789ab", "There is no run 0123456789ab"},
		{"/runs/not-an-id", "is not a run id"},
		{"/runs/ABCDEF012345", "is not a run id"},
		{"/runs/0123456789ab.json", "There is no run"},
		{"/runs/zz.csv", "is not a run id"},
		{"/runs/0123456789ab.ndjson", "There is no run"},
	}
	for _, b := range bad {
		if resp, body := get(t, s.url+b.path); resp.StatusCode != 404 || !strings.Contains(body, b.want) {
			t.Errorf("GET %s: %d, want 404 saying %q", b.path, resp.StatusCode, b.want)
		}
	}
}

func TestHistoryListsMineFirst(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	me := cookiesOf(t, s.url)
	mine := s.put(t, fixture(t, "switch-cost"), learnerOf(me))
	theirs := s.put(t, fixture(t, "cpu-timeline"), "")

	_, page := getAs(t, s.url+"/runs", me)
	at := func(s string) int { return strings.Index(page, s) }
	if at(`data-testid="runs-mine"`) < 0 || at(`data-run="`+mine+`"`) < at(`data-testid="runs-mine"`) || at(`data-run="`+mine+`"`) > at(`data-testid="runs-others"`) {
		t.Errorf("my run is not in my list")
	}
	if at(`data-run="`+theirs+`"`) < at(`data-testid="runs-others"`) {
		t.Errorf("the other run is not among the others")
	}
	for _, want := range []string{"you", "imported", "AMD EPYC", "holds", `data-testid="import-form"`, "have no learner"} {
		if !strings.Contains(page, want) {
			t.Errorf("the history lacks %q", want)
		}
	}
	tests := []struct {
		query  string
		status int
		has    []string
		lacks  []string
	}{
		{"?experiment=switch-cost", 200, []string{mine}, []string{`data-run="` + theirs}},
		{"?lesson=concurrency-vs-parallelism", 200, []string{theirs}, []string{`data-run="` + mine}},
		{"?lesson=no-such-lesson", 400, []string{"There is no lesson"}, nil},
		{"?experiment=Bad!", 400, []string{"is not an experiment id"}, nil},
	}
	for _, tt := range tests {
		resp, page := getAs(t, s.url+"/runs"+tt.query, me)
		if resp.StatusCode != tt.status {
			t.Errorf("/runs%s: %d, want %d", tt.query, resp.StatusCode, tt.status)
		}
		for _, h := range tt.has {
			if !strings.Contains(page, h) {
				t.Errorf("/runs%s lacks %q", tt.query, h)
			}
		}
		for _, l := range tt.lacks {
			if strings.Contains(page, l) {
				t.Errorf("/runs%s has %q", tt.query, l)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	events := fixture(t, "switch-cost")
	a := s.put(t, events, "")
	// The same experiment measured on another machine, twice as slow.
	other := strings.Replace(string(events), `"cpu_model":"AMD EPYC"`, `"cpu_model":"Laptop CPU"`, 1)
	b := s.put(t, []byte(other), "")
	lanes := s.put(t, fixture(t, "cpu-timeline"), "")
	lanes2 := s.put(t, fixture(t, "cpu-timeline"), "")

	resp, page := get(t, s.url+"/compare?a="+a+"&b="+b)
	if resp.StatusCode != 200 {
		t.Fatalf("compare: %d", resp.StatusCode)
	}
	for _, want := range []string{`data-testid="compare-metrics"`, `data-metric-key="switch.thread.same_cpu"`, "×1", "Laptop CPU", "AMD EPYC",
		`data-differs`, `class="differs-mark"`, `data-runs="` + a + " " + b + `"`, `data-labels="A B"`, `data-testid="compare-claims"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the comparison lacks %q", want)
		}
	}
	if strings.Count(page, `data-differs`) != 1 {
		t.Errorf("%d rows marked as differing, want 1 (the CPU)", strings.Count(page, `data-differs`))
	}
	// From the run's page, "compare with…" offers the other.
	if _, page := get(t, s.url+"/runs/"+a); !strings.Contains(page, `data-testid="compare-with"`) || !strings.Contains(page, `<option value="`+b+`"`) {
		t.Error("the run's page offers no comparison with the other run")
	}
	// Lanes are drawn one figure per run, not overlaid.
	if _, page := get(t, s.url+"/compare?a="+lanes+"&b="+lanes2); !strings.Contains(page, `data-runs="`+lanes+`"`) || !strings.Contains(page, `data-runs="`+lanes2+`"`) {
		t.Error("lanes charts are not drawn one per run")
	}

	bad := []struct {
		query  string
		status int
		want   string
	}{
		{"?a=" + a + "&b=" + lanes, 400, "only two runs of the same experiment"},
		{"?a=" + a, 400, "needs two runs"},
		{"", 400, "needs two runs"},
		{"?a=" + a + "&b=0123456789ab", 404, "There is no run"},
		{"?a=x&b=" + a, 404, "is not a run id"},
	}
	for _, tt := range bad {
		if resp, page := get(t, s.url+"/compare"+tt.query); resp.StatusCode != tt.status || !strings.Contains(page, tt.want) {
			t.Errorf("/compare%s: %d, want %d saying %q", tt.query, resp.StatusCode, tt.status, tt.want)
		}
	}
}

// upload posts a file as the page's form does.
func upload(t *testing.T, url, cookie, origin string, file []byte) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "run.ndjson")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestImportForm(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	me := cookiesOf(t, s.url)
	events := fixture(t, "switch-cost")
	resp, _ := upload(t, s.url+"/runs/import", me, s.url, events)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/runs/") {
		t.Fatalf("a good file: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/runs/")
	if l, _ := s.st.List(store.Query{Learner: learnerOf(me)}); len(l.Mine) != 1 || l.Mine[0].ID != id {
		t.Errorf("the uploaded run is not the uploader's: %+v", l.Mine)
	}
	n, _ := s.st.Count()
	lines := bytes.SplitAfter(events, []byte("\n"))
	cut := bytes.Join(lines[:3], nil)
	cut = append(cut, lines[3][:10]...)
	tests := []struct {
		name, origin string
		file         []byte
		status       int
		want         string
	}{
		{"truncated", s.url, cut, 400, "line 4: this is not a JSON object"},
		{"cut at a line", s.url, bytes.Join(lines[:5], nil), 400, "line 5: the file ends before the run"},
		{"not a run", s.url, []byte("hello\n"), 400, "line 1"},
		{"empty", s.url, nil, 400, "the file is empty"},
		{"another site", "http://evil.example", events, 403, "this server's own page"},
	}
	for _, tt := range tests {
		resp, page := upload(t, s.url+"/runs/import", me, tt.origin, tt.file)
		if resp.StatusCode != tt.status || !strings.Contains(page, tt.want) {
			t.Errorf("%s: %d %q, want %d saying %q", tt.name, resp.StatusCode, page, tt.status, tt.want)
		}
	}
	if m, _ := s.st.Count(); m != n {
		t.Errorf("refused files imported %d runs", m-n)
	}
}

func TestProgressTicksAndMove(t *testing.T) {
	t.Parallel()
	s := newStoredServer(t)
	me := cookiesOf(t, s.url)
	s.put(t, fixture(t, "switch-cost"), learnerOf(me))

	_, page := getAs(t, s.url+"/progress", me)
	if !strings.Contains(page, `data-tick="switch-cost" data-done`) || !strings.Contains(page, "You have run 1 of") {
		t.Errorf("/progress does not tick switch-cost")
	}
	_, index := getAs(t, s.url+"/", me)
	if !strings.Contains(index, "You have run 1 of its 3 experiments") {
		t.Errorf("the index has no tick for the lesson")
	}
	_, lesson := getAs(t, s.url+"/lessons/context-switching", me)
	for _, want := range []string{`data-testid="lesson-progress"`, `data-tick="switch-cost" data-done`, `href="/runs?experiment=switch-cost"`, "(1 finished)", "(none yet)"} {
		if !strings.Contains(lesson, want) {
			t.Errorf("the lesson page lacks %q", want)
		}
	}

	// Move it to another browser.
	_, file := getAs(t, s.url+"/progress.json", me)
	if !strings.Contains(file, `"type": "conclab-progress"`) {
		t.Fatalf("progress.json: %s", file)
	}
	other := cookiesOf(t, s.url)
	resp, _ := upload(t, s.url+"/progress/import", other, s.url, []byte(file))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("progress import: %d", resp.StatusCode)
	}
	_, page = getAs(t, s.url+resp.Header.Get("Location"), other)
	if !strings.Contains(page, "1 experiment merged") || !strings.Contains(page, "You have run 1 of") {
		t.Errorf("the other browser's progress after the import:\n%s", page)
	}
	if resp, page := upload(t, s.url+"/progress/import", other, s.url, []byte(`{"type":"conclab-run"}`)); resp.StatusCode != 400 || !strings.Contains(page, "not a progress file") {
		t.Errorf("a run file as progress: %d", resp.StatusCode)
	}
	if resp, _ := upload(t, s.url+"/progress/import", "", s.url, []byte(file)); resp.StatusCode != 400 {
		t.Errorf("progress import without a learner: %d", resp.StatusCode)
	}
}

// failingStore is a store whose disk has gone away.
type failingStore struct {
	*store.Store
}

func (failingStore) Health() store.Health {
	return store.Health{Reason: "the disk is full"}
}

func (failingStore) List(store.Query) (store.Listing, error) {
	return store.Listing{}, io.ErrUnexpectedEOF
}

func TestBannerWhenRunsAreNotSaved(t *testing.T) {
	t.Parallel()
	if _, page := get(t, newStoredServer(t).url+"/"); strings.Contains(page, `data-testid="store-banner"`) {
		t.Error("a banner while runs are saved")
	}
	mem := store.Memory(store.Options{})
	defer mem.Close()
	srv := fakeWebServer(t, failingStore{mem})
	for _, path := range []string{"/", "/lessons/context-switching", "/runs", "/nowhere", "/progress"} {
		_, page := get(t, srv+path)
		if !strings.Contains(page, `data-testid="store-banner"`) || !strings.Contains(page, "Runs are not being saved: the disk is full") {
			t.Errorf("%s has no banner saying why runs are not saved", path)
		}
	}
	if _, page := get(t, srv+"/runs"); !strings.Contains(page, "could not be read from the store") {
		t.Error("the history does not say the store could not be read")
	}
	// In memory only, the banner says so.
	if _, page := get(t, newServer(t, engine.Config{}).url+"/"); !strings.Contains(page, "in memory only") {
		t.Error("a server that keeps runs in memory does not say so")
	}
}

// fakeWebServer serves the course with fake runs and the given store.
func fakeWebServer(t *testing.T, st web.Store) string {
	t.Helper()
	srv := &web.Server{Course: theCourse(), Runs: &fakeRuns{left: make(chan struct{}, 1)}, Store: st, Host: probe.ReadHost(),
		Signer: learner.NewSigner(learner.Secret()), InstructorKey: testKey,
		Log: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError}))}
	ts := httptest.NewServer(srv.Routes())
	t.Cleanup(ts.Close)
	return ts.URL
}

package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"conclab/internal/app"
	"conclab/internal/engine"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The instructor is whoever shows the key once at /class?key=; everyone
// else is refused, plainly, and an address that keeps guessing is slowed.
func TestInstructorLogin(t *testing.T) {
	t.Parallel()
	var logs syncBuf
	a := app.New(app.Options{Course: theCourse(), Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), InstructorKey: testKey})
	t.Cleanup(a.Close)
	ts := httptest.NewServer(a.Handler())
	t.Cleanup(ts.Close)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, cookies string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		if cookies != "" {
			req.Header.Set("Cookie", cookies)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	if got := get("/class", "").StatusCode; got != 403 {
		t.Errorf("/class without the instructor's cookie: %d, want 403", got)
	}
	resp := get("/class?key="+testKey, "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/class" {
		t.Fatalf("/class?key=<the key>: %d to %q, want 303 to /class", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "conclab_instructor" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || strings.Contains(cookie.Value, testKey) {
		t.Fatalf("instructor cookie %+v: want HttpOnly, SameSite=Strict, and not the key itself", cookie)
	}
	if got := get("/class", "conclab_instructor="+cookie.Value).StatusCode; got != 200 {
		t.Errorf("/class with the instructor's cookie: %d, want 200", got)
	}
	if got := get("/class", "conclab_instructor=forged").StatusCode; got != 403 {
		t.Errorf("/class with a forged cookie: %d, want 403", got)
	}
	for i, key := range []string{"wrong", strings.Repeat("k", 5000), "bad key", testKey + "x"} {
		if got := get("/class?key="+strings.ReplaceAll(key, " ", "%20"), "").StatusCode; got != 403 {
			t.Errorf("wrong key %d: %d, want 403", i, got)
		}
	}
	// Ten wrong keys a minute are allowed from one address; the eleventh is not,
	// and neither is the right key from that address until the minute is over.
	for i := 4; i < 10; i++ {
		get("/class?key=wrong", "")
	}
	if got := get("/class?key=wrong", "").StatusCode; got != 429 {
		t.Errorf("the 11th wrong key in a minute: %d, want 429", got)
	}
	if got := get("/class?key="+testKey, "").StatusCode; got != 429 {
		t.Errorf("the right key after 10 wrong ones: %d, want 429 until the minute is over", got)
	}
	if strings.Contains(logs.String(), testKey) {
		t.Error("the instructor key appears in the server's log")
	}
}

// The instructor's operations are the instructor's alone; a student who
// tries gets an error and changes nothing.
func TestInstructorOperationsAreRefusedToStudents(t *testing.T) {
	t.Parallel()
	f := &fakeRuns{}
	s := fakeServer(t, f)
	student := mustDial(t, s)
	for _, op := range []map[string]any{
		{"op": "pause-students"}, {"op": "resume-students"}, {"op": "present", "lesson": "context-switching"},
	} {
		student.send(op)
		if e := student.next("refusal", typ("error")); !strings.Contains(e["message"].(string), "only the instructor may "+op["op"].(string)) {
			t.Errorf("%v from a student: %v", op, e)
		}
	}
	if _, err := dialAs(t, s, "", "?class", cookiesOf(t, s.url)); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pauses)+len(f.presents)+f.classWatchers != 0 {
		t.Errorf("a student's operations reached the runs: pauses %v, presents %v, class watchers %d", f.pauses, f.presents, f.classWatchers)
	}
}

// The instructor's operations, checked and passed on.
func TestInstructorOperations(t *testing.T) {
	t.Parallel()
	f := &fakeRuns{}
	s := fakeServer(t, f)
	c, err := dialAs(t, s, "", "?class", instructorCookies(t, s.url))
	if err != nil {
		t.Fatal(err)
	}
	c.next("the class view", typ("class"))
	c.send(map[string]any{"op": "pause-students"})
	c.send(map[string]any{"op": "present", "lesson": "nope"})
	if e := c.next("bad lesson", typ("error")); !strings.Contains(e["message"].(string), `unknown lesson "nope"`) {
		t.Errorf("present to an unknown lesson: %v", e)
	}
	c.send(map[string]any{"op": "present", "lesson": "context-switching", "anchor": "<script>"})
	if e := c.next("bad anchor", typ("error")); !strings.Contains(e["message"].(string), "is not an element id") {
		t.Errorf("present to a malformed anchor: %v", e)
	}
	c.send(map[string]any{"op": "present", "lesson": "context-switching", "anchor": "exp-switch-cost"})
	if p := c.next("present", typ("present")); p["anchor"] != "exp-switch-cost" {
		t.Errorf("present answered %v", p)
	}
	c.send(map[string]any{"op": "run", "experiment": "ws-hold"})
	c.next("accepted", typ("accepted"))
	c.send(map[string]any{"op": "cancel", "run": "r1"})
	c.send(map[string]any{"op": "resume-students"})
	c.send(map[string]any{"op": "watch", "run": "zz"}) // a round trip: everything before it was handled
	c.next("the watch error", typ("error"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pauses) != 2 || !f.pauses[0] || f.pauses[1] {
		t.Errorf("pauses %v, want [true false]", f.pauses)
	}
	if len(f.presents) != 1 || f.presents[0] != "context-switching#exp-switch-cost" {
		t.Errorf("presents %v", f.presents)
	}
	if len(f.requests) != 1 || !f.requests[0].Instructor || f.requests[0].Learner == "" {
		t.Errorf("the instructor's run request reached the runs as %+v", f.requests)
	}
	if len(f.cancels) != 1 || !strings.HasSuffix(f.cancels[0], "instructor=true") {
		t.Errorf("cancels %v", f.cancels)
	}
}

// A run or a cancel needs a learner: without a cookie, or with one the
// server did not issue, the page is told what to do and nothing runs.
func TestRunsNeedALearnerCookie(t *testing.T) {
	t.Parallel()
	f := &fakeRuns{}
	s := fakeServer(t, f)
	for _, tt := range []struct{ name, cookies, want string }{
		{"none", "", "no learner cookie"},
		{"forged", "conclab_learner=" + strings.Repeat("a", 32) + "." + strings.Repeat("0", 32), "did not issue"},
		{"malformed", "conclab_learner=hello", "malformed"},
	} {
		c, err := dialAs(t, s, "", "", tt.cookies)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range []map[string]any{{"op": "run", "experiment": "ws-hold"}, {"op": "cancel", "run": "r1"}} {
			c.send(op)
			if e := c.next("refusal", typ("error")); !strings.Contains(e["message"].(string), tt.want) {
				t.Errorf("%s cookie, %v: %v, want it to say %q", tt.name, op["op"], e["message"], tt.want)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests)+len(f.cancels) != 0 {
		t.Errorf("requests without a learner reached the runs: %v %v", f.requests, f.cancels)
	}
}

// Every browser gets a learner cookie on its first page, and keeps it.
func TestEveryPageGivesALearnerCookie(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	resp, err := http.Get(s.url + "/lessons/context-switching")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var c *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == "conclab_learner" {
			c = x
		}
	}
	if c == nil || !c.HttpOnly || len(strings.SplitN(c.Value, ".", 2)[0]) != 32 {
		t.Fatalf("learner cookie %+v: want an HttpOnly cookie holding a 128-bit id", c)
	}
	req, _ := http.NewRequest(http.MethodGet, s.url+"/", nil)
	req.AddCookie(c)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 0 {
		t.Errorf("a browser with a good learner cookie was given another: %v", resp.Cookies())
	}
}

package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"conclab/internal/app"
	"conclab/internal/classroom"
	"conclab/internal/lab"
)

// /progress sums a learner's guesses up: how many, how many right, the
// median factor off, and where they were most wrong — theirs only.
func TestProgressShowsCalibration(t *testing.T) {
	t.Parallel()
	a := app.New(app.Options{Course: theCourse(), InstructorKey: testKey})
	t.Cleanup(a.Close)
	ts := httptest.NewServer(a.Handler())
	t.Cleanup(ts.Close)
	cookie := cookiesOf(t, ts.URL)
	id := strings.SplitN(strings.TrimPrefix(cookie, "conclab_learner="), ".", 2)[0]
	now := time.Now()
	a.Store.Scored(classroom.ScoredGuess{Learner: id, Experiment: "switch-cost", Claim: 0, Run: "aaaaaaaaaaaa", Value: 40.0, Score: lab.ScoreNumber(40, 2), At: now})
	a.Store.Scored(classroom.ScoredGuess{Learner: id, Experiment: "switch-cost", Claim: 0, Run: "bbbbbbbbbbbb", Value: 2.2, Score: lab.ScoreNumber(2.2, 2), At: now.Add(time.Second)})
	a.Store.Scored(classroom.ScoredGuess{Learner: "someone-else", Experiment: "switch-cost", Claim: 0, Run: "cccccccccccc", Value: 9.0, Score: lab.ScoreNumber(9, 2), At: now})
	a.Store.Flush()
	page := func(c string) string {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/progress", nil)
		if c != "" {
			req.Header.Set("Cookie", c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	body := page(cookie)
	for _, want := range []string{"2 guesses scored, 1 right", "off by a factor of 10.5×", "<strong>20× too high</strong>", "/runs/aaaaaaaaaaaa"} {
		if !strings.Contains(body, want) {
			t.Errorf("/progress lacks %q", want)
		}
	}
	if strings.Contains(body, "cccccccccccc") {
		t.Error("/progress shows another learner's guess")
	}
	if other := page(cookiesOf(t, ts.URL)); !strings.Contains(other, "No guesses yet") {
		t.Error("a new learner's /progress does not say there are no guesses yet")
	}
}

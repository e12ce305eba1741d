package web_test

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// A guess reaches the runs with the learner's id; every refusal is a clear
// error and changes nothing.
func TestPredictOverTheWebsocket(t *testing.T) {
	t.Parallel()
	f := &fakeRuns{}
	s := fakeServer(t, f)
	c := mustDial(t, s)
	c.send(map[string]any{"op": "predict", "experiment": "ws-hold", "claim": 0, "value": 2.5})
	if p := c.next("predicted", typ("predicted")); p["experiment"] != "ws-hold" || p["value"] != 2.5 {
		t.Errorf("predicted %v", p)
	}
	for _, tt := range []struct {
		msg  map[string]any
		want string
	}{
		{map[string]any{"op": "predict", "experiment": "nope", "claim": 0, "value": 1}, `unknown experiment "nope"`},
		{map[string]any{"op": "predict", "experiment": "ws-hold", "value": 1}, "needs the claim"},
		{map[string]any{"op": "reveal", "experiment": "ws-hold"}, "only the instructor may reveal"},
		{map[string]any{"op": "reset-guesses", "experiment": "ws-hold"}, "only the instructor may reset-guesses"},
	} {
		c.send(tt.msg)
		if e := c.next("refusal", typ("error")); !strings.Contains(e["message"].(string), tt.want) {
			t.Errorf("%v: %v, want %q", tt.msg, e["message"], tt.want)
		}
	}
	f.mu.Lock()
	f.predictErr = errors.New("your guess is locked: the run it is scored on has started")
	f.mu.Unlock()
	c.send(map[string]any{"op": "predict", "experiment": "ws-hold", "claim": 0, "value": 3})
	if e := c.next("locked", typ("error")); !strings.Contains(e["message"].(string), "locked") || e["op"] != "predict" {
		t.Errorf("a locked guess: %v", e)
	}
	anon, err := dialAs(t, s, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	anon.send(map[string]any{"op": "predict", "experiment": "ws-hold", "claim": 0, "value": 1})
	if e := anon.next("no learner", typ("error")); !strings.Contains(e["message"].(string), "no learner cookie") {
		t.Errorf("a guess without a learner: %v", e)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.guesses) != 2 || !strings.HasPrefix(f.guesses[0], "ws-hold/0=2.5 by ") || len(f.rounds) != 0 {
		t.Errorf("guesses %v, rounds %v; want two guesses that reached the runs and no round", f.guesses, f.rounds)
	}
}

// The instructor's guess operations, and present opening a round for the
// experiment presented.
func TestInstructorRoundsOfGuesses(t *testing.T) {
	t.Parallel()
	f := &fakeRuns{}
	s := fakeServer(t, f)
	c, err := dialAs(t, s, "", "", instructorCookies(t, s.url))
	if err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"op": "present", "lesson": "context-switching", "anchor": "exp-switch-cost"})
	c.next("present", typ("present"))
	c.send(map[string]any{"op": "reveal", "experiment": "ws-hold"})
	c.send(map[string]any{"op": "reset-guesses", "experiment": "ws-hold"})
	c.send(map[string]any{"op": "watch", "run": "zz"}) // a round trip
	c.next("the watch error", typ("error"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := strings.Join(f.rounds, ", "); got != "open switch-cost, reveal ws-hold, reset ws-hold" {
		t.Errorf("rounds: %s", got)
	}
}

// The class's guesses as CSV: the instructor's only, one row per guess.
func TestPredictionsCSV(t *testing.T) {
	t.Parallel()
	s := fakeServer(t, &fakeRuns{})
	if resp, err := http.Get(s.url + "/class/predictions.csv"); err != nil || resp.StatusCode != 403 {
		t.Fatalf("the CSV without the instructor's cookie: %v %v, want 403", resp.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.url+"/class/predictions.csv", nil)
	req.Header.Set("Cookie", instructorCookies(t, s.url))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != "learner,experiment,claim,question,value,measured,score,run,at" {
		t.Fatalf("CSV %v, want a header and one row per guess", rows)
	}
	if r := rows[1]; r[0] != "amber-otter-17" || r[4] != "3" || r[5] != "1" || r[6] != "3× too high" {
		t.Errorf("a scored guess's row: %v", r)
	}
	if r := rows[2]; r[5] != "" || r[6] != "" {
		t.Errorf("a guess not scored yet has a measurement: %v", r)
	}
}

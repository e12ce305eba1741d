package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"conclab/internal/classroom"
	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/learner"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/web"
)

// fakeRuns stands in for the scheduler: it records what the web layer
// asks of it and answers as told, so these tests check the websocket
// handler alone — no runner, no child processes.
type fakeRuns struct {
	mu            sync.Mutex
	requests      []engine.Request
	cancels       []string
	presents      []string
	pauses        []bool
	classWatchers int
	guesses       []string
	rounds        []string
	predictErr    error
	started       []lab.Params
	follows       []string
	leaves        int
	viewer        engine.Viewer
	startErr      error
	cancel        engine.CancelResult
	cancErr       error
	left          chan struct{}
	followed      chan struct{} // when not nil, told of every Follow
	assigns       []classroom.Task
	answered      []classroom.Answer
}

func (f *fakeRuns) Start(req engine.Request, v engine.Viewer) (engine.Started, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.viewer = v
	f.requests = append(f.requests, req)
	if f.startErr != nil {
		return engine.Started{}, f.startErr
	}
	f.started = append(f.started, req.Params)
	v.Send([][]byte{protocol.Encode(protocol.Accepted{Run: "r1", Experiment: req.Exp.ID, Params: req.Params, Viewers: 1})})
	return engine.Started{}, nil
}

func (f *fakeRuns) Watch(id string, v engine.Viewer) error {
	if id != "r1" {
		return engine.ErrUnknownRun
	}
	return nil
}

func (f *fakeRuns) Cancel(id, learner string, instructor bool, v engine.Viewer) (engine.CancelResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancels = append(f.cancels, fmt.Sprintf("%s by %s instructor=%v", id, learner, instructor))
	return f.cancel, f.cancErr
}

func (f *fakeRuns) Follow(lesson, learner string, instructor bool, v engine.Viewer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.follows = append(f.follows, lesson)
	f.viewer = v
	select {
	case f.followed <- struct{}{}:
	default:
	}
}

func (f *fakeRuns) SetFollowing(v engine.Viewer, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.follows = append(f.follows, fmt.Sprintf("following=%v", on))
}

func (f *fakeRuns) Present(lesson, anchor string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.presents = append(f.presents, lesson+"#"+anchor)
}

func (f *fakeRuns) Pause(paused bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pauses = append(f.pauses, paused)
}

func (f *fakeRuns) WatchClass(v engine.Viewer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.classWatchers++
	v.Send([][]byte{protocol.Encode(protocol.Class{})})
}

func (f *fakeRuns) View() protocol.Class { return protocol.Class{} }

func (f *fakeRuns) Predict(exp *lab.Experiment, claim int, value any, learner string) (protocol.Predicted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.guesses = append(f.guesses, fmt.Sprintf("%s/%d=%v by %s", exp.ID, claim, value, learner))
	if f.predictErr != nil {
		return protocol.Predicted{}, f.predictErr
	}
	return protocol.Predicted{Experiment: exp.ID, Claim: claim, Value: value}, nil
}

func (f *fakeRuns) OpenRound(exp *lab.Experiment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rounds = append(f.rounds, "open "+exp.ID)
}

func (f *fakeRuns) Reveal(exp *lab.Experiment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rounds = append(f.rounds, "reveal "+exp.ID)
	return nil
}

func (f *fakeRuns) ResetGuesses(exp *lab.Experiment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rounds = append(f.rounds, "reset "+exp.ID)
}

func (f *fakeRuns) ClassGuesses() []classroom.ScoredGuess {
	return []classroom.ScoredGuess{
		{Learner: "amber-otter-17", Experiment: "ws-hold", Claim: 0, Run: "r1", Class: true, Value: 3.0, Score: lab.ScoreNumber(3, 1)},
		{Learner: "brisk-heron-02", Experiment: "ws-hold", Claim: 0, Class: true, Value: 1.1},
	}
}

func (f *fakeRuns) Assign(t classroom.Task) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.assigns = append(f.assigns, t)
	return nil
}

func (f *fakeRuns) Answered(a classroom.Answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answered = append(f.answered, a)
}

// Leave is called by both the runs and the class when a connection
// closes: each counts.
func (f *fakeRuns) Leave(v engine.Viewer) {
	f.mu.Lock()
	f.leaves++
	f.mu.Unlock()
	select {
	case f.left <- struct{}{}:
	default:
	}
}

func (f *fakeRuns) Latest() map[string]engine.Info { return nil }
func (f *fakeRuns) Hosts() []engine.HostInfo       { return nil }
func (f *fakeRuns) Stats() engine.Stats            { return engine.Stats{} }

func fakeServer(t *testing.T, f *fakeRuns) *server {
	t.Helper()
	f.left = make(chan struct{}, 1)
	srv := &web.Server{Course: theCourse(), Runs: f, Class: f, Host: probe.ReadHost(), Signer: learner.NewSigner(learner.Secret()), InstructorKey: testKey,
		Log: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	ts := httptest.NewServer(srv.Routes())
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	return &server{url: ts.URL}
}

// A run request reaches the runs with its parameters checked and its
// defaults filled in; the answer (accepted) is the runs' to send.
func TestRunRequestReachesTheRunsValidated(t *testing.T) {
	t.Parallel()
	f := &fakeRuns{}
	c := mustDial(t, fakeServer(t, f))
	c.send(map[string]any{"op": "run", "experiment": "ws-hold", "params": map[string]any{}})
	acc := c.next("accepted", typ("accepted"))
	if acc["run"] != "r1" {
		t.Errorf("accepted %v", acc)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.started) != 1 || f.started[0].Int("hold") != 100 {
		t.Errorf("the runs were asked for %v, want one run with hold=100 (the default)", f.started)
	}
}

// What the runs refuse or report comes back as the protocol's messages.
func TestRunsAnswersBecomeMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    *fakeRuns
		msg  map[string]any
		want func(m map[string]any) bool
	}{
		{"queue full", &fakeRuns{startErr: engine.ErrQueueFull}, map[string]any{"op": "run", "experiment": "ws-hold"},
			func(m map[string]any) bool {
				return m["type"] == "error" && m["op"] == "run" && m["experiment"] == "ws-hold" && strings.Contains(m["message"].(string), "queue is full")
			}},
		{"not yours", &fakeRuns{cancErr: engine.ErrNotYours}, map[string]any{"op": "cancel", "run": "r1"},
			func(m map[string]any) bool {
				return m["type"] == "error" && m["run"] == "r1" && strings.Contains(m["message"].(string), "only someone who asked")
			}},
		{"unknown run", &fakeRuns{cancErr: engine.ErrUnknownRun}, map[string]any{"op": "cancel", "run": "zz"},
			func(m map[string]any) bool {
				return m["type"] == "error" && strings.Contains(m["message"].(string), `run "zz" is not on this server`)
			}},
		{"left", &fakeRuns{cancel: engine.Left}, map[string]any{"op": "cancel", "run": "r1"},
			func(m map[string]any) bool {
				return m["type"] == "left" && m["run"] == "r1" && strings.Contains(m["message"].(string), "goes on for the others")
			}},
		{"watch unknown", &fakeRuns{}, map[string]any{"op": "watch", "run": "zz"},
			func(m map[string]any) bool {
				return m["type"] == "error" && m["op"] == "watch" && strings.Contains(m["message"].(string), "not on this server")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustDial(t, fakeServer(t, tt.f))
			c.send(tt.msg)
			if m := c.next("the answer", func(map[string]any) bool { return true }); !tt.want(m) {
				t.Errorf("got %v", m)
			}
		})
	}
}

// A page on a lesson follows it; a closed connection leaves the runs.
func TestFollowAndLeave(t *testing.T) {
	t.Parallel()
	f := &fakeRuns{}
	s := fakeServer(t, f)
	c, err := dial(t, s, "", "?lesson="+benchSlug)
	if err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"op": "watch", "run": "r1"}) // a round trip: Follow came first
	c.c.Close(websocket.StatusNormalClosure, "bye")
	select {
	case <-f.left:
	case <-time.After(10 * time.Second):
		t.Fatal("a closed connection did not leave the runs")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.follows) != 1 || f.follows[0] != benchSlug {
		t.Errorf("follows %v, want [%s]", f.follows, benchSlug)
	}
}

// A page that cannot keep up with a run's events is disconnected with a
// reason, and told to reconnect (it then catches up from the replay),
// rather than slowing the run down or growing without bound.
func TestTooSlowAViewerIsClosed(t *testing.T) {
	t.Parallel()
	f := &fakeRuns{followed: make(chan struct{}, 1)}
	s := fakeServer(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/ws?lesson="+benchSlug, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookiesOf(t, s.url)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// Wait until the server has the viewer, then flood it while the page reads nothing.
	select {
	case <-f.followed:
	case <-ctx.Done():
		t.Fatal("the server never made the page a follower of its lesson")
	}
	f.mu.Lock()
	v := f.viewer
	f.mu.Unlock()
	big := [][]byte{[]byte(`{"type":"log","message":"` + strings.Repeat("x", 16<<10) + `"}`)}
	refused := false
	for range 100_000 {
		if !v.Send(big) {
			refused = true
			break
		}
	}
	if !refused {
		t.Fatal("the connection took 100,000 batches without refusing")
	}
	if v.Send(big) {
		t.Error("a connection that refused once took more")
	}
	for {
		if _, _, err := ws.Read(ctx); err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
				t.Errorf("closed with %v (%v), want policy violation", got, err)
			}
			break
		}
	}
}

func (f *fakeRuns) StartEverywhere(req engine.Request, v engine.Viewer) ([]*engine.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	return nil, nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// A class, played against a running server: students on a lesson page
// who follow the instructor, the instructor presenting a run, students
// asking for runs of their own (some identical, some not), some students
// dropping their connection and coming back, and the instructor bringing
// everyone to a place on the page. It measures what a class would feel:
// how fast every request is answered, whether any follower lost or was
// sent twice an event of the instructor's run, how long events take to
// reach them, and the server's memory.

// classPlan is what the simulation does.
type classPlan struct {
	base      *url.URL
	students  int
	key       string // the instructor key
	lesson    string
	exp       *lab.Experiment
	params    lab.Params // the instructor's run
	identical float64    // share of students asking for the instructor's very run
	drop      float64    // share of students who drop and reconnect during the run
}

// student is one simulated browser.
type student struct {
	cookie string
	plan   *classPlan

	mu        sync.Mutex
	seen      map[int]int // seq of the instructor's run → times received on one connection
	dups      int         // events of the instructor's run sent twice (or out of order) within one pass
	delays    []float64   // ms from the child's event to this student, live events only
	answer    string      // how its own run request was answered
	answerMs  float64     // and how long that took
	ownRun    string
	presenter string // the instructor's run, once announced
	presented bool
	guessed   time.Time // when its guess was sent
	guessMs   float64   // how long the acknowledgement took
	guessErr  string
	scored    bool
	revealed  bool
	asked     time.Time
}

// classResult sums the class up.
type classResult struct {
	answers        map[string]int
	answerMs       []float64
	lost, dups     int
	studentsLost   int
	delays         []float64
	presented      int
	unanswered     int
	presenterSeqs  int
	presenterState string
	guesses        *guessRound
}

// guessRound is how the class's guesses went.
type guessRound struct {
	sent, acked, refused, scored, revealed int
	ackMs                                  []float64
	seenByInstructor                       int
	histogramMs                            float64 // from the last guess sent to the instructor's view counting them all
	firstRefusal                           string
}

func classLoad(ctx context.Context, w io.Writer, p *classPlan) error {
	before, err := serverStats(ctx, p.base)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("cannot reach %s: %v", p.base, err)}
	}
	teacherCookie, err := instructorLogin(ctx, p.base, p.key)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	fmt.Fprintf(w, "A class of %d students on %s; the instructor presents %s…\n", p.students, p.lesson, p.exp.ID)

	// The students open the lesson page and its websocket.
	students, conns, err := connectStudents(ctx, p)
	if err != nil {
		return &exitError{code: 1, msg: "a student could not connect: " + err.Error()}
	}

	// The instructor presents the experiment, and the class guesses.
	dash, _, err := websocket.Dial(ctx, classURL(p.base), &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {teacherCookie}}})
	if err != nil {
		return &exitError{code: 1, msg: "the instructor's dashboard could not connect: " + err.Error()}
	}
	defer dash.CloseNow()
	dash.SetReadLimit(1 << 20)
	board := watchBoard(ctx, dash, p.exp.ID)
	present, _ := json.Marshal(map[string]any{"op": "present", "lesson": p.lesson, "anchor": "exp-" + p.exp.ID})
	dash.Write(ctx, websocket.MessageText, present)
	var round *guessRound
	if len(p.exp.Predictions) > 0 {
		round = classGuess(ctx, p, students, conns, board)
	}

	// The instructor presents a run.
	teacher, _, err := websocket.Dial(ctx, wsURL(p.base, p.lesson), &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {teacherCookie}}})
	if err != nil {
		return &exitError{code: 1, msg: "the instructor could not connect: " + err.Error()}
	}
	defer teacher.CloseNow()
	teacher.SetReadLimit(1 << 20)
	run, _ := json.Marshal(map[string]any{"op": "run", "experiment": p.exp.ID, "params": p.params, "fresh": true})
	if err := teacher.Write(ctx, websocket.MessageText, run); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	acted := make(chan struct{})
	presenterRun, lastSeq, state, err := followTeacher(ctx, teacher, p, students, conns, acted)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	select { // every student has asked, dropped and come back
	case <-acted:
	case <-ctx.Done():
		return &exitError{code: 1, msg: "the class did not finish in time"}
	}
	if round != nil {
		time.Sleep(500 * time.Millisecond) // the scores go out as the run ends
		reveal, _ := json.Marshal(map[string]any{"op": "reveal", "experiment": p.exp.ID})
		dash.Write(ctx, websocket.MessageText, reveal)
	}
	time.Sleep(2 * time.Second) // let the last events, and the reveal, reach every follower

	res := classResult{answers: map[string]int{}, presenterSeqs: lastSeq, presenterState: state, guesses: round}
	for i, s := range students {
		own := res.add(s, round)
		// Leave nothing queued behind: cancel one's own run, then go.
		if own != "" && own != presenterRun {
			b, _ := json.Marshal(map[string]any{"op": "cancel", "run": own})
			conns[i].Write(ctx, websocket.MessageText, b)
		}
	}
	for _, c := range conns {
		c.Close(websocket.StatusNormalClosure, "")
	}
	after, _ := serverStats(context.Background(), p.base)
	return res.report(w, p.students, before, after)
}

// connectStudents opens the lesson page and its websocket for every
// student, at most 64 at a time.
func connectStudents(ctx context.Context, p *classPlan) ([]*student, []*websocket.Conn, error) {
	students := make([]*student, p.students)
	conns := make([]*websocket.Conn, p.students)
	var wg sync.WaitGroup
	errs := make(chan error, p.students)
	dials := make(chan struct{}, 64)
	for i := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dials <- struct{}{}
			defer func() { <-dials }()
			cookie, err := learnerCookie(ctx, p.base)
			if err != nil {
				errs <- err
				return
			}
			s := &student{cookie: cookie, plan: p, seen: map[int]int{}}
			c, err := s.dial(ctx)
			if err != nil {
				errs <- err
				return
			}
			students[i], conns[i] = s, c
		}()
	}
	wg.Wait()
	close(errs)
	return students, conns, <-errs
}

// add counts what one student saw, and returns the student's own run.
func (res *classResult) add(s *student, round *guessRound) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	missing := 0
	for q := 1; q <= res.presenterSeqs; q++ {
		if s.seen[q] == 0 {
			missing++
		}
	}
	res.lost += missing
	if missing > 0 {
		res.studentsLost++
	}
	res.dups += s.dups
	res.delays = append(res.delays, s.delays...)
	if s.answer == "" {
		res.unanswered++
	} else {
		res.answers[s.answer]++
		res.answerMs = append(res.answerMs, s.answerMs)
	}
	if s.presented {
		res.presented++
	}
	if round != nil {
		if s.scored {
			round.scored++
		}
		if s.revealed {
			round.revealed++
		}
	}
	return s.ownRun
}

// followTeacher plays the class while the instructor's run goes: students
// ask for runs, some drop and reconnect, the instructor presents. It
// returns the instructor's run, its last seq and how it ended.
func followTeacher(ctx context.Context, teacher *websocket.Conn, p *classPlan, students []*student, conns []*websocket.Conn, acted chan struct{}) (string, int, string, error) {
	var once sync.Once
	runID := ""
	for {
		_, b, err := teacher.Read(ctx)
		if err != nil {
			return "", 0, "", fmt.Errorf("the instructor's connection: %w", err)
		}
		var m struct {
			Type, Run, Message, Status string
			Seq                        int
		}
		json.Unmarshal(b, &m)
		switch {
		case m.Type == "error":
			return "", 0, "", fmt.Errorf("the instructor's run was refused: %s", m.Message)
		case m.Type == "accepted":
			runID = m.Run
		case m.Type == protocol.EventStarted:
			once.Do(func() {
				go func() {
					defer close(acted)
					classActions(ctx, teacher, p, students, conns, runID)
				}()
			})
		case m.Type == protocol.EventDone && m.Run == runID:
			return runID, m.Seq, m.Status, nil
		}
	}
}

// classActions is what happens in class while the instructor's run goes.
func classActions(ctx context.Context, teacher *websocket.Conn, p *classPlan, students []*student, conns []*websocket.Conn, presenterRun string) {
	n := len(students)
	var wg sync.WaitGroup
	for i, s := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Millisecond)
			params := p.params
			if float64(i) >= p.identical*float64(n) {
				params = variant(p.exp, p.params, i)
			}
			s.ask(ctx, conns[i], params)
			if float64(i%100) < p.drop*100 {
				time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
				conns[i].CloseNow()
				time.Sleep(time.Duration(200+rand.IntN(300)) * time.Millisecond)
				if c, err := s.dial(ctx); err == nil {
					conns[i] = c
					s.rewatch(ctx, c)
				}
			}
		}()
	}
	wg.Wait()
}

// variant is the instructor's parameters with the first whole-number
// parameter changed, so that student i asks for a run of its own.
func variant(exp *lab.Experiment, base lab.Params, i int) lab.Params {
	out := lab.Params{}
	for k, v := range base {
		out[k] = v
	}
	for _, prm := range exp.Params {
		if prm.Kind != lab.KindInt || prm.Max <= prm.Min {
			continue
		}
		lo, values := int(prm.Min), int(prm.Max-prm.Min)+1
		v := base.Int(prm.Name)
		// The values after the instructor's, wrapping round, never the same.
		out[prm.Name] = lo + (v-lo+1+i%(values-1))%values
		break
	}
	return out
}

func wsURL(base *url.URL, lesson string) string {
	u := *base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	u.Path = "/ws"
	u.RawQuery = "lesson=" + url.QueryEscape(lesson)
	return u.String()
}

// dial opens the student's websocket on the lesson and reads it.
func (s *student) dial(ctx context.Context) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, wsURL(s.plan.base, s.plan.lesson), &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {s.cookie}}})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	go s.read(ctx, c, float64(time.Now().UnixMicro())/1e3)
	return c, nil
}

// ask sends the student's own run request.
func (s *student) ask(ctx context.Context, c *websocket.Conn, params lab.Params) {
	b, _ := json.Marshal(map[string]any{"op": "run", "experiment": s.plan.exp.ID, "params": params})
	s.mu.Lock()
	s.asked = time.Now()
	s.mu.Unlock()
	c.Write(ctx, websocket.MessageText, b)
}

// rewatch is what a page does when it comes back: watch its own run
// again. The instructor's run it need not ask for: the server announces it
// again to a page that follows, and makes the page watch it.
func (s *student) rewatch(ctx context.Context, c *websocket.Conn) {
	s.mu.Lock()
	own := s.ownRun
	s.mu.Unlock()
	if own != "" {
		b, _ := json.Marshal(map[string]any{"op": "watch", "run": own})
		c.Write(ctx, websocket.MessageText, b)
	}
}

// read takes one connection's messages until it closes. A page is sent a
// replay of the instructor's run whenever it starts watching it — when the
// server announces it, after a reconnect, and when its own request joins
// or is offered that very run — and a replay starts again at seq 1; within
// one pass seqs must rise one by one. Anything else is an event sent twice
// (or out of order), which the page would have to discard.
//
// Delivery delays count only events made while this connection was open:
// a reconnect's replay of what it missed is late by design.
func (s *student) read(ctx context.Context, c *websocket.Conn, opened float64) {
	last := 0 // the last seq of the instructor's run in this pass
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		now := float64(time.Now().UnixMicro()) / 1e3
		var m struct {
			Type, Run, Reason, Message, Op string
			Seq                            int
			TS                             float64
			Joined                         bool
			Presenter                      bool
		}
		json.Unmarshal(b, &m)
		s.mu.Lock()
		switch m.Type {
		case "live":
			if m.Presenter && s.presenter == "" {
				s.presenter = m.Run // its replay follows: the server has the page watch it
			}
		case "present":
			s.presented = true
		case "predicted":
			s.guessMs = float64(time.Since(s.guessed).Microseconds()) / 1e3
		case "scored":
			s.scored = true
		case "reveal":
			s.revealed = true
		case "accepted", "offer", "error":
			if m.Type == "error" && m.Op == "predict" {
				s.guessErr = m.Message
				break
			}
			if s.answer == "" && !s.asked.IsZero() {
				s.answerMs = float64(time.Since(s.asked).Microseconds()) / 1e3
				switch {
				case m.Type == "offer":
					s.answer = "offered (" + m.Reason + ")"
				case m.Type == "error":
					s.answer = "refused: " + firstWords(m.Message)
				case m.Joined:
					s.answer = "joined a run under way"
				default:
					s.answer = "accepted a new run"
				}
				s.ownRun = m.Run
			}
		}
		if m.Seq > 0 && m.Run != "" && m.Run == s.presenter {
			switch {
			case m.Seq == 1:
				last = 1 // a pass starts
			case m.Seq <= last:
				s.dups++
			default:
				last = m.Seq
			}
			s.seen[m.Seq]++
			if m.TS >= opened && s.seen[m.Seq] == 1 {
				s.delays = append(s.delays, now-m.TS)
			}
		}
		s.mu.Unlock()
	}
}

func firstWords(msg string) string {
	if i := strings.IndexAny(msg, ":;"); i > 0 {
		return msg[:i]
	}
	return msg
}

// instructorLogin shows the key at /class?key= and returns the cookies it
// gives.
func instructorLogin(ctx context.Context, base *url.URL, key string) (string, error) {
	if key == "" {
		return "", errors.New("--students needs --instructor-key: the key in the instructor link conclab serve printed")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+"/class?key="+url.QueryEscape(key), nil)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("the instructor key was refused (%s)", resp.Status)
	}
	var parts []string
	for _, c := range resp.Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; "), nil
}

func (r classResult) report(w io.Writer, n int, before, after stats) error {
	fmt.Fprintf(w, "\nthe instructor's run: %s, %d events\n", r.presenterState, r.presenterSeqs)
	fmt.Fprintf(w, "requests: %d answered, %d unanswered\n", n-r.unanswered, r.unanswered)
	for answer, k := range r.answers {
		fmt.Fprintf(w, "  %-40s %d\n", answer, k)
	}
	if len(r.answerMs) > 0 {
		s := lab.Summarize(r.answerMs)
		fmt.Fprintf(w, "answer time, request → first answer: p50 %.1f ms · p99 %.1f ms · max %.1f ms\n", s.P50, s.P99, s.Max)
	}
	fmt.Fprintf(w, "events of the instructor's run lost: %d (at %d of %d students); sent twice or out of order: %d\n", r.lost, r.studentsLost, n, r.dups)
	if len(r.delays) > 0 {
		s := lab.Summarize(r.delays)
		fmt.Fprintf(w, "delivery delay, child event → student (%d events): p50 %.1f ms · p99 %.1f ms · max %.1f ms\n", s.N, s.P50, s.P99, s.Max)
	}
	fmt.Fprintf(w, "moved by the instructor's present: %d of %d\n", r.presented, n)
	fmt.Fprintf(w, "server memory (RSS): %.1f MB before, %.1f MB after; peak %.1f MB\n", mb(before.RSS), mb(after.RSS), mb(max(after.Peak, after.RSS)))
	if g := r.guesses; g != nil {
		fmt.Fprintf(w, "guesses: %d sent, %d acknowledged, %d refused", g.sent, g.acked, g.refused)
		if g.firstRefusal != "" {
			fmt.Fprintf(w, " (first refusal: %s)", g.firstRefusal)
		}
		fmt.Fprintln(w)
		if len(g.ackMs) > 0 {
			s := lab.Summarize(g.ackMs)
			fmt.Fprintf(w, "guess acknowledged: p50 %.1f ms · p99 %.1f ms · max %.1f ms\n", s.P50, s.P99, s.Max)
		}
		fmt.Fprintf(w, "the instructor's view counted %d of %d guesses, %.0f ms after the last was sent\n", g.seenByInstructor, g.sent, g.histogramMs)
		fmt.Fprintf(w, "scored: %d of %d; revealed to: %d of %d\n", g.scored, g.sent, g.revealed, n)
	}
	if r.unanswered > 0 || r.lost > 0 || r.dups > 0 || r.presenterState != protocol.StatusOK ||
		(r.guesses != nil && (r.guesses.acked != r.guesses.sent || r.guesses.seenByInstructor != r.guesses.sent)) {
		return &exitError{code: 1, msg: "the class did not go through cleanly"}
	}
	return nil
}

func classURL(base *url.URL) string {
	u := *base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	u.Path = "/ws"
	u.RawQuery = "class"
	return u.String()
}

// board is the instructor's dashboard: how many guesses it has counted
// for the experiment, as its class view arrives.
type board struct {
	mu    sync.Mutex
	count int
	at    time.Time // when count last changed
}

func watchBoard(ctx context.Context, c *websocket.Conn, exp string) *board {
	b := &board{}
	go func() {
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				Type    string
				Guesses []struct {
					Experiment string
					Count      int
				}
			}
			json.Unmarshal(msg, &m)
			if m.Type != "class" {
				continue
			}
			n := 0
			for _, g := range m.Guesses {
				if g.Experiment == exp {
					n = max(n, g.Count)
				}
			}
			b.mu.Lock()
			if n != b.count {
				b.count, b.at = n, time.Now()
			}
			b.mu.Unlock()
		}
	}()
	return b
}

// classGuess has every student guess within the same second, and waits for
// the acknowledgements and the instructor's view to count them all.
func classGuess(ctx context.Context, p *classPlan, students []*student, conns []*websocket.Conn, b *board) *guessRound {
	time.Sleep(300 * time.Millisecond) // the present has opened the round
	decl := p.exp.Predictions[0]
	var wg sync.WaitGroup
	var mu sync.Mutex
	var last time.Time
	for i, s := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.IntN(1000)) * time.Millisecond)
			var v any
			if decl.Kind == lab.PredictChoice {
				v = decl.Choices[rand.IntN(len(decl.Choices))]
			} else {
				v = decl.Min * math.Pow(decl.Max/decl.Min, rand.Float64())
			}
			msg, _ := json.Marshal(map[string]any{"op": "predict", "experiment": p.exp.ID, "claim": decl.Claim, "value": v})
			s.mu.Lock()
			s.guessed = time.Now()
			s.mu.Unlock()
			conns[i].Write(ctx, websocket.MessageText, msg)
			mu.Lock()
			last = time.Now()
			mu.Unlock()
		}()
	}
	wg.Wait()
	g := &guessRound{sent: len(students)}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		done := b.count >= g.sent
		b.mu.Unlock()
		if done {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.mu.Lock()
	g.seenByInstructor = b.count
	if b.count > 0 {
		g.histogramMs = float64(b.at.Sub(last).Microseconds()) / 1e3
	}
	b.mu.Unlock()
	for _, s := range students {
		s.mu.Lock()
		switch {
		case s.guessErr != "":
			g.refused++
			if g.firstRefusal == "" {
				g.firstRefusal = s.guessErr
			}
		case s.guessMs > 0:
			g.acked++
			g.ackMs = append(g.ackMs, s.guessMs)
		}
		s.mu.Unlock()
	}
	return g
}

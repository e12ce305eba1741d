package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// Limits of one websocket connection.
const (
	maxMessage  = 16 << 10 // a request larger than this gets an error and is skipped
	hardMessage = 1 << 20  // one larger than this closes the connection
	outQueue    = 512      // batches waiting to be written before a viewer counts as too slow
	maxBatchGap = time.Second
)

// conn is one websocket connection, and the engine.Viewer of every run it
// watches.
type conn struct {
	ws     *websocket.Conn
	raw    *corkConn // the connection under ws, corked for each batch
	out    chan [][]byte
	gap    time.Duration // > 0: messages go out as JSON arrays, at most one every gap (see batchGap)
	cancel context.CancelCauseFunc
	who    Identity

	mu     sync.Mutex
	closed bool
}

var errTooSlow = errors.New("this connection could not keep up with the events; reconnect to catch up")

// Send queues messages without blocking. A connection whose queue is full
// is too slow for a live run: it is closed, and the page reconnects and
// catches up from the run's replay.
func (c *conn) Send(msgs [][]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	select {
	case c.out <- msgs:
		return true
	default:
		c.closed = true
		c.cancel(errTooSlow)
		return false
	}
}

// send queues one message of the protocol.
func (c *conn) send(m protocol.Message) { c.Send([][]byte{protocol.Encode(m)}) }

func (c *conn) sendError(req *protocol.Request, msg string) { c.send(protocol.ErrorFor(req, msg)) }

// batchGap reads the websocket's batch parameter: /ws?batch=MS asks for
// every message waiting to go out to be sent together, as one JSON array,
// and at most one array every MS milliseconds (1 to 1000). A page that
// draws only a few times a second takes in a few messages a second instead
// of hundreds, each of which costs its browser a task. Without it, every
// message is a websocket message of its own, as soon as it is ready.
func batchGap(r *http.Request) (time.Duration, error) {
	q := r.URL.Query()
	if !q.Has("batch") {
		return 0, nil
	}
	ms, err := strconv.Atoi(q.Get("batch"))
	if err != nil || ms < 1 || time.Duration(ms)*time.Millisecond > maxBatchGap {
		return 0, fmt.Errorf("batch must be a whole number of milliseconds from 1 to %d, not %q", maxBatchGap.Milliseconds(), q.Get("batch"))
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func (s *Server) websocket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gap, err := batchGap(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// Accept checks that a browser's Origin is this server's own host
		// (or one of OriginPatterns): another site's page cannot drive runs.
		cw := &corking{ResponseWriter: w}
		ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{OriginPatterns: s.OriginPatterns})
		if err != nil {
			s.Log.Info("websocket refused", "origin", r.Header.Get("Origin"), "err", err)
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(hardMessage)

		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		c := &conn{ws: ws, raw: cw.conn, out: make(chan [][]byte, outQueue), gap: gap, cancel: cancel, who: identityOf(r)}
		defer s.Runs.Leave(c)
		defer s.Class.Leave(c)

		if lesson := r.URL.Query().Get("lesson"); lesson != "" {
			s.Class.Follow(lesson, c.countAs(), c.who.Instructor, c)
			if r.URL.Query().Get("follow") == "0" {
				s.Class.SetFollowing(c, false) // the learner unticked Follow before this page reconnected
			}
		}
		if r.URL.Query().Has("class") {
			if c.who.Instructor {
				s.Class.WatchClass(c)
			} else {
				c.sendError(nil, "the class view is the instructor's: open the instructor link printed by conclab serve first")
			}
		}

		// The reader's context is the request's, not ctx: the library closes
		// a connection whose read context ends, and a viewer found too slow
		// must still be sent its close frame with the reason.
		go s.readLoop(r.Context(), c)
		err = writeLoop(ctx, c)
		switch {
		case errors.Is(context.Cause(ctx), errTooSlow):
			ws.Close(websocket.StatusPolicyViolation, "too slow: reconnect to catch up")
		case websocket.CloseStatus(err) == websocket.StatusNormalClosure || websocket.CloseStatus(err) == websocket.StatusGoingAway:
		case r.Context().Err() != nil:
			ws.Close(websocket.StatusGoingAway, "the server is shutting down")
		case err != nil && !errors.Is(err, context.Canceled):
			s.Log.Debug("websocket closed", "err", err)
		}
	})
}

// writeLoop writes queued messages until the connection ends. A batch is
// one delivery: its messages go out corked, in one write, with one
// deadline. A connection with a gap takes every batch waiting at once,
// writes it as one message, and waits out the gap before the next.
func writeLoop(ctx context.Context, c *conn) error {
	var last time.Time
	for {
		var batch [][]byte
		select {
		case <-ctx.Done():
			return ctx.Err()
		case batch = <-c.out:
		}
		if c.gap > 0 {
			if err := sleepCtx(ctx, time.Until(last.Add(c.gap))); err != nil {
				return err
			}
			batch = [][]byte{joinWaiting(c.out, batch)}
			last = time.Now()
		}
		// Corked, the library's writes only fill memory and cannot
		// block: they need no context of their own (which would cost a
		// timer per message), and the one real write below has the
		// batch's deadline.
		c.raw.cork()
		var err error
		for _, msg := range batch {
			if err = c.ws.Write(context.Background(), websocket.MessageText, msg); err != nil {
				break
			}
		}
		if uerr := c.raw.uncork(time.Now().Add(writeTimeout)); err == nil {
			err = uerr
		}
		if err != nil {
			c.cancel(err)
			return err
		}
	}
}

// joinWaiting makes one JSON array of first's messages and those of every
// batch waiting in out.
func joinWaiting(out chan [][]byte, first [][]byte) []byte {
	buf := []byte{'['}
	add := func(batch [][]byte) {
		for _, m := range batch {
			if len(buf) > 1 {
				buf = append(buf, ',')
			}
			buf = append(buf, m...)
		}
	}
	add(first)
	for {
		select {
		case more := <-out:
			add(more)
		default:
			return append(buf, ']')
		}
	}
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// readLoop handles the page's requests until the connection ends.
func (s *Server) readLoop(ctx context.Context, c *conn) {
	defer c.cancel(nil)
	for {
		typ, rd, err := c.ws.Reader(ctx)
		if err != nil {
			c.cancel(err)
			return
		}
		data, err := io.ReadAll(io.LimitReader(rd, maxMessage+1))
		if err != nil {
			c.cancel(err)
			return
		}
		if len(data) > maxMessage {
			// Skip the rest; the connection stays usable.
			n, err := io.Copy(io.Discard, rd)
			if err != nil {
				c.cancel(err)
				return
			}
			c.sendError(nil, fmt.Sprintf("message too large: %d bytes; the limit is %d", int64(len(data))+n, maxMessage))
			continue
		}
		if typ != websocket.MessageText {
			c.sendError(nil, "send JSON text messages, not binary")
			continue
		}
		s.handle(c, data)
	}
}

// countAs is who the connection counts as on the instructor's pages: its
// learner, or the connection itself when it carries no learner cookie.
func (c *conn) countAs() string {
	if c.who.Learner != "" {
		return string(c.who.Learner)
	}
	return fmt.Sprintf("connection-%p", c)
}

// anchorPattern is what an element id on a lesson page looks like.
var anchorPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// handlers answer each op a page may send.
var handlers = map[string]func(s *Server, c *conn, req *protocol.Request){
	protocol.OpRun:            (*Server).handleRun,
	protocol.OpWatch:          (*Server).handleWatch,
	protocol.OpCancel:         (*Server).handleCancel,
	protocol.OpFollow:         (*Server).handleFollow,
	protocol.OpPredict:        (*Server).handlePredict,
	protocol.OpPauseStudents:  (*Server).handlePause,
	protocol.OpResumeStudents: (*Server).handlePause,
	protocol.OpPresent:        (*Server).handlePresent,
	protocol.OpReveal:         (*Server).handleReveal,
	protocol.OpResetGuesses:   (*Server).handleReveal,
	protocol.OpAssign:         (*Server).handleAssign,
}

func (s *Server) handle(c *conn, data []byte) {
	var req protocol.Request
	if err := json.Unmarshal(data, &req); err != nil {
		c.sendError(nil, "malformed message: it must be a JSON object like {\"op\":\"run\",\"experiment\":\"switch-cost\",\"params\":{}}")
		return
	}
	h, ok := handlers[req.Op]
	switch {
	case req.Op == "":
		c.sendError(&req, "missing op: use run, cancel, watch, follow, predict or answer")
	case req.Op == protocol.OpAnswer || req.Op == protocol.OpExercise:
		s.answer(c, data)
	case !ok:
		c.sendError(&req, fmt.Sprintf("unknown op %q: use run, cancel, watch, follow, predict or answer", req.Op))
	default:
		h(s, c, &req)
	}
}

// experiment is the experiment a request names, or an error sent back.
func (s *Server) experiment(c *conn, req *protocol.Request) (*lab.Experiment, bool) {
	exp, ok := s.Course.Registry().Lookup(req.Experiment)
	if !ok {
		c.sendError(req, fmt.Sprintf("unknown experiment %q", req.Experiment))
	}
	return exp, ok
}

func (s *Server) handleRun(c *conn, req *protocol.Request) {
	if !s.needLearner(c, req) {
		return
	}
	exp, ok := s.experiment(c, req)
	if !ok {
		return
	}
	params, err := exp.Validate(req.Params, false)
	if err != nil {
		c.sendError(req, err.Error())
		return
	}
	// Accepted or an offer, then the run's events, come from the runs.
	er := engine.Request{Exp: exp, Params: params, Learner: string(c.who.Learner), Instructor: c.who.Instructor, Fresh: req.Fresh, Host: req.Host}
	if req.Everywhere {
		switch {
		case !c.who.Instructor:
			c.sendError(req, "only the instructor may run an experiment on every host at once: ask for a run of your own instead")
		case req.Host != "":
			c.sendError(req, `a run on every host names no host: send "everywhere" or "host", not both`)
		default:
			if _, err := s.Runs.StartEverywhere(er, c); err != nil {
				c.sendError(req, err.Error())
			}
		}
		return
	}
	if _, err := s.Runs.Start(er, c); err != nil {
		c.sendError(req, err.Error())
	}
}

func (s *Server) handleWatch(c *conn, req *protocol.Request) {
	if err := s.Runs.Watch(req.Run, c); err != nil {
		c.sendError(req, fmt.Sprintf("run %q is not on this server: neither measuring here nor kept in its store", req.Run))
	}
}

func (s *Server) handleCancel(c *conn, req *protocol.Request) {
	if !s.needLearner(c, req) {
		return
	}
	res, err := s.Runs.Cancel(req.Run, string(c.who.Learner), c.who.Instructor, c)
	switch {
	case errors.Is(err, engine.ErrUnknownRun):
		c.sendError(req, fmt.Sprintf("run %q is not on this server", req.Run))
	case err != nil:
		c.sendError(req, err.Error())
	case res == engine.Left:
		c.send(protocol.Left{Run: req.Run, Message: "You stopped watching; the run goes on for the others who asked for it."})
	}
}

// handleFollow ticks or unticks Follow the instructor: unticked, the
// page is sent nothing more of the instructor's runs or moves.
func (s *Server) handleFollow(c *conn, req *protocol.Request) {
	if req.On == nil {
		c.sendError(req, `follow needs "on": {"op":"follow","on":false} stops following the instructor, true starts again`)
		return
	}
	s.Class.SetFollowing(c, *req.On)
	c.send(protocol.Following{On: *req.On})
}

func (s *Server) handlePause(c *conn, req *protocol.Request) {
	if s.needInstructor(c, req) {
		s.Runs.Pause(req.Op == protocol.OpPauseStudents)
	}
}

func (s *Server) handlePresent(c *conn, req *protocol.Request) {
	if !s.needInstructor(c, req) {
		return
	}
	if _, l, ok := s.Course.Find(req.Lesson); !ok || l.Page == nil {
		c.sendError(req, fmt.Sprintf("unknown lesson %q", req.Lesson))
		return
	}
	if req.Anchor != "" && !anchorPattern.MatchString(req.Anchor) {
		c.sendError(req, fmt.Sprintf("anchor %q is not an element id (letters, digits, - and _, at most 64)", req.Anchor))
		return
	}
	s.Class.Present(req.Lesson, req.Anchor)
	if exp, ok := s.Course.Registry().Lookup(strings.TrimPrefix(req.Anchor, "exp-")); ok && exp.Lesson == req.Lesson {
		s.Class.OpenRound(exp) // the class guesses what it will measure
	}
	c.send(protocol.Present{Lesson: req.Lesson, Anchor: req.Anchor})
}

func (s *Server) handlePredict(c *conn, req *protocol.Request) {
	if !s.needLearner(c, req) {
		return
	}
	exp, ok := s.experiment(c, req)
	if !ok {
		return
	}
	if req.Claim == nil {
		c.sendError(req, "a guess needs the claim it is for: {\"op\":\"predict\",\"experiment\":ID,\"claim\":N,\"value\":V}")
		return
	}
	ack, err := s.Class.Predict(exp, *req.Claim, req.Value, string(c.who.Learner))
	if err != nil {
		c.sendError(req, err.Error())
		return
	}
	c.send(ack)
}

func (s *Server) handleReveal(c *conn, req *protocol.Request) {
	if !s.needInstructor(c, req) {
		return
	}
	exp, ok := s.experiment(c, req)
	if !ok {
		return
	}
	if req.Op == protocol.OpResetGuesses {
		s.Class.ResetGuesses(exp)
	} else if err := s.Class.Reveal(exp); err != nil {
		c.sendError(req, err.Error())
	}
}

// needLearner reports whether the connection has a learner to act for,
// telling it why not when it has none.
func (s *Server) needLearner(c *conn, req *protocol.Request) bool {
	switch {
	case c.who.Learner != "":
		return true
	case c.who.Refused != "":
		c.sendError(req, "your learner cookie was refused ("+c.who.Refused+"): reload the page to get a new one")
	default:
		c.sendError(req, "this connection has no learner cookie: open a lesson page first, which gives your browser one")
	}
	return false
}

// needInstructor reports whether the connection is the instructor's,
// telling it plainly when it is not.
func (s *Server) needInstructor(c *conn, req *protocol.Request) bool {
	if c.who.Instructor {
		return true
	}
	c.sendError(req, fmt.Sprintf("only the instructor may %s: open the instructor link printed by conclab serve", req.Op))
	return false
}

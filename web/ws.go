package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// Limits of one websocket connection.
const (
	maxMessage  = 16 << 10 // a request larger than this gets an error and is skipped
	hardMessage = 1 << 20  // one larger than this closes the connection
	outQueue    = 512      // batches waiting to be written before a viewer counts as too slow
)

// conn is one websocket connection, and the lab.Viewer of every run it
// watches.
type conn struct {
	ws     *websocket.Conn
	out    chan [][]byte
	cancel context.CancelCauseFunc

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

func (s *Server) websocket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Accept checks that a browser's Origin is this server's own host
		// (or one of OriginPatterns): another site's page cannot drive runs.
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.OriginPatterns})
		if err != nil {
			s.Log.Info("websocket refused", "origin", r.Header.Get("Origin"), "err", err)
			return
		}
		defer ws.CloseNow()
		ws.SetReadLimit(hardMessage)

		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		c := &conn{ws: ws, out: make(chan [][]byte, outQueue), cancel: cancel}
		defer s.Runs.Leave(c)

		if lesson := r.URL.Query().Get("lesson"); lesson != "" {
			s.Runs.Follow(lesson, c)
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

// writeLoop writes queued messages until the connection ends.
func writeLoop(ctx context.Context, c *conn) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case batch := <-c.out:
			// One deadline for the batch: a batch is one delivery.
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			for _, msg := range batch {
				if err := c.ws.Write(wctx, websocket.MessageText, msg); err != nil {
					cancel()
					c.cancel(err)
					return err
				}
			}
			cancel()
		}
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

func (s *Server) handle(c *conn, data []byte) {
	var req protocol.Request
	if err := json.Unmarshal(data, &req); err != nil {
		c.sendError(nil, "malformed message: it must be a JSON object like {\"op\":\"run\",\"experiment\":\"switch-cost\",\"params\":{}}")
		return
	}
	switch req.Op {
	case protocol.OpRun:
		exp, ok := s.Course.Registry().Lookup(req.Experiment)
		if !ok {
			c.sendError(&req, fmt.Sprintf("unknown experiment %q", req.Experiment))
			return
		}
		params, err := exp.Validate(req.Params, false)
		if err != nil {
			c.sendError(&req, err.Error())
			return
		}
		// Accepted, the replay and the live events follow from the runs.
		if _, _, err := s.Runs.Start(exp, params, c); err != nil {
			c.sendError(&req, err.Error())
		}
	case protocol.OpWatch:
		if err := s.Runs.Watch(req.Run, c); err != nil {
			c.sendError(&req, fmt.Sprintf("run %q is not on this server (it may have finished long ago, or the server restarted)", req.Run))
		}
	case protocol.OpCancel:
		res, err := s.Runs.Cancel(req.Run, c)
		switch {
		case errors.Is(err, lab.ErrUnknownRun):
			c.sendError(&req, fmt.Sprintf("run %q is not on this server", req.Run))
		case err != nil:
			c.sendError(&req, err.Error())
		case res == lab.Left:
			c.send(protocol.Left{Run: req.Run, Message: "You stopped watching; the run goes on for the others who asked for it."})
		}
	case "":
		c.sendError(&req, "missing op: use run, cancel or watch")
	default:
		c.sendError(&req, fmt.Sprintf("unknown op %q: use run, cancel or watch", req.Op))
	}
}

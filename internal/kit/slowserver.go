package kit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The I/O the lessons wait on is real network I/O. A SlowServer is a small
// TCP server on 127.0.0.1 that plays the slow thing a task waits for — a
// database, another service, a client far away. A task sends it a query
// over a socket and blocks reading the socket until the answer comes; the
// server holds each answer back for the delay the query asks for. The task
// never sleeps: it waits on the network, exactly like a real I/O-bound task.
//
// Frames from a client:
//
//	'Q' delay-µs(uint32) len(uint32) payload   a query: answered after the delay
//	'R' 0(uint32)        len(uint32) payload   a response to a client: read and counted, no answer
//
// An answer is len(uint32) followed by that many bytes: whatever the
// server's answer function makes of the query's payload. The server counts
// what it answered and received, so a test (or an experiment's evidence
// table) can check that every task really went over the network.

// MaxSlowPayload is the largest payload a frame, or an answer, may carry;
// a connection that sends a larger one is closed.
const MaxSlowPayload = 1 << 20

// slowGuard bounds every wait on a slow server beyond the delay asked for:
// a dead server must not hang a run.
const slowGuard = 30 * time.Second

// SlowServer answers queries after a delay.
type SlowServer struct {
	ln        net.Listener
	answer    func(query []byte) []byte
	answered  atomic.Int64 // queries answered
	responses atomic.Int64 // responses received
	wg        sync.WaitGroup
	quit      chan struct{} // closed when Close drops the connections

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

// StartSlowServer listens on a free loopback port and serves until Close.
// answer makes each query's answer from its payload; it runs on the
// connection's goroutine once the delay has passed. Nil answers every
// query with an empty answer.
func StartSlowServer(answer func(query []byte) []byte) (*SlowServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the local server: %w", err)
	}
	if answer == nil {
		answer = func([]byte) []byte { return nil }
	}
	s := &SlowServer{ln: ln, answer: answer, conns: map[net.Conn]bool{}, quit: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the server's address, 127.0.0.1:<port>.
func (s *SlowServer) Addr() string { return s.ln.Addr().String() }

// Answered is how many queries the server has answered so far. A query
// counts just before its answer is written, so a client that has its
// answer always finds it counted.
func (s *SlowServer) Answered() int64 { return s.answered.Load() }

// Responses is how many responses the server has received so far.
func (s *SlowServer) Responses() int64 { return s.responses.Load() }

// Close stops the server. Connections the clients have closed are served
// to their end first, so every frame sent before is counted; whatever is
// still open after a grace period of 2 s (or at once when ctx is done) is
// dropped, which also wakes any client still waiting on one. Closing a
// closed server does nothing.
func (s *SlowServer) Close(ctx context.Context) {
	s.ln.Close()
	drained := make(chan struct{})
	go func() { s.wg.Wait(); close(drained) }()
	grace := time.NewTimer(2 * time.Second)
	defer grace.Stop()
	select {
	case <-drained:
		return
	case <-ctx.Done():
	case <-grace.C:
	}
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.quit)
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	<-drained
}

func (s *SlowServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *SlowServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	var head [9]byte
	var payload, out []byte
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if _, err := io.ReadFull(c, head[:]); err != nil {
			return
		}
		delay := time.Duration(binary.BigEndian.Uint32(head[1:5])) * time.Microsecond
		n := int(binary.BigEndian.Uint32(head[5:9]))
		if n > MaxSlowPayload {
			return
		}
		if cap(payload) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(c, payload); err != nil {
			return
		}
		switch head[0] {
		case 'R':
			s.responses.Add(1)
		case 'Q':
			// The slow part of the outside world: the answer is not ready
			// until the delay has passed.
			if delay > 0 {
				timer.Reset(delay)
				select {
				case <-timer.C:
				case <-s.quit:
					return
				}
			}
			ans := s.answer(payload)
			if len(ans) > MaxSlowPayload {
				return
			}
			out = binary.BigEndian.AppendUint32(out[:0], uint32(len(ans)))
			out = append(out, ans...)
			s.answered.Add(1)
			if _, err := c.Write(out); err != nil {
				return
			}
		default:
			return
		}
	}
}

// SlowConn is one client connection to a SlowServer. It is for one
// goroutine at a time.
type SlowConn struct {
	c    net.Conn
	ctx  context.Context
	stop func() bool
	out  []byte // the frame being sent
	ans  []byte // the last answer
}

// DialSlow connects to the slow server at addr. ctx bounds the dial and
// the connection's life: when it ends the connection closes, which wakes a
// Query waiting on it.
func DialSlow(ctx context.Context, addr string) (*SlowConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &SlowConn{c: c, ctx: ctx, stop: context.AfterFunc(ctx, func() { c.Close() })}, nil
}

// Close closes the connection.
func (sc *SlowConn) Close() error {
	sc.stop()
	return sc.c.Close()
}

// Query sends a query and blocks on the socket until the server answers,
// which it does after delay. The answer is valid until the next call.
func (sc *SlowConn) Query(delay time.Duration, payload []byte) ([]byte, error) {
	if err := sc.send('Q', delay, payload); err != nil {
		return nil, err
	}
	sc.c.SetReadDeadline(time.Now().Add(delay + slowGuard))
	var head [4]byte
	if _, err := io.ReadFull(sc.c, head[:]); err != nil {
		return nil, sc.failed("waiting for the local server", err)
	}
	n := int(binary.BigEndian.Uint32(head[:]))
	if n > MaxSlowPayload {
		return nil, fmt.Errorf("the local server answered with %d bytes, more than %d", n, MaxSlowPayload)
	}
	if cap(sc.ans) < n {
		sc.ans = make([]byte, n)
	}
	sc.ans = sc.ans[:n]
	if _, err := io.ReadFull(sc.c, sc.ans); err != nil {
		return nil, sc.failed("reading the local server's answer", err)
	}
	return sc.ans, nil
}

// Respond writes a response for the server to read; it does not wait.
func (sc *SlowConn) Respond(payload []byte) error { return sc.send('R', 0, payload) }

func (sc *SlowConn) send(kind byte, delay time.Duration, payload []byte) error {
	if delay < 0 || delay > time.Hour {
		return errors.New("delay out of range")
	}
	if len(payload) > MaxSlowPayload {
		return fmt.Errorf("payload of %d bytes, more than %d", len(payload), MaxSlowPayload)
	}
	sc.out = append(sc.out[:0], kind)
	sc.out = binary.BigEndian.AppendUint32(sc.out, uint32(delay/time.Microsecond))
	sc.out = binary.BigEndian.AppendUint32(sc.out, uint32(len(payload)))
	sc.out = append(sc.out, payload...)
	sc.c.SetWriteDeadline(time.Now().Add(slowGuard))
	if _, err := sc.c.Write(sc.out); err != nil {
		return sc.failed("writing to the local server", err)
	}
	return nil
}

// failed says why an exchange failed: the context's end when that closed
// the connection, else what went wrong.
func (sc *SlowConn) failed(what string, err error) error {
	if sc.ctx.Err() != nil {
		return sc.ctx.Err()
	}
	return fmt.Errorf("%s: %w", what, err)
}

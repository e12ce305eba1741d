package cpuvsiobound

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

// The I/O in this lesson is real network I/O. Each experiment starts a small
// TCP server on 127.0.0.1 that plays the slow thing a task waits for — a
// database, another service, a client far away. A task sends it a query
// over a socket and blocks reading the socket until the answer comes; the
// server holds each answer back for the delay the query asks for. The task
// never sleeps: it waits on the network, exactly like a real I/O-bound task.
//
// Frames from a client:
//
//	'Q' delay-µs(uint32) len(uint32) payload   a query: answered after the delay with 8 bytes
//	'R' 0(uint32)        len(uint32) payload   a response to a client: read and counted, no answer
//
// The server counts what it answered and received, so a test can check that
// every task really went over the network.

// slowServer answers queries after a delay.
type slowServer struct {
	ln        net.Listener
	answered  atomic.Int64 // queries answered
	responses atomic.Int64 // responses received
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]bool
	closed    bool
}

// startServer listens on a free loopback port and serves until Close.
func startServer() (*slowServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the local server: %w", err)
	}
	s := &slowServer{ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the server's address, 127.0.0.1:<port>.
func (s *slowServer) Addr() string { return s.ln.Addr().String() }

// Answered is how many queries the server has answered so far.
func (s *slowServer) Answered() int64 { return s.answered.Load() }

// Responses is how many responses the server has received so far.
func (s *slowServer) Responses() int64 { return s.responses.Load() }

// Close stops the server. Connections the clients have closed are served
// to their end first, so every frame sent before is counted; whatever is
// still open after a grace period (or at once when ctx is done) is dropped,
// which also wakes any client still waiting on one.
func (s *slowServer) Close(ctx context.Context) {
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
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	<-drained
}

func (s *slowServer) accept() {
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

func (s *slowServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	var head [9]byte
	buf := make([]byte, 4096)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if _, err := io.ReadFull(c, head[:]); err != nil {
			return
		}
		delay := time.Duration(binary.BigEndian.Uint32(head[1:5])) * time.Microsecond
		n := int(binary.BigEndian.Uint32(head[5:9]))
		for n > 0 {
			k, err := c.Read(buf[:min(n, len(buf))])
			if err != nil {
				return
			}
			n -= k
		}
		switch head[0] {
		case 'R':
			s.responses.Add(1)
		case 'Q':
			// The slow part of the outside world: the answer is not ready
			// until the delay has passed.
			timer.Reset(delay)
			<-timer.C
			var ans [8]byte
			binary.BigEndian.PutUint64(ans[:], uint64(s.answered.Add(1)))
			if _, err := c.Write(ans[:]); err != nil {
				return
			}
		default:
			return
		}
	}
}

// client is one connection to the slow server.
type client struct {
	c    net.Conn
	head [9]byte
	ans  [8]byte
}

// dial connects to the server; ctx bounds the dial only.
func dial(ctx context.Context, addr string) (*client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &client{c: c}, nil
}

// Close closes the connection.
func (cl *client) Close() error { return cl.c.Close() }

// Query sends a query and blocks on the socket until the server answers,
// which it does after delay.
func (cl *client) Query(delay time.Duration, payload []byte) error {
	if err := cl.send('Q', delay, payload); err != nil {
		return err
	}
	// A generous deadline: a dead server must not hang a run.
	cl.c.SetReadDeadline(time.Now().Add(delay + 10*time.Second))
	if _, err := io.ReadFull(cl.c, cl.ans[:]); err != nil {
		return fmt.Errorf("waiting for the local server: %w", err)
	}
	return nil
}

// Respond writes a response for the server to read; it does not wait.
func (cl *client) Respond(payload []byte) error { return cl.send('R', 0, payload) }

func (cl *client) send(kind byte, delay time.Duration, payload []byte) error {
	if delay < 0 || delay > time.Hour {
		return errors.New("delay out of range")
	}
	cl.head[0] = kind
	binary.BigEndian.PutUint32(cl.head[1:5], uint32(delay/time.Microsecond))
	binary.BigEndian.PutUint32(cl.head[5:9], uint32(len(payload)))
	cl.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := cl.c.Write(append(cl.head[:], payload...)); err != nil {
		return fmt.Errorf("writing to the local server: %w", err)
	}
	return nil
}

package web

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// The websocket library writes and flushes every message on its own, one
// system call and one TCP segment each. A batch of a run's events for a
// viewer is one delivery, so it goes out corked: the library's writes of
// the batch collect in memory, and uncork sends them with one write. With
// hundreds of viewers on two CPUs, that is most of the fan-out's cost.

// corkConn is the websocket's connection, which can hold writes back.
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// cork holds writes back until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// maxCorked is more than a batch needs; a larger buffer is not kept.
const maxCorked = 1 << 20

// uncork sends what was held back, in one write that must finish by the
// deadline, and lets writes through again.
func (c *corkConn) uncork(deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return nil
	}
	c.Conn.SetWriteDeadline(deadline)
	_, err := c.Conn.Write(c.buf)
	c.Conn.SetWriteDeadline(time.Time{})
	if cap(c.buf) > maxCorked {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// corking wraps the response writer of a websocket request so that the
// connection it hijacks is a corkConn.
type corking struct {
	http.ResponseWriter
	conn *corkConn
}

func (w *corking) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over for a websocket")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil { // the handshake's answer, if it waits there
		conn.Close()
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: conn}
	return w.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.conn, 4<<10)), nil
}

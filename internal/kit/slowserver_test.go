package kit

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

func startSlow(t *testing.T, answer func([]byte) []byte) *SlowServer {
	t.Helper()
	s, err := StartSlowServer(answer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.Close(ctx)
	})
	return s
}

func dialSlow(t *testing.T, ctx context.Context, s *SlowServer) *SlowConn {
	t.Helper()
	c, err := DialSlow(ctx, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A query is answered with what the answer function makes of its payload,
// never before its delay; responses are counted and not answered; the
// counts are right once the clients have closed and the server is closed.
func TestSlowServerAnswersAfterTheDelay(t *testing.T) {
	t.Parallel()
	s := startSlow(t, func(q []byte) []byte { return append([]byte("seed of "), q...) })
	c := dialSlow(t, context.Background(), s)
	const delay = 5 * time.Millisecond
	for _, id := range []string{"1", "22", ""} {
		t0 := time.Now()
		got, err := c.Query(delay, []byte(id))
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(t0); took < delay {
			t.Errorf("query %q answered after %s, before its %s delay", id, took, delay)
		}
		if want := "seed of " + id; string(got) != want {
			t.Errorf("query %q: answer %q, want %q", id, got, want)
		}
	}
	for range 2 {
		if err := c.Respond([]byte(`{"status":"ok"}`)); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	s.Close(context.Background())
	if got, want := s.Answered(), int64(3); got != want {
		t.Errorf("Answered() = %d, want %d", got, want)
	}
	if got, want := s.Responses(), int64(2); got != want {
		t.Errorf("Responses() = %d, want %d", got, want)
	}
	s.Close(context.Background()) // a second Close does nothing
}

// Without an answer function every answer is empty, and a zero delay is
// answered at once.
func TestSlowServerNilAnswer(t *testing.T) {
	t.Parallel()
	s := startSlow(t, nil)
	c := dialSlow(t, context.Background(), s)
	got, err := c.Query(0, []byte("anything"))
	if err != nil || len(got) != 0 {
		t.Errorf("Query = %q, %v; want an empty answer", got, err)
	}
}

// Many clients waiting at once wait together: 20 queries of 50 ms each
// take about 50 ms, far less than the second they would take in turn.
func TestSlowServerWaitsOverlap(t *testing.T) {
	t.Parallel()
	s := startSlow(t, nil)
	const n, delay = 20, 50 * time.Millisecond
	conns := make([]*SlowConn, n)
	for i := range conns {
		conns[i] = dialSlow(t, context.Background(), s)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, c := range conns {
		wg.Go(func() {
			_, err := c.Query(delay, nil)
			errs <- err
		})
	}
	wg.Wait()
	took := time.Since(t0)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if took > n*delay/2 {
		t.Errorf("%d overlapping queries of %s took %s, want far less than %s", n, delay, took, n*delay)
	}
	if got := s.Answered(); got != n {
		t.Errorf("Answered() = %d, want %d", got, n)
	}
}

// Ending the connection's context wakes a query waiting on it, and the
// query says the context ended.
func TestSlowConnContextEndsTheWait(t *testing.T) {
	t.Parallel()
	s := startSlow(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	c := dialSlow(t, ctx, s)
	time.AfterFunc(20*time.Millisecond, cancel)
	t0 := time.Now()
	_, err := c.Query(time.Hour, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Query = %v, want context.Canceled", err)
	}
	if took := time.Since(t0); took > 10*time.Second {
		t.Errorf("the cancelled query returned after %s", took)
	}
}

// Closing the server with a done context drops a connection that is
// still waiting, and the client hears of it at once.
func TestSlowServerCloseDropsWaitingClients(t *testing.T) {
	t.Parallel()
	s := startSlow(t, nil)
	c := dialSlow(t, context.Background(), s)
	if _, err := c.Query(0, nil); err != nil { // the server has the connection
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Query(time.Hour, nil)
		errc <- err
	}()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Close(ctx)
	select {
	case err := <-errc:
		if err == nil {
			t.Error("a query on a dropped connection returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a query on a dropped connection was still waiting 10 s later")
	}
}

// A frame that claims a payload larger than MaxSlowPayload, or an unknown
// kind, closes the connection; the server goes on serving others.
func TestSlowServerRejectsBadFrames(t *testing.T) {
	t.Parallel()
	s := startSlow(t, nil)
	for name, frame := range map[string][]byte{
		"oversized": binary.BigEndian.AppendUint32(append([]byte{'Q'}, 0, 0, 0, 0), MaxSlowPayload+1),
		"unknown":   append([]byte{'X'}, 0, 0, 0, 0, 0, 0, 0, 0),
	} {
		raw, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		raw.SetDeadline(time.Now().Add(10 * time.Second))
		raw.Write(frame)
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(raw); err != nil {
			t.Errorf("%s frame: %v, want the server to close the connection", name, err)
		}
		raw.Close()
	}
	c := dialSlow(t, context.Background(), s)
	if _, err := c.Query(0, nil); err != nil {
		t.Errorf("after bad frames on other connections: %v", err)
	}
}

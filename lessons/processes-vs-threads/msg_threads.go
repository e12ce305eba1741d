package processesvsthreads

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Messages inside one process: between goroutines over a channel, and
// between two OS threads through memory guarded by a mutex. Nothing here
// enters the kernel unless one side has to sleep.

type msg64 [64]byte
type msg4k [4096]byte

// chanThroughput sends messages (copied by value, as a channel does)
// through a buffered channel until dur has passed.
func chanThroughput[M any](ctx context.Context, dur time.Duration) (int64, time.Duration, error) {
	ch := make(chan M, nSlots)
	got := make(chan int64)
	go func() {
		var n int64
		var sink M
		for m := range ch {
			sink = m
			n++
		}
		_ = sink
		got <- n
	}()
	var m M
	t0 := time.Now()
	deadline := t0.Add(dur)
	for i := 0; ; i++ {
		if i%64 == 0 && time.Now().After(deadline) {
			break
		}
		ch <- m
	}
	close(ch)
	n := <-got
	return n, time.Since(t0), ctx.Err()
}

// chanLatency passes one message to a goroutine and back over two
// unbuffered channels.
func chanLatency[M any](ctx context.Context, per int, dur time.Duration, tick func([]float64)) ([]float64, error) {
	ping, pong := make(chan M), make(chan M)
	go func() {
		for m := range ping {
			pong <- m
		}
	}()
	defer close(ping)
	var m M
	return timeRoundTrips(ctx, per, dur, tick, func() error {
		ping <- m
		m = <-pong
		return nil
	})
}

// lockedRing is a ring of message slots in ordinary memory, guarded by
// one mutex that each thread takes for every message. The counters change
// only under the mutex; a thread that finds the ring full or empty waits
// by glancing at them atomically, so waiting does not keep the lock from
// the other side.
type lockedRing struct {
	mu         sync.Mutex
	head, tail atomic.Uint64
	done       atomic.Bool
	slots      [][]byte
}

// onThread runs f on a goroutine locked to its own OS thread, which ends
// with it.
func onThread(f func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		defer close(done)
		f()
	}()
	return done
}

// mutexThroughput: one thread writes messages into the ring, another reads
// them out, each holding the mutex while it copies.
func mutexThroughput(ctx context.Context, size int, dur time.Duration) (int64, time.Duration, error) {
	r := &lockedRing{slots: make([][]byte, nSlots)}
	for i := range r.slots {
		r.slots[i] = make([]byte, size)
	}
	var got int64
	reader := onThread(func() {
		buf := make([]byte, size)
		var sp spinner
		for {
			tail := r.tail.Load()
			if r.head.Load() == tail {
				if r.done.Load() && r.head.Load() == tail {
					return
				}
				sp.miss(nil)
				continue
			}
			r.mu.Lock()
			copy(buf, r.slots[tail%nSlots])
			r.tail.Store(tail + 1)
			r.mu.Unlock()
			got++
		}
	})
	var t0 time.Time
	writer := onThread(func() {
		msg := make([]byte, size)
		var sp spinner
		t0 = time.Now()
		deadline := t0.Add(dur)
		for i := 0; ; i++ {
			if i%64 == 0 && (time.Now().After(deadline) || ctx.Err() != nil) {
				break
			}
			head := r.head.Load()
			if head-r.tail.Load() >= nSlots {
				sp.miss(nil)
				continue
			}
			r.mu.Lock()
			copy(r.slots[head%nSlots], msg)
			r.head.Store(head + 1)
			r.mu.Unlock()
		}
		r.done.Store(true)
	})
	<-writer
	<-reader
	return got, time.Since(t0), ctx.Err()
}

// lockedTurn is one message slot and a turn counter guarded by a mutex:
// odd means the message waits for the echo thread, even that its answer
// waits for the sender. The counter is changed only under the mutex, but
// a waiting thread may glance at it without the mutex (atomically), so
// that waiting does not keep taking the lock from the other side.
type lockedTurn struct {
	mu    sync.Mutex
	seq   atomic.Uint64
	stop  atomic.Bool
	slot  []byte
	reply []byte
}

// mutexLatency passes one message between two OS threads through the
// guarded slot and back.
func mutexLatency(ctx context.Context, size, per int, dur time.Duration, tick func([]float64)) ([]float64, error) {
	t := &lockedTurn{slot: make([]byte, size), reply: make([]byte, size)}
	echo := onThread(func() {
		var sp spinner
		for !t.stop.Load() {
			if t.seq.Load()%2 == 0 {
				sp.miss(nil)
				continue
			}
			t.mu.Lock()
			copy(t.reply, t.slot)
			t.seq.Add(1)
			t.mu.Unlock()
		}
	})
	type result struct {
		vals []float64
		err  error
	}
	res := make(chan result, 1)
	onThread(func() {
		msg := make([]byte, size)
		var sp spinner
		vals, err := timeRoundTrips(ctx, per, dur, tick, func() error {
			t.mu.Lock()
			copy(t.slot, msg)
			want := t.seq.Add(1) + 1
			t.mu.Unlock()
			for t.seq.Load() != want {
				if err := sp.miss(ctx); err != nil {
					return err
				}
			}
			t.mu.Lock()
			copy(msg, t.reply)
			t.mu.Unlock()
			return nil
		})
		res <- result{vals, err}
	})
	r := <-res
	t.stop.Store(true)
	<-echo
	return r.vals, r.err
}

package processesvsthreads

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"conclab/internal/pingpong"
	"conclab/internal/probe"
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
func chanLatency[M any](ctx context.Context, per int, dur time.Duration, tick pingpong.Tick) ([]float64, error) {
	ping, pong := make(chan M), make(chan M)
	go func() {
		for m := range ping {
			pong <- m
		}
	}()
	defer close(ping)
	var m M
	return pingpong.TimeFor(ctx, dur, per, eachRound(func() error {
		ping <- m
		m = <-pong
		return nil
	}), tick)
}

// lockedQueue is a buffer of messages in ordinary memory, guarded by one
// mutex, the way threads often share a queue: the writer takes the mutex
// to append a message; the reader takes it only to swap the messages
// written so far for its empty spare buffer, then copies them out with
// the mutex free. Either side holds the mutex for a moment, so the other
// rarely finds it taken (a thread that finds a Go mutex taken may be put
// to sleep). The counters each side waits for (see futex.go) sit on cache
// lines of their own, away from the mutex, so that waiting on one does
// not slow the other side's work on the rest.
//
// This is the same shape as the shared memory between processes in
// msg_shm.go, whose reader also takes all that is there at once, so the
// two compare threads with processes rather than one design with another.
type lockedQueue struct {
	mu        sync.Mutex
	buf       []byte // the messages appended since the reader's last swap, one after another
	n         int    // how many
	_         [64]byte
	head      uint32 // messages appended in all; the writer moves it after letting go of the mutex
	headSleep uint32
	_         [64]byte
	tail      uint32 // messages the reader has swapped out in all
	tailSleep uint32
	_         [64]byte
	done      uint32 // 1: the writer has finished
}

// onThread runs f on a goroutine locked to its own OS thread, pinned to
// cpu unless it is negative; the thread ends with it. The channel gets
// one value once f has returned: nil, or why the thread could not be
// pinned. f runs even then, so a partner thread waiting for it is not
// left hanging; but it did not run where the run log says, so the caller
// fails with the error instead of reporting what f measured.
func onThread(cpu int, f func()) <-chan error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		var err error
		if cpu >= 0 {
			if perr := probe.PinThread(cpu); perr != nil {
				err = fmt.Errorf("pinning a thread to CPU %d: %w", cpu, perr)
			}
		}
		f()
		done <- err
	}()
	return done
}

// firstError is the first of errs that is not nil.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// mutexThroughput: one thread appends messages to the queue, another
// takes them out in batches, each under the mutex (see lockedQueue).
func mutexThroughput(ctx context.Context, size int, dur time.Duration, pl placement) (int64, time.Duration, error) {
	q := &lockedQueue{buf: make([]byte, nSlots*size)}
	var got int64
	reader := onThread(pl.b, func() {
		spare := make([]byte, nSlots*size)
		out := make([]byte, size)
		var seen uint32
		for {
			h := atomic.LoadUint32(&q.head)
			done := atomic.LoadUint32(&q.done) == 1
			// A message can be swapped out before the writer moves head
			// past it, so head may briefly trail what the reader has seen.
			if int32(h-seen) <= 0 && !done {
				await(context.Background(), &q.head, h, &q.headSleep, &q.done)
				continue
			}
			q.mu.Lock()
			q.buf, spare = spare, q.buf
			k := q.n
			q.n = 0
			q.mu.Unlock()
			seen += uint32(k)
			atomic.StoreUint32(&q.tail, seen)
			notify(&q.tail, &q.tailSleep)
			for j := range k {
				copy(out, spare[j*size:])
			}
			got += int64(k)
			if done && k == 0 { // the writer has finished and nothing is left
				return
			}
		}
	})
	var t0 time.Time
	var sent uint32 // messages written, once the writer has finished
	writer := onThread(pl.a, func() {
		defer func() {
			atomic.StoreUint32(&q.done, 1)
			notify(&q.head, &q.headSleep)
		}()
		msg := make([]byte, size)
		t0 = time.Now()
		deadline := t0.Add(dur)
		var head uint32
		defer func() { sent = head }()
		for i := 0; ; i++ {
			if i%64 == 0 && (time.Now().After(deadline) || ctx.Err() != nil) {
				return
			}
			// Full: the buffer holds nSlots messages, so wait for a swap.
			if t := atomic.LoadUint32(&q.tail); head-t >= nSlots {
				if await(ctx, &q.tail, t, &q.tailSleep, nil) != nil {
					return
				}
				continue
			}
			q.mu.Lock()
			copy(q.buf[q.n*size:], msg)
			q.n++
			q.mu.Unlock()
			head++
			atomic.StoreUint32(&q.head, head)
			notify(&q.head, &q.headSleep)
		}
	})
	werr, rerr := <-writer, <-reader
	if err := firstError(werr, rerr, ctx.Err()); err != nil {
		return 0, 0, err
	}
	if int64(sent) != got {
		return 0, 0, fmt.Errorf("the reader took %d of the %d messages written", got, sent)
	}
	return got, time.Since(t0), nil
}

// lockedTurn is one message slot guarded by a mutex, and a turn counter:
// odd means the message waits for the echo thread, even that its answer
// waits for the sender. A thread moves the counter after letting go of the
// mutex, and waits for its turn by watching it (see futex.go).
type lockedTurn struct {
	mu                   sync.Mutex
	seq, stop            uint32
	echoSleep, sendSleep uint32
	slot, reply          []byte
}

// mutexLatency passes one message between two OS threads through the
// guarded slot and back.
func mutexLatency(ctx context.Context, size, per int, dur time.Duration, tick pingpong.Tick, pl placement) ([]float64, error) {
	t := &lockedTurn{slot: make([]byte, size), reply: make([]byte, size)}
	echo := onThread(pl.b, func() {
		for atomic.LoadUint32(&t.stop) == 0 {
			s := atomic.LoadUint32(&t.seq)
			if s%2 == 0 {
				await(context.Background(), &t.seq, s, &t.echoSleep, &t.stop)
				continue
			}
			t.mu.Lock()
			copy(t.reply, t.slot)
			t.mu.Unlock()
			atomic.StoreUint32(&t.seq, s+1)
			notify(&t.seq, &t.sendSleep)
		}
	})
	type result struct {
		vals []float64
		err  error
	}
	res := make(chan result, 1)
	sender := onThread(pl.a, func() {
		msg := make([]byte, size)
		vals, err := pingpong.TimeFor(ctx, dur, per, eachRound(func() error {
			t.mu.Lock()
			copy(t.slot, msg)
			t.mu.Unlock()
			want := atomic.AddUint32(&t.seq, 1) + 1
			notify(&t.seq, &t.echoSleep)
			for s := atomic.LoadUint32(&t.seq); s != want; s = atomic.LoadUint32(&t.seq) {
				if err := await(ctx, &t.seq, s, &t.sendSleep, nil); err != nil {
					return err
				}
			}
			t.mu.Lock()
			copy(msg, t.reply)
			t.mu.Unlock()
			return nil
		}), tick)
		res <- result{vals, err}
	})
	r := <-res
	atomic.StoreUint32(&t.stop, 1)
	notify(&t.seq, &t.echoSleep)
	return r.vals, firstError(<-sender, <-echo, r.err)
}

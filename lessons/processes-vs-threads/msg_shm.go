package processesvsthreads

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
)

// Shared memory between processes: this process and a worker map the same
// memory file (memfd). Once it is mapped, passing a message needs no
// system call: the sender copies it into the shared region and moves a
// counter forward; the receiver, watching that counter, copies it out.
// Only a side that has nothing to do for a while sleeps in the kernel (see
// futex.go).
//
// Layout of the region: 32-bit control words, each on its own cache line
// so the two sides do not fight over one line, then a ring of message
// slots. The *Sleep words say that a side sleeps on the word before them.
const (
	offHead      = 0    // messages the sender has written (sender writes)
	offHeadSleep = 64   // the receiver sleeps on head
	offTail      = 128  // messages the receiver has read (receiver writes)
	offTailSleep = 192  // the sender sleeps on tail
	offDone      = 256  // 1: the sender has finished
	offReady     = 320  // 1: the worker is up and watching
	offReadySlp  = 384  // the parent sleeps on ready
	offPing      = 448  // round trip number the parent sent
	offPingSleep = 512  // the worker sleeps on ping
	offPong      = 576  // round trip number the worker answered
	offPongSleep = 640  // the parent sleeps on pong
	offFinished  = 704  // 1: offCount is final
	offFinSleep  = 768  // the parent sleeps on finished
	offCount     = 832  // messages the worker received (64 bits)
	slotsOff     = 4096 // the ring
	nSlots       = 256
)

// stopPing tells an echo worker to exit.
const stopPing = math.MaxUint32

func shmSize(size int) int { return slotsOff + nSlots*size }

func word(b []byte, off int) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }

// workerProc is a running worker process of message-passing. A
// goroutine waits for it from the start, so a side waiting on shared
// memory for an answer that will never come (the worker failed) notices
// its exit through exited instead of waiting until the run's time limit.
type workerProc struct {
	cmd    *exec.Cmd
	exited uint32        // 1 once the worker has exited; a stop flag for await
	done   chan struct{} // closed once it has exited
	err    error         // how it exited; read after done
}

// startWorker starts cmd and begins waiting for it.
func startWorker(cmd *exec.Cmd) (*workerProc, error) {
	if err := lab.Start(cmd); err != nil {
		return nil, err
	}
	w := &workerProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		w.err = cmd.Wait()
		atomic.StoreUint32(&w.exited, 1)
		close(w.done)
	}()
	return w, nil
}

// wait waits for the worker to exit and says how it did.
func (w *workerProc) wait() error {
	<-w.done
	return w.err
}

// gone reports whether the worker has exited; the error says how, for a
// side that was still waiting for it.
func (w *workerProc) gone() error {
	if atomic.LoadUint32(&w.exited) == 0 {
		return nil
	}
	if err := w.wait(); err != nil {
		return fmt.Errorf("the worker process ended early: %w", err)
	}
	return fmt.Errorf("the worker process ended early")
}

// startShm maps a fresh shared region and starts a worker in role on it,
// waiting until it is ready.
func startShm(ctx context.Context, role string, size int, pl placement) ([]byte, *workerProc, func(), error) {
	f, mem, err := sharedMemory("conclab-message-passing", shmSize(size))
	if err != nil {
		return nil, nil, nil, err
	}
	cleanup := func() {
		unix.Munmap(mem)
		f.Close()
	}
	cmd, err := lab.Worker(ctx, "message-passing", "peer", peerArgs("shm", role, size, pl)...)
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	cmd.ExtraFiles = []*os.File{f}
	w, err := startWorker(cmd)
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	err = await(ctx, word(mem, offReady), 0, word(mem, offReadySlp), &w.exited)
	if err == nil && atomic.LoadUint32(word(mem, offReady)) == 0 {
		err = w.gone()
	}
	if err != nil {
		cmd.Process.Kill()
		w.wait()
		cleanup()
		return nil, nil, nil, err
	}
	return mem, w, cleanup, nil
}

// shmThroughput writes messages into the ring until dur has passed, while
// the worker reads them, and then waits for the worker's count.
func shmThroughput(ctx context.Context, size int, dur time.Duration, pl placement) (n int64, elapsed time.Duration, err error) {
	pinErr := <-onThread(pl.a, func() { n, elapsed, err = shmSend(ctx, size, dur, pl) })
	return n, elapsed, firstError(pinErr, err)
}

func shmSend(ctx context.Context, size int, dur time.Duration, pl placement) (int64, time.Duration, error) {
	mem, w, cleanup, err := startShm(ctx, "sink", size, pl)
	if err != nil {
		return 0, 0, err
	}
	defer cleanup()
	defer w.wait()
	return ringSend(ctx, mem, size, dur, &w.exited, w.gone)
}

// ringSend writes messages into the ring in mem until dur has passed,
// while a reader (ringSink) takes them out, and then waits for the
// reader's count. exited is set once the reader has gone; gone says why.
func ringSend(ctx context.Context, mem []byte, size int, dur time.Duration, exited *uint32, gone func() error) (int64, time.Duration, error) {
	done := word(mem, offDone)
	defer func() { // the reader stops even after an error
		atomic.StoreUint32(done, 1)
		notify(word(mem, offHead), word(mem, offHeadSleep))
	}()
	msg := make([]byte, size)
	head, tail := word(mem, offHead), word(mem, offTail)
	t0 := time.Now()
	deadline := t0.Add(dur)
	// snippet:message-passing
	for i := uint32(0); ; i++ {
		if i%64 == 0 && time.Now().After(deadline) {
			break
		}
		for t := atomic.LoadUint32(tail); i-t >= nSlots; t = atomic.LoadUint32(tail) { // full: wait for the reader
			if err := await(ctx, tail, t, word(mem, offTailSleep), exited); err != nil {
				return 0, 0, err
			}
			if err := gone(); err != nil {
				return 0, 0, err
			}
		}
		copy(mem[slotsOff+int(i%nSlots)*size:], msg) // straight into memory the other process maps
		atomic.StoreUint32(head, i+1)                // publish it: no system call
		notify(head, word(mem, offHeadSleep))        // a futex wake, only if the reader sleeps
	}
	// end snippet
	atomic.StoreUint32(done, 1)
	notify(head, word(mem, offHeadSleep))
	if err := await(ctx, word(mem, offFinished), 0, word(mem, offFinSleep), exited); err != nil {
		return 0, 0, err
	}
	if atomic.LoadUint32(word(mem, offFinished)) == 0 {
		return 0, 0, gone()
	}
	n := atomic.LoadUint64((*uint64)(unsafe.Pointer(&mem[offCount])))
	return int64(n), time.Since(t0), nil
}

// shmLatency puts one message in the shared region, raises the ping
// counter and waits for the worker to copy it back and raise pong.
func shmLatency(ctx context.Context, size, per int, dur time.Duration, tick pingpong.Tick, pl placement) (vals []float64, err error) {
	pinErr := <-onThread(pl.a, func() { vals, err = shmPingPong(ctx, size, per, dur, tick, pl) })
	return vals, firstError(pinErr, err)
}

func shmPingPong(ctx context.Context, size, per int, dur time.Duration, tick pingpong.Tick, pl placement) ([]float64, error) {
	mem, w, cleanup, err := startShm(ctx, "echo", size, pl)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	defer w.wait()
	return ringPingPong(ctx, mem, size, per, dur, tick, &w.exited, w.gone)
}

// ringPingPong puts one message in the region in mem, raises the ping
// counter and waits for an echo (ringEcho) to copy it back and raise
// pong, in timed batches of per round trips until dur has passed; then it
// tells the echo to stop. exited is set once the echo has gone; gone says
// why.
func ringPingPong(ctx context.Context, mem []byte, size, per int, dur time.Duration, tick pingpong.Tick, exited *uint32, gone func() error) ([]float64, error) {
	ping, pong := word(mem, offPing), word(mem, offPong)
	defer func() {
		atomic.StoreUint32(ping, stopPing)
		notify(ping, word(mem, offPingSleep))
	}()
	msg := make([]byte, size)
	in, back := mem[slotsOff:slotsOff+size], mem[slotsOff+size:slotsOff+2*size]
	var seq uint32
	return pingpong.TimeFor(ctx, dur, per, eachRound(func() error {
		seq++
		copy(in, msg)
		atomic.StoreUint32(ping, seq)
		notify(ping, word(mem, offPingSleep))
		for p := atomic.LoadUint32(pong); p != seq; p = atomic.LoadUint32(pong) {
			if err := await(ctx, pong, p, word(mem, offPongSleep), exited); err != nil {
				return err
			}
			if err := gone(); err != nil {
				return err
			}
		}
		copy(msg, back)
		return nil
	}), tick)
}

// shmPeer is the worker side of shared memory: the region is fd 3.
func shmPeer(role string, size int) int {
	mem, err := unix.Mmap(3, 0, shmSize(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mmap:", err)
		return 1
	}
	defer unix.Munmap(mem)
	atomic.StoreUint32(word(mem, offReady), 1)
	notify(word(mem, offReady), word(mem, offReadySlp))
	switch role {
	case "sink":
		ringSink(mem, size)
		return 0
	case "echo":
		ringEcho(mem, size)
		return 0
	}
	return 2
}

// ringSink reads the ring in mem until the sender has finished and every
// message is read, then leaves the count for it.
func ringSink(mem []byte, size int) {
	buf := make([]byte, size)
	head, tail, done := word(mem, offHead), word(mem, offTail), word(mem, offDone)
	var got uint32
	var total uint64
	for {
		h := atomic.LoadUint32(head)
		if got == h {
			if atomic.LoadUint32(done) == 1 && atomic.LoadUint32(head) == got {
				break
			}
			await(context.Background(), head, h, word(mem, offHeadSleep), done)
			continue
		}
		for ; got != h; got++ { // read all that is there, then free the slots
			copy(buf, mem[slotsOff+int(got%nSlots)*size:])
			total++
		}
		atomic.StoreUint32(tail, got)
		notify(tail, word(mem, offTailSleep))
	}
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&mem[offCount])), total)
	atomic.StoreUint32(word(mem, offFinished), 1)
	notify(word(mem, offFinished), word(mem, offFinSleep))
}

// ringEcho copies each message ringPingPong puts in mem back to it, until
// it is told to stop.
func ringEcho(mem []byte, size int) {
	buf := make([]byte, size)
	in, back := mem[slotsOff:slotsOff+size], mem[slotsOff+size:slotsOff+2*size]
	ping, pong := word(mem, offPing), word(mem, offPong)
	var last uint32
	for {
		p := atomic.LoadUint32(ping)
		if p == stopPing {
			return
		}
		if p == last {
			await(context.Background(), ping, p, word(mem, offPingSleep), nil)
			continue
		}
		copy(buf, in)
		copy(back, buf)
		atomic.StoreUint32(pong, p)
		notify(pong, word(mem, offPongSleep))
		last = p
	}
}

// The same ring between two threads of this process: the same layout of
// memory and the same code on both sides as between two processes, only
// without a second process. Comparing the two isolates what being two
// processes costs once the memory is shared.

// threadRing is a region only this process maps, with its reading or
// answering side on a thread of its own; exited is set once that side has
// returned.
type threadRing struct {
	mem    []byte
	exited uint32
	ended  <-chan error
}

// startThreadRing maps the region and starts reader on a thread pinned
// to cpu.
func startThreadRing(size int, cpu int, reader func(mem []byte, size int)) (*threadRing, error) {
	mem, err := unix.Mmap(-1, 0, shmSize(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	r := &threadRing{mem: mem}
	r.ended = onThread(cpu, func() {
		reader(mem, size)
		atomic.StoreUint32(&r.exited, 1)
	})
	return r, nil
}

// gone is an error once the thread on the other side has returned.
func (r *threadRing) gone() error {
	if atomic.LoadUint32(&r.exited) != 0 {
		return fmt.Errorf("the thread on the other side ended early")
	}
	return nil
}

// stop waits for the other side's thread (the caller has told it to stop) and
// unmaps the region; the error is why its thread could not be pinned.
func (r *threadRing) stop() error {
	err := <-r.ended
	unix.Munmap(r.mem)
	return err
}

// ringThroughput is shmThroughput between two threads.
func ringThroughput(ctx context.Context, size int, dur time.Duration, pl placement) (n int64, elapsed time.Duration, err error) {
	r, err := startThreadRing(size, pl.b, ringSink)
	if err != nil {
		return 0, 0, err
	}
	pinErr := <-onThread(pl.a, func() { n, elapsed, err = ringSend(ctx, r.mem, size, dur, &r.exited, r.gone) })
	return n, elapsed, firstError(pinErr, r.stop(), err)
}

// ringLatency is shmLatency between two threads.
func ringLatency(ctx context.Context, size, per int, dur time.Duration, tick pingpong.Tick, pl placement) (vals []float64, err error) {
	r, err := startThreadRing(size, pl.b, ringEcho)
	if err != nil {
		return nil, err
	}
	pinErr := <-onThread(pl.a, func() { vals, err = ringPingPong(ctx, r.mem, size, per, dur, tick, &r.exited, r.gone) })
	return vals, firstError(pinErr, r.stop(), err)
}

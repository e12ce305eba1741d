package processesvsthreads

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
)

// Shared memory between processes: this process and a worker map the same
// memory file (memfd). Once it is mapped, neither side calls the kernel to
// pass a message: the sender copies it into the shared region and moves a
// counter forward; the receiver, watching that counter, copies it out.
//
// Layout of the region: control words, each on its own cache line so the
// two sides do not fight over one line, then a ring of message slots.
const (
	offHead     = 0   // messages the sender has written (sender writes)
	offTail     = 64  // messages the receiver has read (receiver writes)
	offDone     = 128 // 1: the sender has finished
	offReady    = 192 // 1: the worker is up and watching
	offPing     = 256 // round trip number the parent sent
	offPong     = 320 // round trip number the worker answered
	offCount    = 384 // messages the worker received
	offFinished = 448 // 1: offCount is final
	slotsOff    = 4096
	nSlots      = 256
)

// stopPing tells an echo worker to exit.
const stopPing = math.MaxUint64

func shmSize(size int) int { return slotsOff + nSlots*size }

func word(b []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&b[off])) }

// workerProc is a running worker process of message-passing.
type workerProc struct{ cmd *exec.Cmd }

func (w *workerProc) wait() error { return w.cmd.Wait() }

// spinner waits for the other side without sleeping: it checks again at
// once, and every few thousand misses (some microseconds) gives its CPU
// away (sched_yield) in case the other side is waiting for it.
type spinner struct{ n int }

func (s *spinner) miss(ctx context.Context) error {
	s.n++
	if s.n%4096 == 0 {
		unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
	if s.n%(1<<16) == 0 && ctx != nil {
		return ctx.Err()
	}
	return nil
}

// startShm maps a fresh shared region and starts a worker in role on it,
// waiting until it is ready.
func startShm(ctx context.Context, role string, size int) ([]byte, *workerProc, func(), error) {
	f, mem, err := sharedMemory("conclab-message-passing", shmSize(size))
	if err != nil {
		return nil, nil, nil, err
	}
	cleanup := func() {
		unix.Munmap(mem)
		f.Close()
	}
	cmd, err := lab.Worker(ctx, "message-passing", "peer", "shm", role, strconv.Itoa(size))
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	w := &workerProc{cmd}
	var sp spinner
	for atomic.LoadUint64(word(mem, offReady)) == 0 {
		if err := sp.miss(ctx); err != nil {
			cmd.Process.Kill()
			w.wait()
			cleanup()
			return nil, nil, nil, err
		}
	}
	return mem, w, cleanup, nil
}

// shmThroughput writes messages into the ring until dur has passed, while
// the worker reads them, and then waits for the worker's count.
func shmThroughput(ctx context.Context, size int, dur time.Duration) (int64, time.Duration, error) {
	mem, w, cleanup, err := startShm(ctx, "sink", size)
	if err != nil {
		return 0, 0, err
	}
	defer cleanup()
	defer w.wait()
	defer atomic.StoreUint64(word(mem, offDone), 1) // the worker exits even after an error
	msg := make([]byte, size)
	head, tail := word(mem, offHead), word(mem, offTail)
	var sp spinner
	t0 := time.Now()
	deadline := t0.Add(dur)
	for i := uint64(0); ; i++ {
		if i%64 == 0 && time.Now().After(deadline) {
			break
		}
		for i-atomic.LoadUint64(tail) >= nSlots { // full: wait for the reader
			if err := sp.miss(ctx); err != nil {
				return 0, 0, err
			}
		}
		copy(mem[slotsOff+int(i%nSlots)*size:], msg)
		atomic.StoreUint64(head, i+1)
	}
	atomic.StoreUint64(word(mem, offDone), 1)
	for atomic.LoadUint64(word(mem, offFinished)) == 0 {
		if err := sp.miss(ctx); err != nil {
			return 0, 0, err
		}
	}
	return int64(atomic.LoadUint64(word(mem, offCount))), time.Since(t0), nil
}

// shmLatency puts one message in the shared region, raises the ping
// counter and waits for the worker to copy it back and raise pong.
func shmLatency(ctx context.Context, size, per int, dur time.Duration, tick func([]float64)) ([]float64, error) {
	mem, w, cleanup, err := startShm(ctx, "echo", size)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	defer w.wait()
	defer atomic.StoreUint64(word(mem, offPing), stopPing)
	msg := make([]byte, size)
	in, back := mem[slotsOff:slotsOff+size], mem[slotsOff+size:slotsOff+2*size]
	ping, pong := word(mem, offPing), word(mem, offPong)
	var seq uint64
	var sp spinner
	return timeRoundTrips(ctx, per, dur, tick, func() error {
		seq++
		copy(in, msg)
		atomic.StoreUint64(ping, seq)
		for atomic.LoadUint64(pong) != seq {
			if err := sp.miss(ctx); err != nil {
				return err
			}
		}
		copy(msg, back)
		return nil
	})
}

// shmPeer is the worker side of shared memory: the region is fd 3.
func shmPeer(role string, size int) int {
	mem, err := unix.Mmap(3, 0, shmSize(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mmap:", err)
		return 1
	}
	defer unix.Munmap(mem)
	buf := make([]byte, size)
	var sp spinner
	atomic.StoreUint64(word(mem, offReady), 1)
	switch role {
	case "sink":
		head, tail, done := word(mem, offHead), word(mem, offTail), word(mem, offDone)
		var got uint64
		for {
			h := atomic.LoadUint64(head)
			if got == h {
				if atomic.LoadUint64(done) == 1 && atomic.LoadUint64(head) == got {
					break
				}
				sp.miss(nil)
				continue
			}
			for ; got < h; got++ { // read all that is there, then free the slots
				copy(buf, mem[slotsOff+int(got%nSlots)*size:])
			}
			atomic.StoreUint64(tail, got)
		}
		atomic.StoreUint64(word(mem, offCount), got)
		atomic.StoreUint64(word(mem, offFinished), 1)
		return 0
	case "echo":
		in, back := mem[slotsOff:slotsOff+size], mem[slotsOff+size:slotsOff+2*size]
		ping, pong := word(mem, offPing), word(mem, offPong)
		var last uint64
		for {
			p := atomic.LoadUint64(ping)
			if p == stopPing {
				return 0
			}
			if p == last {
				sp.miss(nil)
				continue
			}
			copy(buf, in)
			copy(back, buf)
			atomic.StoreUint64(pong, p)
			last = p
		}
	}
	return 2
}

// timeRoundTrips runs round trips in timed batches of per until dur has
// passed, and returns µs per round trip for each batch. tick gets the
// values so far about ten times a second, between batches.
func timeRoundTrips(ctx context.Context, per int, dur time.Duration, tick func([]float64), roundTrip func() error) ([]float64, error) {
	var out []float64
	start, last := time.Now(), time.Now()
	for time.Since(start) < dur || len(out) < 3 {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		t0 := time.Now()
		for range per {
			if err := roundTrip(); err != nil {
				return out, err
			}
		}
		out = append(out, float64(time.Since(t0).Nanoseconds())/1e3/float64(per))
		if time.Since(last) >= 100*time.Millisecond {
			tick(out)
			last = time.Now()
		}
	}
	tick(out)
	return out, nil
}

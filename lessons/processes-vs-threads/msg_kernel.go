package processesvsthreads

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

// Messages through the kernel: this process and a worker process joined
// by two pipes, or by one unix socket. Every message is one write system
// call; the kernel copies it into its buffer and out again on the other
// side, and wakes the reader if it sleeps. The fds are used raw and
// blocking, so the measurement is the system calls themselves, not Go's
// network poller.

// kernelLink is the parent's end of a connection to a worker: it writes
// to w and reads from r. For a socket both are the same fd.
type kernelLink struct {
	r, w   int
	socket bool
	child  []*os.File // the worker's ends: fd 3 (it reads) and fd 4 (it writes)
}

func newKernelLink(socket bool) (*kernelLink, error) {
	if socket {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("socketpair: %w", err)
		}
		f := os.NewFile(uintptr(fds[1]), "socket")
		return &kernelLink{r: fds[0], w: fds[0], socket: true, child: []*os.File{f, f}}, nil
	}
	var down, up [2]int
	if err := unix.Pipe2(down[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	if err := unix.Pipe2(up[:], unix.O_CLOEXEC); err != nil {
		unix.Close(down[0])
		unix.Close(down[1])
		return nil, fmt.Errorf("pipe: %w", err)
	}
	return &kernelLink{r: up[0], w: down[1], child: []*os.File{os.NewFile(uintptr(down[0]), "pipe-down"), os.NewFile(uintptr(up[1]), "pipe-up")}}, nil
}

// start runs the worker in role ("sink" or "echo") on the other end and
// waits for its ready byte.
func (k *kernelLink) start(ctx context.Context, role string, size int, pl placement) (*workerProc, error) {
	mode := "pipe"
	if k.socket {
		mode = "socket"
	}
	cmd, err := lab.Worker(ctx, "message-passing", "peer", peerArgs(mode, role, size, pl)...)
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = k.child
	w, err := startWorker(cmd)
	if err != nil {
		return nil, err
	}
	k.child[0].Close() // the worker has its own copies now
	k.child[1].Close()
	var b [1]byte
	if err := readFull(k.r, b[:]); err != nil {
		cmd.Process.Kill()
		w.wait()
		return nil, fmt.Errorf("worker did not start: %w", err)
	}
	return w, nil
}

// endWrite tells the worker no more messages come. Calling it again does
// nothing.
func (k *kernelLink) endWrite() {
	switch {
	case k.w < 0:
	case k.socket:
		unix.Shutdown(k.w, unix.SHUT_WR)
	default:
		unix.Close(k.w)
		k.w = -1
	}
}

func (k *kernelLink) close() {
	if k.w >= 0 && k.w != k.r {
		unix.Close(k.w)
	}
	unix.Close(k.r)
}

// kernelThroughput sends messages of size bytes to a sink worker until
// dur has passed, then waits for the worker's count of what arrived.
func kernelThroughput(ctx context.Context, socket bool, size int, dur time.Duration, pl placement) (n int64, elapsed time.Duration, err error) {
	pinErr := <-onThread(pl.a, func() { n, elapsed, err = kernelSend(ctx, socket, size, dur, pl) })
	return n, elapsed, firstError(pinErr, err)
}

func kernelSend(ctx context.Context, socket bool, size int, dur time.Duration, pl placement) (int64, time.Duration, error) {
	k, err := newKernelLink(socket)
	if err != nil {
		return 0, 0, err
	}
	defer k.close()
	w, err := k.start(ctx, "sink", size, pl)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		k.endWrite() // the worker reads the end and exits, even after an error
		w.wait()
	}()
	msg := make([]byte, size)
	t0 := time.Now()
	deadline := t0.Add(dur)
	// snippet:msg-pipe
	for i := 0; ; i++ {
		if i%64 == 0 && (time.Now().After(deadline) || ctx.Err() != nil) {
			break
		}
		if err := writeFull(k.w, msg); err != nil { // one write(2): copied into the kernel
			return 0, 0, err
		}
	}
	// end snippet
	k.endWrite()
	var count [8]byte
	if err := readFull(k.r, count[:]); err != nil {
		return 0, 0, fmt.Errorf("the worker did not report what it received: %w", err)
	}
	elapsed := time.Since(t0)
	return int64(binary.LittleEndian.Uint64(count[:])) / int64(size), elapsed, ctx.Err()
}

// kernelLatency sends one message to an echo worker and waits for it to
// come back, in timed batches of per round trips, until dur has passed.
func kernelLatency(ctx context.Context, socket bool, size, per int, dur time.Duration, tick pingpong.Tick, pl placement) (vals []float64, err error) {
	pinErr := <-onThread(pl.a, func() { vals, err = kernelPingPong(ctx, socket, size, per, dur, tick, pl) })
	return vals, firstError(pinErr, err)
}

func kernelPingPong(ctx context.Context, socket bool, size, per int, dur time.Duration, tick pingpong.Tick, pl placement) ([]float64, error) {
	k, err := newKernelLink(socket)
	if err != nil {
		return nil, err
	}
	defer k.close()
	w, err := k.start(ctx, "echo", size, pl)
	if err != nil {
		return nil, err
	}
	defer func() {
		k.endWrite()
		w.wait()
	}()
	msg := make([]byte, size)
	return pingpong.TimeFor(ctx, dur, per, eachRound(func() error {
		if err := writeFull(k.w, msg); err != nil {
			return err
		}
		return readFull(k.r, msg)
	}), tick)
}

// peerArgs are the arguments of a peer worker.
func peerArgs(mode, role string, size int, pl placement) []string {
	return []string{mode, role, strconv.Itoa(size), strconv.Itoa(pl.b), strconv.FormatInt(int64(spinFor), 10)}
}

// peerWorker is the worker process of message-passing: args are mode
// (pipe, socket or shm), role (sink or echo), the message size, the CPU to
// pin itself to (-1: none) and how long to spin before sleeping, in ns.
func peerWorker(args []string) int {
	if len(args) != 5 {
		return 2
	}
	size, err1 := strconv.Atoi(args[2])
	cpu, err2 := strconv.Atoi(args[3])
	spin, err3 := strconv.ParseInt(args[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || size < 1 {
		return 2
	}
	spinFor = time.Duration(spin)
	runtime.LockOSThread() // the loop below runs on this thread, pinned
	if cpu >= 0 {
		if err := probe.PinThread(cpu); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if args[0] == "shm" {
		return shmPeer(args[1], size)
	}
	// fd 3 is where messages come from, fd 4 where answers go.
	if err := writeFull(4, []byte{'R'}); err != nil {
		return 1
	}
	switch args[1] {
	case "sink":
		buf := make([]byte, 64<<10)
		var total uint64
		for {
			n, err := unix.Read(3, buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return 1
			}
			if n == 0 {
				break
			}
			total += uint64(n)
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], total)
		if writeFull(4, b[:]) != nil {
			return 1
		}
		return 0
	case "echo":
		msg := make([]byte, size)
		for {
			if err := readFull(3, msg); err != nil {
				return 0 // the parent closed its end: done
			}
			if err := writeFull(4, msg); err != nil {
				return 1
			}
		}
	}
	return 2
}

// readFull reads exactly len(b) bytes from a blocking fd.
func readFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("the other side closed the connection")
		}
		b = b[n:]
	}
	return nil
}

// writeFull writes all of b to a blocking fd.
func writeFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

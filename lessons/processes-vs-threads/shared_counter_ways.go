package processesvsthreads

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"conclab/internal/lab"
)

// counterRound is one way of keeping the counter, once.
type counterRound struct {
	counted int64         // what the counter said at the end
	wall    time.Duration // from the start signal until the last update was in
}

// snippet:shared-counter

// bump adds 1 to *p the way unguarded code does: load, add, store. It is
// not inlined, so that every call really goes to memory; a loop that the
// compiler could see through might keep the counter in a register and
// store it once, which loses updates too, but not the way a program that
// does other work between updates does.
//
//go:noinline
func bump(p *int64) { *p++ }

// increments are the ways threads add 1 to the shared counter.
var increments = map[string]func(p *int64, mu *sync.Mutex){
	"no_lock": func(p *int64, _ *sync.Mutex) { bump(p) },
	"mutex": func(p *int64, mu *sync.Mutex) {
		mu.Lock()
		bump(p)
		mu.Unlock()
	},
	"atomic": func(p *int64, _ *sync.Mutex) { atomic.AddInt64(p, 1) },
}

// end snippet

// threadRound runs k OS threads (goroutines locked to threads of their
// own, with a P each, so that the kernel runs them in parallel where it
// can), each adding 1 to one counter n times with inc, all starting at
// one signal.
func threadRound(ctx context.Context, k, n int, inc func(*int64, *sync.Mutex)) (counterRound, error) {
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, k))
	defer runtime.GOMAXPROCS(prev)
	counter := new(int64)
	var mu sync.Mutex
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(k)
	done.Add(k)
	for range k {
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ready.Done()
			<-start
			for range n {
				inc(counter, &mu)
			}
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	r := counterRound{counted: atomic.LoadInt64(counter), wall: time.Since(t0)}
	return r, ctx.Err()
}

// pipeRound has k worker processes send n updates each, one byte per
// update, through one pipe to this process, which owns the counter: only
// it ever touches it, so nothing needs a lock. A write of up to PIPE_BUF
// bytes (4 KiB on Linux) reaches the reader whole, so the workers' bytes
// do not tear; the reader adds up what it reads. The clock starts when
// every worker is ready and is told to go, so starting processes is not
// counted.
func pipeRound(ctx context.Context, k, n int) (counterRound, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return counterRound{}, err
	}
	defer r.Close()
	var cmds []*exec.Cmd
	var gos []io.WriteCloser
	var readys []*bufio.Reader
	cleanup := func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}
	for range k {
		cmd, err := lab.Worker(ctx, "shared-counter", "send", strconv.Itoa(n))
		if err != nil {
			w.Close()
			cleanup()
			return counterRound{}, err
		}
		cmd.ExtraFiles = []*os.File{w}
		in, err1 := cmd.StdinPipe()
		outp, err2 := cmd.StdoutPipe()
		if err := errors.Join(err1, err2); err != nil {
			w.Close()
			cleanup()
			return counterRound{}, err
		}
		if err := lab.Start(cmd); err != nil {
			w.Close()
			cleanup()
			return counterRound{}, fmt.Errorf("starting a sender: %w", err)
		}
		cmds, gos, readys = append(cmds, cmd), append(gos, in), append(readys, bufio.NewReader(outp))
	}
	w.Close() // the owner only reads: the pipe ends when the last sender exits
	for _, rd := range readys {
		if _, err := rd.ReadString('\n'); err != nil {
			cleanup()
			return counterRound{}, fmt.Errorf("a sender did not say it was ready: %w", err)
		}
	}
	t0 := time.Now()
	for _, g := range gos {
		g.Write([]byte{'\n'})
		g.Close()
	}
	var counted int64
	buf := make([]byte, 64<<10)
	for {
		nr, err := r.Read(buf)
		counted += int64(nr) // every byte is one update
		if err != nil {
			break
		}
	}
	res := counterRound{counted: counted, wall: time.Since(t0)}
	var failed error
	for _, c := range cmds {
		if err := c.Wait(); err != nil && failed == nil {
			failed = fmt.Errorf("a sender failed: %w", err)
		}
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, failed
}

// sendWorker is a sender process: it says it is ready, waits for the word
// to go, then writes its updates, one byte each, to the pipe it was given
// (file descriptor 3), in writes of 4 KiB.
func sendWorker(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "send: want the number of updates")
		return 2
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		fmt.Fprintln(os.Stderr, "send: bad number of updates:", args[0])
		return 2
	}
	pipe := os.NewFile(3, "pipe")
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return 1
	}
	chunk := make([]byte, 4096) // PIPE_BUF: each write arrives whole
	for n > 0 {
		c := min(n, len(chunk))
		if _, err := pipe.Write(chunk[:c]); err != nil {
			fmt.Fprintln(os.Stderr, "send:", err)
			return 1
		}
		n -= c
	}
	return 0
}

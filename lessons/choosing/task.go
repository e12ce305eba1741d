package choosing

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// One task of the workload is what a request handler does: ask a server
// for some data (real I/O: a TCP round trip to a server that answers after
// the set delay), then compute on what came back (real computation:
// chained SHA-256, as many rounds as fill the set CPU time). Every
// strategy runs exactly the same tasks, so every strategy must end with
// the same checksum.

// digest is one task's result.
type digest [sha256.Size]byte

// xor folds a task's result into a run's checksum; the order tasks finish
// in does not change it.
func (d *digest) xor(o digest) {
	for i := range d {
		d[i] ^= o[i]
	}
}

func (d digest) short() string { return fmt.Sprintf("%x", d[:6]) }

// workload is what every strategy runs: n tasks, each waiting delay for
// the server at addr and then hashing iters rounds.
type workload struct {
	n     int
	addr  string
	delay time.Duration
	iters int
}

// compute hashes the seed iters times. The chain cannot be skipped or
// run in parallel: each round needs the one before.
func compute(seed digest, iters int) digest {
	h := seed
	for range iters {
		h = sha256.Sum256(h[:])
	}
	return h
}

// fetch asks the server for task id's seed and waits for the answer, which
// comes after delay. ctx ending interrupts the wait.
func fetch(ctx context.Context, addr string, id int, delay time.Duration) (digest, error) {
	var seed digest
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return seed, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	c.SetDeadline(time.Now().Add(delay + 30*time.Second))
	if _, err := fmt.Fprintf(c, "%d %d\n", id, delay.Microseconds()); err != nil {
		return seed, err
	}
	if _, err := io.ReadFull(c, seed[:]); err != nil {
		if ctx.Err() != nil {
			return seed, ctx.Err()
		}
		return seed, fmt.Errorf("task %d: reading the server's answer: %w", id, err)
	}
	return seed, nil
}

// runTask is one whole task: fetch, then compute.
func (w workload) runTask(ctx context.Context, id int) (digest, error) {
	seed, err := fetch(ctx, w.addr, id, w.delay)
	if err != nil {
		return seed, err
	}
	return compute(seed, w.iters), nil
}

// seedOf is what the server answers for task id.
func seedOf(id int) digest { return sha256.Sum256([]byte("workload-lab task " + strconv.Itoa(id))) }

// serverWorker is the I/O side of the workload, in a process of its own so
// that a strategy's computation, even pinned to one CPU, never delays its
// answers: it listens on 127.0.0.1:0, prints its address, and answers each
// request "<id> <delay µs>" with the task's 32-byte seed after the delay.
// It stops when its stdin closes.
func serverWorker(args []string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		go answer(c)
	}
}

func answer(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	var id int
	var us int64
	if _, err := fmt.Sscanf(line, "%d %d", &id, &us); err != nil || us < 0 {
		return
	}
	if us > 0 {
		t := time.NewTimer(time.Duration(us) * time.Microsecond)
		<-t.C
	}
	s := seedOf(id)
	c.Write(s[:])
}

// taskWorker is one process of the process pool: args are the server
// address, the delay in µs and the hashing rounds. It says "ready" on
// stdout, then runs each task id it reads on stdin and answers
// "<id> <hex digest>", until stdin closes. It runs with GOMAXPROCS=1:
// one process, one task at a time, like a classic pre-fork worker.
func taskWorker(args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "task worker: want addr, delay µs, rounds")
		return 2
	}
	us, err1 := strconv.ParseInt(args[1], 10, 64)
	iters, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "task worker: bad arguments", args)
		return 2
	}
	w := workload{addr: args[0], delay: time.Duration(us) * time.Microsecond, iters: iters}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		id, err := strconv.Atoi(strings.TrimSpace(in.Text()))
		if err != nil {
			fmt.Fprintln(os.Stderr, "task worker: bad task", in.Text())
			return 2
		}
		d, err := w.runTask(context.Background(), id)
		if err != nil {
			fmt.Fprintln(os.Stderr, "task worker:", err)
			return 1
		}
		fmt.Fprintf(out, "%d %x\n", id, d[:])
		out.Flush()
	}
	return 0
}

// sink holds the last calibration digest.
var sink digest

// threadCPU is the CPU time the calling thread has used. Hold
// runtime.LockOSThread between two readings.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// calibrate measures how many hashing rounds fit in one millisecond of
// this thread's CPU time (not wall time, so that other programs taking
// turns on the CPU do not make the rounds look slower). It takes the
// median of three trials of about budget each.
func calibrate(ctx context.Context, budget time.Duration) (float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const chunk = 500
	var rates []float64
	seed := seedOf(0)
	for range 3 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := threadCPU()
		rounds := 0
		for threadCPU()-start < budget {
			seed = compute(seed, chunk)
			rounds += chunk
		}
		used := threadCPU() - start
		rates = append(rates, float64(rounds)/(float64(used)/float64(time.Millisecond)))
	}
	sink = seed // keep the chain observable so it is not optimised away
	slices.Sort(rates)
	if rates[1] <= 0 {
		return 0, fmt.Errorf("calibration measured no CPU time")
	}
	return rates[1], nil
}

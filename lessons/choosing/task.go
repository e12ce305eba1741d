package choosing

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"conclab/internal/kit"
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

// snippet:workload-compute

// compute hashes the seed iters times. The chain cannot be skipped or
// run in parallel: each round needs the one before.
func compute(seed digest, iters int) digest {
	h := seed
	for range iters {
		h = sha256.Sum256(h[:])
	}
	return h
}

// end snippet

// fetch asks the server for task id's seed and waits for the answer, which
// comes after delay. ctx ending interrupts the wait.
func fetch(ctx context.Context, addr string, id int, delay time.Duration) (digest, error) {
	var seed digest
	c, err := kit.DialSlow(ctx, addr)
	if err != nil {
		return seed, err
	}
	defer c.Close()
	ans, err := c.Query(delay, strconv.AppendInt(nil, int64(id), 10))
	if err != nil {
		if ctx.Err() != nil {
			return seed, ctx.Err()
		}
		return seed, fmt.Errorf("task %d: %w", id, err)
	}
	if len(ans) != len(seed) {
		return seed, fmt.Errorf("task %d: the server answered %d bytes, not a %d-byte seed", id, len(ans), len(seed))
	}
	copy(seed[:], ans)
	return seed, nil
}

// snippet:workload-task

// runTask is one whole task: fetch, then compute.
func (w workload) runTask(ctx context.Context, id int) (digest, error) {
	seed, err := fetch(ctx, w.addr, id, w.delay)
	if err != nil {
		return seed, err
	}
	return compute(seed, w.iters), nil
}

// end snippet

// seedOf is what the server answers for task id.
func seedOf(id int) digest { return sha256.Sum256([]byte("workload-lab task " + strconv.Itoa(id))) }

// serverWorker is the I/O side of the workload: the kit's slow server, in
// a process of its own so that a strategy's computation, even pinned to one
// CPU, never delays its answers. It prints the server's address, answers
// each query (a task id) with that task's seed after the delay the query
// asks for, and stops when its stdin closes.
func serverWorker(args []string) int {
	srv, err := kit.StartSlowServer(answerSeed)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(srv.Addr())
	io.Copy(io.Discard, os.Stdin) // the lab closes it when every strategy is done
	now, cancel := context.WithCancel(context.Background())
	cancel()
	srv.Close(now) // nothing waits on the server any more: drop what is open at once
	return 0
}

// answerSeed is the server's answer to a query for a task id: that task's
// seed; nothing for a query that is not an id.
func answerSeed(query []byte) []byte {
	id, err := strconv.Atoi(string(query))
	if err != nil {
		return nil
	}
	s := seedOf(id)
	return s[:]
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

// maxCalibration bounds a calibration batch: a thread CPU clock that never
// advances must fail the run, not double the batch for ever.
const maxCalibration = 1 << 22

// calibrate measures how many hashing rounds fit in one millisecond of one
// thread's CPU time (not wall time, so that other programs taking turns on
// the CPU do not make the rounds look slower): the median of three
// calibrations, each doubling a batch until it takes at least budget.
func calibrate(ctx context.Context, budget time.Duration) (float64, error) {
	var rates []float64
	seed := seedOf(0)
	for range 3 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		r, err := kit.Calibrate(kit.Calibration{CPU: -1, Clock: kit.ThreadCPU, Start: 500, Min: budget, Max: maxCalibration},
			func(n int) { seed = compute(seed, n) })
		if err != nil {
			return 0, err
		}
		if r.Took < budget {
			return 0, fmt.Errorf("calibration measured no CPU time: %d rounds of hashing took %s of thread CPU time", r.N, r.Took)
		}
		rates = append(rates, r.PerMs)
	}
	runtime.KeepAlive(seed) // keep the chain observable so it is not optimised away
	slices.Sort(rates)
	return rates[1], nil
}

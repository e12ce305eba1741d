package choosing

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

// The five ways of running the same workload. Each reports every finished
// task on done, so the lab can draw progress while it runs.

// strategy is one way of running the workload.
type strategy struct {
	key   string // row key and metric word
	label string // bar label: ", " starts a new line under the bar
	name  string // in sentences
	// prepare changes the process for the strategy before the clock starts
	// and returns what undoes it; nil means nothing to change.
	prepare func(e *labEnv) (restore func() error, err error)
	run     func(ctx context.Context, e *labEnv, w workload, done *atomic.Int64) (runStats, error)
	units   func(e *labEnv, w workload) string
}

// labEnv is what the strategies share: the CPUs to use and the runtime's
// own GOMAXPROCS default.
type labEnv struct {
	cpus       []int // usable CPUs (affinity mask)
	workers    int   // pool size: the CPUs work can really run on
	gomaxprocs int   // the runtime's default
}

// runStats is what a strategy reports besides its wall time, which the lab
// measures around it.
type runStats struct {
	sum      digest        // XOR of every task's digest
	done     int           // tasks completed
	ioWall   time.Duration // sequential only: time spent waiting for the server
	cpuWall  time.Duration // sequential only: time spent hashing
	startup  time.Duration // pool only: longest time a worker took to say ready
	children probe.Usage   // pool only: the worker processes' CPU time
	childRSS int64         // pool only: sum of the workers' peak resident memory, bytes
}

// Strategy keys.
const (
	kSequential = "sequential"
	kOneCPU     = "one-cpu"
	kAllCPUs    = "all-cpus"
	kProcesses  = "processes"
	kMixed      = "mixed"
)

var strategies = []strategy{
	{key: kSequential, label: "sequential", name: "sequential",
		run:   runSequential,
		units: func(*labEnv, workload) string { return "1 goroutine, one task at a time" }},
	{key: kOneCPU, label: "goroutines, one CPU (async)", name: "async-style goroutines on one CPU",
		prepare: pinToOneCPU,
		run:     runGoroutines,
		units: func(_ *labEnv, w workload) string {
			return fmt.Sprintf("%d goroutines, GOMAXPROCS 1, pinned to one CPU", w.n)
		}},
	{key: kAllCPUs, label: "goroutines, all CPUs", name: "goroutines on all CPUs",
		run: runGoroutines,
		units: func(e *labEnv, w workload) string {
			return fmt.Sprintf("%d goroutines, GOMAXPROCS %d", w.n, e.gomaxprocs)
		}},
	{key: kProcesses, label: "process pool", name: "a pool of worker processes",
		run: runPool,
		units: func(e *labEnv, _ workload) string {
			return fmt.Sprintf("%d worker process%s, one task at a time each", e.workers, format.Pick(e.workers, "", "es"))
		}},
	{key: kMixed, label: "async I/O, CPU pool", name: "goroutines for I/O plus a CPU pool",
		run: runMixed,
		units: func(e *labEnv, w workload) string {
			return fmt.Sprintf("%d I/O goroutines + %d CPU worker%s", w.n, e.workers, format.Pick(e.workers, "", "s"))
		}},
}

// metric is the strategy's part of the metric keys: its key with '_' for
// '-', such as one_cpu.
func (s strategy) metric() string { return strings.ReplaceAll(s.key, "-", "_") }

func strategyByKey(key string) strategy {
	for _, s := range strategies {
		if s.key == key {
			return s
		}
	}
	panic("no strategy " + key)
}

// runSequential runs one task after the other: wait, compute, next.
func runSequential(ctx context.Context, _ *labEnv, w workload, done *atomic.Int64) (runStats, error) {
	var st runStats
	for id := range w.n {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		t0 := time.Now()
		seed, err := fetch(ctx, w.addr, id, w.delay)
		if err != nil {
			return st, err
		}
		t1 := time.Now()
		st.sum.xor(compute(seed, w.iters))
		st.ioWall += t1.Sub(t0)
		st.cpuWall += time.Since(t1)
		st.done++
		done.Add(1)
	}
	return st, nil
}

// pinToOneCPU makes the process an async runtime: one thread runs Go code
// (GOMAXPROCS 1) and every thread stays on one CPU. Waiting on sockets
// goes through the runtime's network poller (epoll), an event loop like
// the one under async/await.
// A restore that fails is an error: the strategies after it would run on
// one CPU while claiming all of them.
func pinToOneCPU(e *labEnv) (func() error, error) {
	if err := probe.PinProcess(e.cpus[0]); err != nil {
		return nil, fmt.Errorf("pin the process to CPU %d: %w", e.cpus[0], err)
	}
	prev := runtime.GOMAXPROCS(1)
	return func() error {
		runtime.GOMAXPROCS(prev)
		if err := probe.PinProcess(e.cpus...); err != nil {
			return fmt.Errorf("give the process back all its CPUs: %w", err)
		}
		return nil
	}, nil
}

// result is one finished task, or why it failed.
type result struct {
	d   digest
	err error
}

// collect gathers n results, cancelling the rest at the first error.
// Tasks count themselves done where they finish, not here, so that the
// progress drawn does not wait for this goroutine's turn on a busy CPU.
func collect(n int, results <-chan result, cancel context.CancelFunc) (runStats, error) {
	var st runStats
	var first error
	for range n {
		r := <-results
		if r.err != nil {
			if first == nil {
				first = r.err
				cancel()
			}
			continue
		}
		st.sum.xor(r.d)
		st.done++
	}
	return st, first
}

// runGoroutines starts one goroutine per task, all at once. How many run
// at the same instant is up to GOMAXPROCS, which the strategy's prepare
// set (or left at the runtime's default).
func runGoroutines(ctx context.Context, _ *labEnv, w workload, done *atomic.Int64) (runStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, w.n)
	for id := range w.n {
		go func() {
			d, err := w.runTask(ctx, id)
			if err == nil {
				done.Add(1)
			}
			results <- result{d, err}
		}()
	}
	return collect(w.n, results, cancel)
}

// runMixed waits for the server in one goroutine per task, as before, but
// hands every computation to a fixed pool of workers, one per CPU, so no
// more computations run at once than there are CPUs to run them.
func runMixed(ctx context.Context, e *labEnv, w workload, done *atomic.Int64) (runStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		seed digest
		out  chan digest
	}
	// snippet:workload-mixed
	jobs := make(chan job)
	var pool sync.WaitGroup
	for range e.workers {
		pool.Go(func() {
			for j := range jobs {
				j.out <- compute(j.seed, w.iters)
			}
		})
	}
	results := make(chan result, w.n)
	var fetchers sync.WaitGroup
	for id := range w.n {
		fetchers.Go(func() {
			seed, err := fetch(ctx, w.addr, id, w.delay)
			if err != nil {
				results <- result{err: err}
				return
			}
			j := job{seed, make(chan digest, 1)}
			select {
			case jobs <- j:
				d := <-j.out
				done.Add(1)
				results <- result{d: d}
			case <-ctx.Done():
				results <- result{err: ctx.Err()}
			}
		})
	}
	// end snippet
	st, err := collect(w.n, results, cancel)
	fetchers.Wait()
	close(jobs)
	pool.Wait()
	return st, err
}

// poolWorker is one process of the pool and the pipes to it.
type poolWorker struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	ready time.Duration
}

// runPool starts one worker process per CPU (this binary re-executed) and
// deals the tasks out over pipes: each worker gets the next task as soon as
// it reports the last one done. Starting the processes is part of the
// strategy and of its wall time.
func runPool(ctx context.Context, e *labEnv, w workload, done *atomic.Int64) (runStats, error) {
	var st runStats
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	procs := make([]*poolWorker, 0, e.workers)
	defer func() { // on any early return: no worker outlives the strategy
		for _, p := range procs {
			if p.cmd.ProcessState == nil {
				p.cmd.Process.Kill()
				p.cmd.Wait()
			}
		}
	}()
	for range e.workers {
		cmd, err := lab.Worker(ctx, ID, "task", w.addr, strconv.FormatInt(w.delay.Microseconds(), 10), strconv.Itoa(w.iters))
		if err != nil {
			return st, err
		}
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
		in, err := cmd.StdinPipe()
		if err != nil {
			return st, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return st, err
		}
		if err := lab.Start(cmd); err != nil {
			return st, fmt.Errorf("start worker process: %w", err)
		}
		procs = append(procs, &poolWorker{cmd: cmd, in: in, out: bufio.NewReader(out)})
	}
	for i, p := range procs {
		line, err := p.out.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			return st, fmt.Errorf("worker process %d did not start: %v", i+1, err)
		}
		p.ready = time.Since(start)
		st.startup = max(st.startup, p.ready)
	}

	tasks := make(chan int, w.n)
	for id := range w.n {
		tasks <- id
	}
	close(tasks)
	var mu sync.Mutex
	errs := make(chan error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			for id := range tasks {
				d, err := p.do(id)
				if err != nil {
					errs <- fmt.Errorf("worker process %d: %w", i+1, err)
					cancel()
					return
				}
				mu.Lock()
				st.sum.xor(d)
				st.done++
				mu.Unlock()
				done.Add(1)
			}
			p.in.Close() // the worker reads EOF and exits
			if err := p.cmd.Wait(); err != nil {
				errs <- fmt.Errorf("worker process %d: %w", i+1, err)
				return
			}
			ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
			if !ok || ru == nil {
				// Without it the pool's CPU time and memory would leave
				// its workers out.
				errs <- fmt.Errorf("worker process %d: no resource usage from the kernel", i+1)
				return
			}
			mu.Lock()
			st.children = addUsage(st.children, probe.FromRusage(ru))
			st.childRSS += ru.Maxrss * 1024 // kilobytes on Linux
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return st, err
	}
	return st, nil
}

// do sends one task to the worker and reads its answer.
func (p *poolWorker) do(id int) (digest, error) {
	var d digest
	if _, err := fmt.Fprintf(p.in, "%d\n", id); err != nil {
		return d, err
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return d, fmt.Errorf("no answer for task %d: %w", id, err)
	}
	gotID, hexsum, ok := strings.Cut(strings.TrimSpace(line), " ")
	b, herr := hex.DecodeString(hexsum)
	if !ok || gotID != strconv.Itoa(id) || herr != nil || len(b) != len(d) {
		return d, fmt.Errorf("garbled answer %q for task %d", line, id)
	}
	copy(d[:], b)
	return d, nil
}

func addUsage(a, b probe.Usage) probe.Usage {
	return probe.Usage{User: a.User + b.User, System: a.System + b.System,
		Voluntary: a.Voluntary + b.Voluntary, Involuntary: a.Involuntary + b.Involuntary}
}

package threadingmodels

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// Claims of blocking-call, as the lesson states them.
var (
	claimComputeThreads = lab.Claim{
		Claim:    "Goroutines that only compute do not need more kernel threads: however many there are, about GOMAXPROCS threads run them.",
		Expected: "at most about GOMAXPROCS threads added however many goroutines compute, and at most GOMAXPROCS running at once besides the runtime's monitor thread, reading after reading",
	}
	claimBlockThreads = lab.Claim{
		Claim:    "A goroutine blocked in a system call holds its kernel thread, so Go adds threads to keep GOMAXPROCS goroutines running.",
		Expected: "about one more thread per goroutine blocked in the kernel",
	}
)

func blockingCall() *lab.Experiment {
	return &lab.Experiment{
		ID:     "blocking-call",
		Lesson: Slug,
		Title:  "What a blocking call costs Go's scheduler",
		Summary: "First many goroutines compute; then many goroutines each call read() on a pipe that nobody writes to until the end. " +
			"The process's kernel threads are counted from /proc every 20 ms throughout, so you can watch how many threads each phase needs.",
		Params: []lab.Param{
			// "However many there are": many more goroutines than
			// GOMAXPROCS, on any machine.
			lab.Int("computing", "Computing goroutines", 64, 4, 1024, "Goroutines that spin in the first phase.").PerCPU(32, 64).WithQuick(16),
			lab.Int("blocked", "Blocked goroutines", 64, 4, 256, "Goroutines that sit in read() in the second phase.").WithQuick(16),
			lab.Int("phase", "Length of each phase", 1500, 200, 5000, "How long each phase lasts.").WithUnit("ms").WithQuick(300),
		},
		Claims:      []lab.Claim{claimComputeThreads, claimBlockThreads},
		Predictions: blockingPredictions,
		Charts: []lab.Chart{
			{ID: "threads", Kind: "line", Title: "Kernel threads while goroutines compute, then block", X: "ms since the run started", Y: "count",
				Note: "Every 20 ms: the threads listed in /proc/self/task, those of them in state R (running or ready to run, the counting one included), GOMAXPROCS, and the goroutines inside read() at that moment."},
		},
		Tables: []lab.Table{{ID: "phases", Title: "Threads in each phase", Columns: []lab.Column{
			{Key: "phase", Label: "Phase"}, {Key: "goroutines", Label: "Goroutines"}, {Key: "peak", Label: "Threads in the process (peak)"}, {Key: "running", Label: "Threads running at once (peak)"},
		}}},
		Limit: 60 * time.Second,
		Run:   runBlockingCall,
	}
}

// threadWatch samples the thread counts and sends them in batches.
type threadWatch struct {
	out            *lab.Emitter
	t0             time.Time
	gmp            int
	inRead         *atomic.Int64
	xs, th, ru, rd []float64
	n              int
}

// peaks are the highest counts seen in a phase, and how many readings
// they come from.
type peaks struct {
	total, running, samples int
	totals, runnings        []float64 // every sample, for the verdicts' spread
}

// sample reads the threads once. A failed reading is returned, never
// counted as zero threads.
func (w *threadWatch) sample(p *peaks) error {
	x := float64(time.Since(w.t0).Microseconds()) / 1e3
	tids, total, err := probe.ThreadStates()
	if err != nil {
		return fmt.Errorf("counting the process's threads: %w", err)
	}
	running := len(tids)
	p.total, p.running = max(p.total, total), max(p.running, running)
	p.samples++
	p.totals, p.runnings = append(p.totals, float64(total)), append(p.runnings, float64(running))
	w.xs = append(w.xs, x)
	w.th = append(w.th, float64(total))
	w.ru = append(w.ru, float64(running))
	w.rd = append(w.rd, float64(w.inRead.Load()))
	if w.n++; w.n%5 == 0 {
		w.flush()
	}
	return nil
}

func (w *threadWatch) flush() {
	if len(w.xs) == 0 {
		return
	}
	gm := make([]float64, len(w.xs))
	for i := range gm {
		gm[i] = float64(w.gmp)
	}
	w.out.Points("threads", "threads in the process", w.xs, w.th)
	w.out.Points("threads", "threads running", w.xs, w.ru)
	w.out.Points("threads", "GOMAXPROCS", w.xs, gm)
	w.out.Points("threads", "goroutines in read()", w.xs, w.rd)
	w.out.Gauge("Threads in the process", w.th[len(w.th)-1], "")
	w.out.Gauge("Threads running", w.ru[len(w.ru)-1], "")
	w.out.Gauge("Goroutines in read()", w.rd[len(w.rd)-1], "")
	w.xs, w.th, w.ru, w.rd = w.xs[:0], w.th[:0], w.ru[:0], w.rd[:0]
}

// watch samples until d has passed or ctx ends, and returns the peaks.
func (w *threadWatch) watch(ctx context.Context, d time.Duration) (peaks, error) {
	var p peaks
	if err := w.sample(&p); err != nil {
		return p, err
	}
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	end := time.After(d)
	for {
		select {
		case <-ctx.Done():
			w.flush()
			return p, nil
		case <-end:
			err := w.sample(&p)
			w.flush()
			return p, err
		case <-tick.C:
			if err := w.sample(&p); err != nil {
				w.flush()
				return p, err
			}
		}
	}
}

// snippet:blocking-call

// readOne blocks in read() until the pipe gives it a byte or ends: a plain
// system call, made around Go's network poller, so the goroutine's thread
// waits in the kernel with it.
func readOne(fd int) error {
	var b [1]byte
	for {
		_, err := syscall.Read(fd, b[:])
		if err != syscall.EINTR {
			return err
		}
	}
}

// end snippet

func runBlockingCall(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	nc, nb := p.Int("computing"), p.Int("blocked")
	phase := time.Duration(p.Int("phase")) * time.Millisecond
	gmp := runtime.GOMAXPROCS(0)
	var inRead atomic.Int64
	w := &threadWatch{out: out, t0: time.Now(), gmp: gmp, inRead: &inRead}
	out.Log(fmt.Sprintf("GOMAXPROCS is %d: at most %d threads run Go code at any moment.", gmp, gmp))

	// Phase 1: goroutines that compute and never block.
	out.Progress(fmt.Sprintf("%d goroutines computing", nc), 0, 3)
	start, err := probe.Self()
	if err != nil {
		return fmt.Errorf("counting the process's threads: %w", err)
	}
	out.Mark("threads", 0, "computing")
	compute, err := computeWhile(ctx, w, nc, phase)
	if err != nil {
		return err
	}
	out.Row("phases", "compute", map[string]any{"phase": "computing", "goroutines": nc, "peak": compute.total, "running": compute.running})
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Phase 2: goroutines that sit in read() on a blocking pipe. The
	// netpoller is not involved: syscall.Read on a plain pipe puts the
	// kernel thread to sleep until data comes.
	out.Progress(fmt.Sprintf("%d goroutines blocked in read()", nb), 1, 3)
	readers, err := newPipeReaders(nb)
	if err != nil {
		return err
	}
	defer readers.close()
	out.Mark("threads", float64(time.Since(w.t0).Microseconds())/1e3, "blocking")
	readers.start(&inRead)
	blocked, err := w.watch(ctx, phase)
	if err != nil {
		return err
	}
	if failed := readers.failed(); failed != nil {
		return fmt.Errorf("a goroutine's read() failed instead of blocking: %w", failed)
	}
	out.Row("phases", "block", map[string]any{"phase": "blocked in read()", "goroutines": nb, "peak": blocked.total, "running": blocked.running})

	// Phase 3: release every reader and watch what happens to the threads.
	out.Progress("released the readers", 2, 3)
	out.Mark("threads", float64(time.Since(w.t0).Microseconds())/1e3, "released")
	readers.release()
	readers.wg.Wait()
	after, err := w.watch(ctx, min(phase/2, 500*time.Millisecond))
	if err != nil {
		return err
	}
	out.Row("phases", "after", map[string]any{"phase": "after release", "goroutines": 0, "peak": after.total, "running": after.running})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	out.Progress("done", 3, 3)
	if after.total > compute.total+nb/2 {
		out.Log(fmt.Sprintf("After the release the process still has %d threads: Go keeps threads it no longer needs, parked, for reuse rather than ending them.", after.total))
	}
	m := blockingMeasured{gomaxprocs: gmp, before: start.Threads, computing: nc, blocking: nb, compute: compute, block: blocked, after: after}
	out.Result(blockingMetrics(m), judgeBlocking(m))
	return nil
}

// computeWhile keeps nc goroutines computing, never blocking, while w
// watches the threads for d, and returns the peaks it saw.
func computeWhile(ctx context.Context, w *threadWatch, nc int, d time.Duration) (peaks, error) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range nc {
		wg.Go(func() {
			for !stop.Load() {
				spin(5000)
			}
		})
	}
	p, err := w.watch(ctx, d)
	stop.Store(true)
	wg.Wait()
	return p, err
}

// pipeReaders are goroutines that sit in read() on a blocking pipe until
// it is released.
type pipeReaders struct {
	n    int
	pipe [2]int
	once sync.Once // release
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error // the first read() that failed rather than blocked
}

func newPipeReaders(n int) (*pipeReaders, error) {
	r := &pipeReaders{n: n}
	if err := unix.Pipe2(r.pipe[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	return r, nil
}

// start starts the readers; inRead counts those in read().
func (r *pipeReaders) start(inRead *atomic.Int64) {
	for range r.n {
		r.wg.Go(func() {
			inRead.Add(1)
			defer inRead.Add(-1)
			if err := readOne(r.pipe[0]); err != nil {
				r.mu.Lock()
				r.err = cmp.Or(r.err, err)
				r.mu.Unlock()
			}
		})
	}
}

// failed is the first read() that failed rather than blocked, if any.
func (r *pipeReaders) failed() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// release writes one byte for each reader, then end-of-file for any that
// has not reached read() yet.
func (r *pipeReaders) release() {
	r.once.Do(func() {
		unix.Write(r.pipe[1], make([]byte, r.n))
		unix.Close(r.pipe[1])
	})
}

// close releases the readers, if they have not been, and closes the pipe.
func (r *pipeReaders) close() {
	r.release()
	unix.Close(r.pipe[0])
}

// blockingPredictions are what a learner may guess before a run, beside the claims
// they belong to (see lab.Prediction).
var blockingPredictions = []lab.Prediction{
	{Claim: 0, Question: "While many goroutines only compute, how many threads does the process have at its peak?", Kind: lab.PredictNumber, Unit: "threads", Min: 1, Max: 100000, Log: true, Key: "threads.computing.peak"},
	{Claim: 1, Question: "While many goroutines sit in blocking system calls, how many threads at the peak?", Kind: lab.PredictNumber, Unit: "threads", Min: 1, Max: 100000, Log: true, Key: "threads.blocking.peak"},
}

package threadingmodels

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// model is one run of the workload under one threading model: the tasks,
// their schedule, and the pipe the reader blocks on.
type model struct {
	key, name string // "nto1", "N:1"
	tasks     []*task
	unit      int           // spin rounds per chunk
	gap       time.Duration // a pause longer than this counts as a stall
	lead      time.Duration // computing before the read starts
	block     time.Duration // how long the pipe stays empty
	total     time.Duration // how long the model runs
	t0        time.Time
	stop      atomic.Bool // set when the run is cancelled

	pipe     [2]int    // read end, write end
	release  sync.Once // writes the byte that ends the read
	onMark   func(x float64, label string)
	readFrom time.Time // when the reader entered read()
	readTo   time.Time // when read() returned
	readErr  error     // why read() failed, if it did: then it never blocked
	before   int64     // other tasks' chunks when read() started
	after    int64     // other tasks' chunks when read() returned
}

func newModel(key, name string, tasks int, unit int, block time.Duration) *model {
	m := &model{key: key, name: name, unit: unit, block: block}
	m.lead = max(100*time.Millisecond, block/2)
	m.total = m.lead + block + m.lead
	for i := range tasks {
		m.tasks = append(m.tasks, &task{name: fmt.Sprintf("task %d", i+1)})
	}
	m.tasks = append(m.tasks, &task{name: "reader", reader: true})
	return m
}

// ms converts a time to milliseconds since the model started.
func (m *model) ms(t time.Time) float64 { return float64(t.Sub(m.t0).Nanoseconds()) / 1e6 }

// over reports whether the tasks should stop.
func (m *model) over() bool { return m.stop.Load() || time.Since(m.t0) >= m.total }

// others is the chunks finished so far by every task but the reader.
func (m *model) others() int64 {
	var n int64
	for _, t := range m.tasks {
		if !t.reader {
			n += t.chunks.Load()
		}
	}
	return n
}

// unblock writes the byte the reader waits for; only the first call does.
func (m *model) unblock() {
	m.release.Do(func() { unix.Write(m.pipe[1], []byte{1}) })
}

// body is what every task does, whichever model runs it: work in chunks
// until the model's time is up. yield hands the thread to another task
// (the N:1 scheduler); it returns false when the task must stop. The
// reader, once its lead time has passed, makes one blocking read.
func (m *model) body(t *task, yield func() bool) {
	t.last = m.t0
	blocked := false
	for !m.over() {
		t.step(m)
		if t.reader && !blocked && time.Since(m.t0) >= m.lead {
			blocked = true
			m.read()
			t.last = time.Now() // the reader's own wait is not a stall
		}
		if !yield() {
			return
		}
	}
	// A task resumed only after the model's time was up stood still until
	// then: that counts too.
	t.pause(m, time.Now())
}

// read is the blocking system call. The pipe stays empty until a timer,
// outside every model, writes to it. syscall.Read tells the Go runtime the
// thread is in a system call, so the rest of the program (the sampler, the
// garbage collector) carries on; but the kernel thread itself sleeps in
// read() until the byte arrives, and whatever else was meant to run on
// that thread waits with it.
func (m *model) read() {
	m.onMark(m.ms(time.Now()), "read() starts") // sent first: it is a write that may wait
	m.before = m.others()
	m.readFrom = time.Now()
	timer := time.AfterFunc(m.block, m.unblock)
	defer timer.Stop()
	var b [1]byte
	for {
		_, err := syscall.Read(m.pipe[0], b[:])
		if err != syscall.EINTR {
			m.readErr = err
			break
		}
	}
	m.readTo = time.Now()
	m.after = m.others()
	m.onMark(m.ms(m.readTo), "data arrives")
}

// run runs the workload under the model's mapping, on the schedule that
// starts at m.t0. It returns once every task has finished.
func (m *model) run(ctx context.Context) error {
	if err := unix.Pipe2(m.pipe[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	defer unix.Close(m.pipe[0])
	defer unix.Close(m.pipe[1])
	stopWatch := context.AfterFunc(ctx, func() { m.stop.Store(true); m.unblock() })
	defer stopWatch()

	switch m.key {
	case "1to1":
		m.oneToOne()
	case "nto1":
		m.manyToOne()
	default:
		m.manyToMany()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// oneToOne gives every task a kernel thread of its own. Go lets only
// GOMAXPROCS threads run Go code at once, so the caller raises GOMAXPROCS
// above the task count first: then no task waits for Go's scheduler, and
// the kernel alone decides which thread runs, as in a 1:1 system.
func (m *model) oneToOne() {
	var wg sync.WaitGroup
	// snippet:tm-one-to-one
	for _, t := range m.tasks {
		wg.Go(func() {
			// Exits locked on purpose: the thread ends with its task,
			// as a kernel thread does in a 1:1 system.
			runtime.LockOSThread()
			m.body(t, func() bool { return true })
		})
	}
	// end snippet
	wg.Wait()
}

// manyToMany runs every task as a plain goroutine: Go's scheduler spreads
// them over GOMAXPROCS threads and, when one blocks in the kernel, hands
// its place to another thread.
func (m *model) manyToMany() {
	var wg sync.WaitGroup
	for _, t := range m.tasks {
		wg.Go(func() { m.body(t, func() bool { return true }) })
	}
	wg.Wait()
}

// manyToOne is a user-level scheduler of our own: one goroutine locked to
// one kernel thread runs every task as a coroutine (iter.Pull), in turn,
// each until it yields. Coroutines created on a locked goroutine run on
// that same thread, so the kernel sees a single thread, exactly as with
// the green threads of an N:1 library.
func (m *model) manyToOne() {
	done := make(chan struct{})
	// snippet:threading-models
	go func() {
		defer close(done)
		runtime.LockOSThread() // the one kernel thread every task runs on
		defer runtime.UnlockOSThread()
		var resume []func() (struct{}, bool)
		for _, t := range m.tasks {
			next, stop := iter.Pull(m.coroutine(t)) // each task becomes a coroutine
			defer stop()
			resume = append(resume, next)
		}
		for alive := len(resume); alive > 0; {
			alive = 0
			for i, next := range resume {
				if next == nil {
					continue
				}
				if _, ok := next(); ok { // run it until its next yield, in user space
					alive++
				} else {
					resume[i] = nil
				}
			}
		}
	}()
	// end snippet
	<-done
}

// coroutine wraps a task's body as a sequence that yields after every
// chunk: each yield is a switch back to the scheduler, in user space.
func (m *model) coroutine(t *task) iter.Seq[struct{}] {
	return func(yield func(struct{}) bool) {
		m.body(t, func() bool { return yield(struct{}{}) })
	}
}

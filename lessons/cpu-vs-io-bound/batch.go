package cpuvsiobound

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"conclab/internal/kit"
	"conclab/internal/probe"
)

// batchResult is one timed batch of tasks.
type batchResult struct {
	wall time.Duration
	cpu  time.Duration // CPU time the whole process used meanwhile
	done int           // tasks completed
}

// busy is the average number of CPUs the process kept busy during the batch.
func (b batchResult) busy() float64 {
	if b.wall <= 0 {
		return 0
	}
	return b.cpu.Seconds() / b.wall.Seconds()
}

// runBatch shares tasks among the workers and times them. Each worker
// takes the next task until none are left.
func runBatch(ctx context.Context, tasks int, workers []*workerState, task func(worker *workerState) error) (batchResult, error) {
	var (
		next     atomic.Int64
		done     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	// snippet:scaling
	before := probe.ProcessUsage()
	t0 := time.Now()
	for _, st := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(tasks) && ctx.Err() == nil {
				if err := task(st); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	res := batchResult{wall: time.Since(t0), cpu: probe.ProcessUsage().Sub(before).CPU(), done: int(done.Load())}
	// end snippet
	if firstErr != nil {
		return res, firstErr
	}
	return res, ctx.Err()
}

// workerState is what one worker keeps between its tasks: its own
// connection to the slow server, for I/O-bound work.
type workerState struct{ cl *kit.SlowConn }

// newWorkers makes n workers; with an address, each gets a connection of
// its own, opened before the clock starts, as a connection pool would
// have them ready.
func newWorkers(ctx context.Context, n int, addr string) ([]*workerState, error) {
	ws := make([]*workerState, n)
	for i := range ws {
		ws[i] = &workerState{}
		if addr == "" {
			continue
		}
		cl, err := kit.DialSlow(ctx, addr)
		if err != nil {
			closeWorkers(ws)
			return nil, err
		}
		ws[i].cl = cl
	}
	return ws, nil
}

func closeWorkers(ws []*workerState) {
	for _, st := range ws {
		if st != nil && st.cl != nil {
			st.cl.Close()
		}
	}
}

// snippet:scaling-tasks

// ioTask sends one query to the slow server and waits on the socket for
// its answer, which comes after delay.
func ioTask(delay time.Duration) func(*workerState) error {
	return func(st *workerState) error {
		_, err := st.cl.Query(delay, nil)
		return err
	}
}

// cpuTask hashes n blocks.
func cpuTask(n int) func(*workerState) error {
	return func(*workerState) error {
		hashBlocks(n)
		return nil
	}
}

// end snippet

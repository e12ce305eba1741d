package threadingmodels

import (
	"context"
	"errors"
	"fmt"
	"io"
	rtrace "runtime/trace"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/exp/trace"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/tracefile"
)

// The traced run of scheduler-trace: the workload runs with the runtime's
// execution trace on; the trace's bytes go both to the run's events (for
// the download) and, through a pipe, to a reader in this process that
// follows the scheduler event by event. The runtime cuts its trace into
// generations (every 200 ms here: see schedGODEBUG), and the reader hands
// out a generation's events as soon as the whole generation has arrived,
// so the chart grows five times a second while the workload runs.

// maxDrawn bounds the spans and marks a run sends to its chart, far below
// what a run may store; past it the chart stops and says so, and the
// claims are still judged from the whole trace.
const maxDrawn = 6000

// softTraceBytes is where the trace is stopped early, so that what the
// runtime writes while stopping still fits under tracefile.MaxBytes.
const softTraceBytes = tracefile.MaxBytes - 1<<20

// traced is what the traced run measured.
type traced struct {
	phase
	st     *schedTrace
	file   tracefile.File
	events int // trace events read
	hidden int // spans and marks past maxDrawn, not drawn
	full   bool
}

// chartFeed collects the chart's spans and marks as the reader makes them
// and sends them about ten times a second.
type chartFeed struct {
	out     *lab.Emitter
	mu      sync.Mutex
	pending []feedEvent
	drawn   int
	hidden  int
}

type feedEvent struct {
	typ    string
	fields map[string]any
}

func (f *chartFeed) add(typ string, fields map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.drawn >= maxDrawn {
		f.hidden++
		return
	}
	f.drawn++
	fields["chart"] = "sched"
	f.pending = append(f.pending, feedEvent{typ, fields})
}

func (f *chartFeed) flush() {
	f.mu.Lock()
	evs := f.pending
	f.pending = nil
	f.mu.Unlock()
	for _, e := range evs {
		f.out.Event(e.typ, e.fields)
	}
}

// run sends what gathers until stop is closed, then the rest.
func (f *chartFeed) run(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(lab.LiveEvery)
	defer tick.Stop()
	named := false
	for {
		select {
		case <-stop:
			f.flush()
			return
		case <-tick.C:
			if !named { // once the trace is on: before, there is nothing to name it in
				nameRole(roleLab)
				named = true
			}
			f.flush()
		}
	}
}

// tee hands the trace's bytes to the download and to the reader, and says
// when the download nears its bound.
type tee struct {
	raw    *tracefile.Writer
	pipe   *io.PipeWriter
	enough *atomic.Bool
}

func (t *tee) Write(p []byte) (int, error) {
	t.raw.Write(p)
	if t.raw.Kept() >= softTraceBytes {
		t.enough.Store(true)
	}
	return t.pipe.Write(p)
}

// read follows the trace from r until it ends. On a trace it cannot read,
// it drains r, so that the runtime's writer never blocks, and returns the
// error.
func read(r io.Reader, st *schedTrace, mu *sync.Mutex) (int, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		io.Copy(io.Discard, r)
		return 0, fmt.Errorf("reading the execution trace: %w", err)
	}
	nameRole(roleLab)
	n := 0
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			io.Copy(io.Discard, r)
			return n, fmt.Errorf("reading the execution trace after %d events: %w", n, err)
		}
		n++
		mu.Lock()
		st.handle(ev)
		mu.Unlock()
	}
}

// runTraced runs the workload for d with the execution trace on.
func runTraced(ctx context.Context, w *schedWork, d time.Duration, out *lab.Emitter) (traced, error) {
	feed := &chartFeed{out: out}
	var mu sync.Mutex
	st := newSchedTrace(feed.add)
	pr, pw := io.Pipe()
	var enough atomic.Bool
	raw := tracefile.NewWriter(out.Event, tracefile.MaxBytes)
	var res traced
	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		res.events, readErr = read(pr, st, &mu)
	}()
	stopFeed, feedDone := make(chan struct{}), make(chan struct{})
	go feed.run(stopFeed, feedDone)

	// snippet:scheduler-trace
	if err := rtrace.Start(&tee{raw: raw, pipe: pw, enough: &enough}); err != nil {
		pw.Close()
		<-readDone
		close(stopFeed)
		<-feedDone
		return res, fmt.Errorf("starting the execution trace: %w", err)
	}
	ph, err := w.run(ctx, d, &enough)
	rtrace.Stop() // returns once the runtime has written the whole trace
	// end snippet
	pw.Close()
	<-readDone
	mu.Lock()
	st.finish()
	mu.Unlock()
	close(stopFeed)
	<-feedDone
	res.phase, res.st, res.file, res.hidden, res.full = ph, st, raw.Close(), feed.hidden, enough.Load()
	if err != nil {
		return res, err
	}
	if res.hidden > 0 {
		out.Log(fmt.Sprintf("The chart stops after %s spans and marks; %s more are in the trace, and the claims are judged from all of them.",
			format.Number(maxDrawn), format.Number(float64(res.hidden))))
	}
	if res.full {
		out.Log(fmt.Sprintf("The trace reached %s MiB, near its bound, so it was stopped after %s of the planned %s.",
			format.Number(float64(res.file.Bytes)/(1<<20)), format.Figure(msOf(ph.elapsed), "ms"), format.Figure(msOf(d), "ms")))
	}
	return res, readErr
}

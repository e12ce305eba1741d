package processesvsthreads

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/probe"
)

// The workers of crash-isolation and the faults they commit. A worker
// reports on its standard output, one line per event, and a line is one
// write, so lines from several threads never interleave.

// record is what the nil-pointer fault tries to read through.
type record struct{ value int }

// nowhere is a pointer to no record. It is a package variable so the
// compiler cannot see that it is nil and must really load through it.
var nowhere *record

// commitFault crashes the calling process the way it was asked to.
//   - "nil-pointer": read through a nil pointer. The CPU faults, the
//     kernel sends SIGSEGV, and the Go runtime turns it into a panic
//     nobody recovers: the process exits with status 2.
//   - "sigkill": the process sends itself SIGKILL, which no program can
//     catch, as the kernel's out-of-memory killer would.
func commitFault(kind string) {
	// snippet:crash-isolation
	switch kind {
	case "sigkill":
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {} // the signal arrives before this blocks for long
	default:
		runtime.KeepAlive(nowhere.value) // a read the compiler keeps: it faults
	}
	// end snippet
}

// say writes one line to standard output in one system call.
var sayMu sync.Mutex

func say(format string, args ...any) {
	sayMu.Lock()
	defer sayMu.Unlock()
	os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
}

// crashArgs are the arguments both workers take.
type crashArgs struct {
	steps   int
	step    time.Duration
	crashAt int // the step at which the chosen one faults; 0: never
	fault   string
}

func parseCrashArgs(args []string) (crashArgs, bool) {
	if len(args) != 4 {
		return crashArgs{}, false
	}
	steps, e1 := strconv.Atoi(args[0])
	ms, e2 := strconv.Atoi(args[1])
	at, e3 := strconv.Atoi(args[2])
	if e1 != nil || e2 != nil || e3 != nil {
		return crashArgs{}, false
	}
	return crashArgs{steps: steps, step: time.Duration(ms) * time.Millisecond, crashAt: at, fault: args[3]}, true
}

func (a crashArgs) strings() []string {
	return []string{strconv.Itoa(a.steps), strconv.Itoa(int(a.step / time.Millisecond)), strconv.Itoa(a.crashAt), a.fault}
}

// stepWorker is one worker process: it works through its steps, saying
// "step k" after each, and faults at step crashAt if it is the one chosen.
func stepWorker(args []string) int {
	a, ok := parseCrashArgs(args)
	if !ok {
		return 2
	}
	limitCore()
	for k := 1; k <= a.steps; k++ {
		if k == a.crashAt {
			commitFault(a.fault)
		}
		time.Sleep(a.step) // stands for a step of real work
		say("step %d", k)
	}
	return 0
}

// threadsWorker is one process with N threads (goroutines locked to OS
// threads). Each says "tid i <id>" once all are alive, then works through
// its steps saying "step i k"; thread crashThread faults at step crashAt.
// Its args are N, the chosen thread, then the crashArgs.
func threadsWorker(args []string) int {
	if len(args) != 6 {
		return 2
	}
	n, e1 := strconv.Atoi(args[0])
	victim, e2 := strconv.Atoi(args[1])
	a, ok := parseCrashArgs(args[2:])
	if e1 != nil || e2 != nil || !ok {
		return 2
	}
	limitCore()
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := 1; i <= n; i++ {
		ready.Add(1)
		done.Add(1)
		// snippet:crash-threads
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			say("tid %d %d", i, probe.Tid())
			ready.Done()
			<-start
			for k := 1; k <= a.steps; k++ {
				if i == victim && k == a.crashAt {
					commitFault(a.fault)
				}
				time.Sleep(a.step)
				say("step %d %d", i, k)
			}
		}()
		// end snippet
	}
	ready.Wait()
	close(start)
	done.Wait()
	return 0
}

// limitCore makes sure a crash leaves no core file behind.
func limitCore() {
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
}

// tailBuffer keeps the first bytes written to it, up to a limit: enough
// for the first lines of a crash report.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := 8<<10 - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// firstLines returns up to n non-empty lines of what was written.
func (t *tailBuffer) firstLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for line := range strings.Lines(t.buf.String()) {
		if s := strings.TrimSpace(line); s != "" && len(lines) < n {
			lines = append(lines, s)
		}
	}
	return strings.Join(lines, " · ")
}

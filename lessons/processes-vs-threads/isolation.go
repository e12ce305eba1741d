package processesvsthreads

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// shared is the variable everybody changes. It is a package variable, so
// it sits at the same address in every copy of this program.
var shared int64

// startValue is what the variable holds before anybody changes it.
const startValue = 100

var (
	claimProcsIsolated = lab.Claim{
		Claim:    "Processes do not share memory: a child process's change to a variable is invisible to its parent.",
		Expected: "each child sees its own change; the parent still reads the old value",
	}
	claimThreadsShare = lab.Claim{
		Claim:    "Threads share memory: a change made by one thread is seen by the others.",
		Expected: "each thread sees the changes made before it; the parent reads them all",
	}
)

func isolation() *lab.Experiment {
	return &lab.Experiment{
		ID:     "isolation",
		Lesson: Slug,
		Title:  "Who sees whose changes",
		Summary: "One variable starts at 100. Child processes, one after another, each add 1 to it; then threads of this process, one after another, " +
			"each add 1 to it. Each says what it read right after its change, and the parent reads the variable after each group.",
		Params: []lab.Param{
			lab.Int("workers", "Child processes and threads", 3, 1, 8, "How many child processes, and how many threads, change the variable."),
			lab.Bool("mapping", "Also share a page on purpose", true,
				"Give the child processes a page of memory that both sides map (memfd + mmap MAP_SHARED) and let them add 1 there too."),
		},
		Claims: []lab.Claim{claimProcsIsolated, claimThreadsShare},
		Tables: []lab.Table{{ID: "views", Title: "What each one read after its change", Columns: []lab.Column{
			{Key: "who", Label: "Who"}, {Key: "pid", Label: "PID"}, {Key: "tid", Label: "Thread id"},
			{Key: "address", Label: "Address of the variable"}, {Key: "value", Label: "Read"}, {Key: "note", Label: "What it means"},
		}}},
		Limit: 30 * time.Second,
		Run:   runIsolation,
		Workers: map[string]func([]string) int{
			"isolate": isolateWorker,
		},
	}
}

// address prints where the variable lives in the calling process.
func address() string { return fmt.Sprintf("%#x", uintptr(unsafe.Pointer(&shared))) }

func runIsolation(ctx context.Context, p lab.Params, out *lab.Emitter) error {
	n := p.Int("workers")
	useMap := p.Bool("mapping")
	atomic.StoreInt64(&shared, startValue)
	runtime.LockOSThread() // the parent's row shows the thread it really ran on
	defer runtime.UnlockOSThread()
	pid, tid := os.Getpid(), probe.Tid()
	out.Row("views", "parent-start", map[string]any{"who": "parent, at the start", "pid": kid(pid), "tid": kid(tid),
		"address": address(), "value": startValue, "note": "this process, before anybody changes anything"})

	var page []byte
	var memfd *os.File
	if useMap {
		f, b, err := sharedPage()
		if err != nil {
			return err
		}
		memfd, page = f, b
		defer f.Close()
		defer unix.Munmap(b)
		atomic.StoreInt64(pageWord(page), startValue)
	}

	// Child processes.
	pids := map[int]bool{}
	sameAddr := true
	for i := range n {
		out.Progress("child processes", i, 2*n)
		v, err := runIsolateWorker(ctx, memfd)
		if err != nil {
			return err
		}
		pids[v.pid] = true
		sameAddr = sameAddr && v.address == address()
		out.Row("views", fmt.Sprintf("process-%d", i+1), map[string]any{"who": fmt.Sprintf("child process %d", i+1), "pid": kid(v.pid), "tid": kid(v.tid),
			"address": v.address, "value": v.value, "note": "added 1 to its own copy"})
		if useMap {
			out.Row("views", fmt.Sprintf("mapping-%d", i+1), map[string]any{"who": fmt.Sprintf("child process %d, shared page", i+1), "pid": kid(v.pid), "tid": kid(v.tid),
				"address": "(its own mapping)", "value": v.mapped, "note": "added 1 in the page both processes map"})
		}
	}
	afterProcs := atomic.LoadInt64(&shared)
	out.Row("views", "parent-procs", map[string]any{"who": "parent, after the child processes", "pid": kid(pid), "tid": kid(tid),
		"address": address(), "value": afterProcs, "note": fmt.Sprintf("%d processes added 1 each", n)})
	var mapped int64
	if useMap {
		mapped = atomic.LoadInt64(pageWord(page))
		out.Row("views", "parent-mapping", map[string]any{"who": "parent, the shared page", "pid": kid(pid), "tid": kid(tid),
			"address": "(its own mapping)", "value": mapped, "note": "the page the children changed on purpose"})
	}
	if sameAddr {
		out.Log(fmt.Sprintf("Every child found the variable at %s, the same address as the parent, and still changed only its own copy: an address means something only inside one process.", address()))
	} else {
		out.Log("The children found the variable at other addresses than the parent (this program was built position-independent), and each changed only its own copy.")
	}

	// Threads of this process, in turn.
	out.Progress("threads", n, 2*n)
	views, err := threadChanges(n)
	if err != nil {
		return err
	}
	tids := map[int]bool{}
	for i, v := range views {
		tids[v.tid] = true
		out.Row("views", fmt.Sprintf("thread-%d", i+1), map[string]any{"who": fmt.Sprintf("thread %d", i+1), "pid": kid(v.pid), "tid": kid(v.tid),
			"address": v.address, "value": v.value, "note": "added 1 to the one variable of this process"})
	}
	afterThreads := atomic.LoadInt64(&shared)
	out.Row("views", "parent-threads", map[string]any{"who": "parent, after the threads", "pid": kid(pid), "tid": kid(tid),
		"address": address(), "value": afterThreads, "note": fmt.Sprintf("%d threads added 1 each", n)})
	out.Progress("done", 2*n, 2*n)

	metrics := []lab.Metric{
		{Name: "Parent's value after the child processes", Value: float64(afterProcs), Unit: "", Note: fmt.Sprintf("started at %d; %d children added 1 each", startValue, n)},
		{Name: "Parent's value after the threads", Value: float64(afterThreads), Unit: "", Note: fmt.Sprintf("%d before; %d threads added 1 each", afterProcs, n)},
		{Name: "Distinct PIDs of the child processes", Value: float64(len(pids)), Unit: "PIDs"},
		{Name: "Distinct thread ids of the threads", Value: float64(len(tids)), Unit: "threads"},
	}
	if useMap {
		metrics = append(metrics, lab.Metric{Name: "Parent's value in the shared page", Value: float64(mapped), Unit: "", Note: "memfd mapped MAP_SHARED by both sides"})
	}
	return finishIsolation(out, metrics, n, pid, pids, tids, afterProcs, afterThreads, views)
}

func finishIsolation(out *lab.Emitter, metrics []lab.Metric, n, pid int, pids, tids map[int]bool, afterProcs, afterThreads int64, views []view) error {
	var claims []lab.Claim
	pm := fmt.Sprintf("parent read %d after %d children each added 1 (each child read %d); %d distinct PIDs", afterProcs, n, startValue+1, len(pids))
	if afterProcs == startValue && len(pids) == n && !pids[pid] {
		claims = append(claims, claimProcsIsolated.Judge(pm, lab.Holds, ""))
	} else {
		claims = append(claims, claimProcsIsolated.Judge(pm, lab.Differs, "The parent's variable changed, or the children were not separate processes; that should not be possible."))
	}
	sameProc := true
	for _, v := range views {
		sameProc = sameProc && v.pid == pid
	}
	tm := fmt.Sprintf("parent read %d after %d threads each added 1 to %d; %d distinct thread ids, all in process %d", afterThreads, n, afterProcs, len(tids), pid)
	if afterThreads == afterProcs+int64(n) && len(tids) == n && sameProc {
		claims = append(claims, claimThreadsShare.Judge(tm, lab.Holds, ""))
	} else {
		claims = append(claims, claimThreadsShare.Judge(tm, lab.Differs, "Some thread's change did not reach the parent, or the threads did not run as separate threads of this process."))
	}
	out.Result(metrics, claims)
	return nil
}

// view is what one process or thread reported.
type view struct {
	pid, tid int
	address  string
	value    int64 // the variable, read right after its change
	mapped   int64 // the shared page, read right after its change (-1: none)
}

// threadChanges starts n OS threads (goroutines locked to threads, all
// alive at once so their ids are distinct), then lets each in turn add 1
// to the variable and read it back.
func threadChanges(n int) ([]view, error) {
	views := make([]view, n)
	turn := make([]chan struct{}, n+1)
	for i := range turn {
		turn[i] = make(chan struct{})
	}
	alive := make(chan struct{}, n)
	for i := range n {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			alive <- struct{}{}
			<-turn[i]
			v := atomic.AddInt64(&shared, 1)
			views[i] = view{pid: os.Getpid(), tid: probe.Tid(), address: address(), value: v}
			close(turn[i+1])
		}()
	}
	for range n {
		<-alive
	}
	close(turn[0])
	<-turn[n]
	return views, nil
}

// sharedPage makes one page of memory that another process can map too:
// an anonymous memory file (memfd), which leaves nothing on disk.
func sharedPage() (*os.File, []byte, error) {
	return sharedMemory("conclab-isolation", os.Getpagesize())
}

// sharedMemory makes size bytes of memory, mapped here, that a child
// process can map too when it gets the file.
func sharedMemory(name string, size int) (*os.File, []byte, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC) // ExtraFiles hands it on to the one child that should get it
	if err != nil {
		return nil, nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, nil, err
	}
	b, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("mmap: %w", err)
	}
	return f, b, nil
}

func pageWord(b []byte) *int64 { return (*int64)(unsafe.Pointer(&b[0])) }

// runIsolateWorker starts one child process and reads its report.
func runIsolateWorker(ctx context.Context, memfd *os.File) (view, error) {
	var v view
	cmd, err := lab.Worker(ctx, "isolation", "isolate", strconv.Itoa(startValue), strconv.FormatBool(memfd != nil))
	if err != nil {
		return v, err
	}
	if memfd != nil {
		cmd.ExtraFiles = []*os.File{memfd} // fd 3 in the child
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return v, err
	}
	if err := cmd.Start(); err != nil {
		return v, err
	}
	sc := bufio.NewScanner(stdout)
	if sc.Scan() {
		_, err = fmt.Sscan(sc.Text(), &v.pid, &v.tid, &v.address, &v.value, &v.mapped)
	}
	if werr := cmd.Wait(); werr != nil {
		return v, fmt.Errorf("child process: %w", werr)
	}
	if err != nil || v.pid == 0 {
		return v, fmt.Errorf("child process sent no report: %v", err)
	}
	return v, nil
}

// isolateWorker is the child process of isolation. It gives its own copy
// of the variable the parent's value (what fork would have copied), adds
// 1, and, when asked, adds 1 in the shared page on fd 3 too.
func isolateWorker(args []string) int {
	if len(args) != 2 {
		return 2
	}
	start, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return 2
	}
	runtime.LockOSThread()
	atomic.StoreInt64(&shared, start)
	v := atomic.AddInt64(&shared, 1)
	mapped := int64(-1)
	if args[1] == "true" {
		b, err := unix.Mmap(3, 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mmap:", err)
			return 1
		}
		mapped = atomic.AddInt64(pageWord(b), 1)
		unix.Munmap(b)
	}
	fmt.Printf("%d %d %s %d %d\n", os.Getpid(), probe.Tid(), address(), v, mapped)
	return 0
}

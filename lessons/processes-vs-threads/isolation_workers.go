package processesvsthreads

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// The two sides of isolation that change the variable: threads of this
// process, and child processes (the "isolate" worker), each reporting
// what it read right after its change.

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
func threadChanges(n int) []view {
	views := make([]view, n)
	turn := make([]chan struct{}, n+1)
	for i := range turn {
		turn[i] = make(chan struct{})
	}
	alive := make(chan struct{}, n)
	for i := range n {
		// snippet:isolation-threads
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			alive <- struct{}{}
			<-turn[i]
			v := atomic.AddInt64(&shared, 1)
			views[i] = view{pid: os.Getpid(), tid: probe.Tid(), address: address(), value: v}
			close(turn[i+1])
		}()
		// end snippet
	}
	for range n {
		<-alive
	}
	close(turn[0])
	<-turn[n]
	return views
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
	if err := lab.Start(cmd); err != nil {
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
	// snippet:isolation
	runtime.LockOSThread()
	atomic.StoreInt64(&shared, start) // its own copy, given the parent's value
	v := atomic.AddInt64(&shared, 1)
	mapped := int64(-1)
	if args[1] == "true" { // the page both sides map: the memfd on fd 3
		b, err := unix.Mmap(3, 0, os.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mmap:", err)
			return 1
		}
		mapped = atomic.AddInt64(pageWord(b), 1)
		unix.Munmap(b)
	}
	fmt.Printf("%d %d %s %d %d\n", os.Getpid(), probe.Tid(), address(), v, mapped)
	// end snippet
	return 0
}

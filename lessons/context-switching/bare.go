package contextswitching

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

// The bare ping-pongs of switch-cost: the same byte passed through two
// pipes, but by worker processes that do nothing else — raw system calls
// on pinned threads, the garbage collector off (pingpong.Quiet) — so that
// nothing but the switch and the two system calls happens between one
// hand-off and the next. Beside the Go figures they separate the direct
// cost of a switch from what a real program pays around it.

// bareReport is what a bare worker prints when it has timed its batches.
type bareReport struct {
	PerSwitch   []float64 `json:"per_switch"` // ns per switch, one per batch
	Voluntary   int64     `json:"voluntary"`
	Involuntary int64     `json:"involuntary"`
	CPU         int       `json:"cpu"` // where the timing side ran
	EchoCPU     int       `json:"echo_cpu,omitempty"`
}

// bareEnv is the environment of a bare worker: no asynchronous preemption,
// whose signal would interrupt a read.
func bareEnv() []string { return append(os.Environ(), "GODEBUG=asyncpreemptoff=1") }

// bareThreads times a bare ping-pong between two threads of one worker
// process, both pinned to cpu.
func bareThreads(ctx context.Context, cpu, _ int, batches, per int, tick pingpong.Tick) (pingpong.Result, error) {
	res := pingpong.Result{CPUs: [2]int{-1, -1}}
	cmd, err := lab.Worker(ctx, "switch-cost", "bare", "threads", strconv.Itoa(cpu), strconv.Itoa(batches), strconv.Itoa(per))
	if err != nil {
		return res, err
	}
	cmd.Env = bareEnv()
	rep, err := bareRun(cmd)
	if err != nil {
		return res, err
	}
	return rep.result(per, probe.Usage{}, rep.EchoCPU, tick), nil
}

// bareProcesses times a bare ping-pong between two worker processes, both
// pinned to cpu: one echoes, the other times.
func bareProcesses(ctx context.Context, cpu, _ int, batches, per int, tick pingpong.Tick) (pingpong.Result, error) {
	res := pingpong.Result{CPUs: [2]int{-1, -1}}
	var there, back [2]*os.File
	var err error
	if there[0], there[1], err = os.Pipe(); err != nil {
		return res, err
	}
	if back[0], back[1], err = os.Pipe(); err != nil {
		there[0].Close()
		there[1].Close()
		return res, err
	}
	closeAll := func() {
		for _, f := range []*os.File{there[0], there[1], back[0], back[1]} {
			f.Close()
		}
	}
	a := strconv.Itoa(cpu)
	echo, err := lab.Worker(ctx, "switch-cost", "bare", "echo", a, "0", "0")
	if err != nil {
		closeAll()
		return res, err
	}
	echo.Env, echo.ExtraFiles = bareEnv(), []*os.File{there[0], back[1]} // fd 3 in, fd 4 out
	ping, err := lab.Worker(ctx, "switch-cost", "bare", "ping", a, strconv.Itoa(batches), strconv.Itoa(per))
	if err != nil {
		closeAll()
		return res, err
	}
	ping.Env, ping.ExtraFiles = bareEnv(), []*os.File{back[0], there[1]} // fd 3 in, fd 4 out
	if err := lab.Start(echo); err != nil {
		closeAll()
		return res, fmt.Errorf("start the echoing worker: %w", err)
	}
	var stdout bytes.Buffer
	ping.Stdout = &stdout
	err = lab.Start(ping)
	closeAll() // the workers hold their own ends now; the echo sees end of file when the timer exits
	if err != nil {
		echo.Process.Kill()
		echo.Wait()
		return res, fmt.Errorf("start the timing worker: %w", err)
	}
	perr := ping.Wait()
	eerr := echo.Wait()
	if perr != nil {
		return res, fmt.Errorf("the timing worker: %w (%s)", perr, bytes.TrimSpace(stdout.Bytes()))
	}
	if eerr != nil {
		return res, fmt.Errorf("the echoing worker: %w", eerr)
	}
	var rep bareReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return res, fmt.Errorf("the timing worker printed %q: %w", stdout.Bytes(), err)
	}
	echoUsage, ok := workerUsage(echo.ProcessState)
	if !ok {
		return res, fmt.Errorf("the kernel gave no resource usage for the echoing worker")
	}
	return rep.result(per, echoUsage, cpu, tick), nil
}

// bareRun starts a bare worker, waits for it and reads its report.
func bareRun(cmd *exec.Cmd) (bareReport, error) {
	var rep bareReport
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := lab.Start(cmd); err != nil {
		return rep, fmt.Errorf("start the bare worker: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return rep, fmt.Errorf("the bare worker: %w", err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return rep, fmt.Errorf("the bare worker printed %q: %w", stdout.Bytes(), err)
	}
	return rep, nil
}

// result turns a worker's report into a Result: ns per switch, the kernel's counts of both sides, and the CPUs they ran on.
func (r bareReport) result(per int, other probe.Usage, otherCPU int, tick pingpong.Tick) pingpong.Result {
	res := pingpong.Result{PerSwitch: r.PerSwitch, Rounds: len(r.PerSwitch) * per, CPUs: [2]int{r.CPU, otherCPU}}
	res.Kernel = pingpong.Add(probe.Usage{Voluntary: r.Voluntary, Involuntary: r.Involuntary}, other)
	if tick != nil {
		tick(r.PerSwitch)
	}
	return res
}

// bareWorker is the entry point of the bare workers: role cpu batches per.
// "threads" runs both sides as two threads of this process; "echo" and
// "ping" are the two sides as processes of their own, on fd 3 (in) and
// fd 4 (out). The timing side prints a bareReport on stdout.
func bareWorker(args []string) int {
	if len(args) != 4 {
		return 2
	}
	role := args[0]
	var nums [3]int
	for i, s := range args[1:] {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 2
		}
		nums[i] = n
	}
	cpu, batches, per := nums[0], nums[1], nums[2]
	runtime.GOMAXPROCS(4) // two threads blocked in raw calls hold two Ps; the rest of the runtime keeps its own
	pingpong.Quiet()
	runtime.LockOSThread()
	if err := probe.PinThread(cpu); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var rep bareReport
	var err error
	switch role {
	case "echo":
		if err := pingpong.BareEcho(3, 4); err != nil {
			fmt.Fprintln(os.Stderr, "bare echo:", err)
			return 1
		}
		return 0
	case "ping":
		rep, err = barePing(3, 4, batches, per)
	case "threads":
		rep, err = bareTwoThreads(cpu, batches, per)
	default:
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare ping-pong:", err)
		return 1
	}
	u := probe.ProcessUsage()
	rep.Voluntary, rep.Involuntary = u.Voluntary, u.Involuntary
	b, _ := json.Marshal(rep)
	os.Stdout.Write(b)
	return 0
}

// barePing waits for the echo's ready byte on in, then times batches of
// bare round trips, on the calling (locked, pinned) thread.
func barePing(in, out, batches, per int) (bareReport, error) {
	var ready [1]byte
	if n, err := unix.Read(in, ready[:]); n != 1 {
		return bareReport{}, fmt.Errorf("the echo never said it was ready (%v)", err)
	}
	vals, err := pingpong.TimeBatches(context.Background(), batches, per, pingpong.BareRounds(out, in), nil)
	return bareReport{PerSwitch: vals, CPU: probe.CurrentCPU()}, err
}

// bareTwoThreads runs the echo on a second locked thread pinned to cpu,
// and times from the calling one.
func bareTwoThreads(cpu, batches, per int) (bareReport, error) {
	var there, back [2]int // [0] the read end, [1] the write end
	if err := unix.Pipe2(there[:], unix.O_CLOEXEC); err != nil {
		return bareReport{}, err
	}
	if err := unix.Pipe2(back[:], unix.O_CLOEXEC); err != nil {
		return bareReport{}, err
	}
	type echoed struct {
		cpu int
		err error
	}
	done := make(chan echoed, 1)
	go func() {
		runtime.LockOSThread()
		if err := probe.PinThread(cpu); err != nil {
			unix.Close(back[1]) // the timer's wait for the ready byte ends
			done <- echoed{-1, err}
			return
		}
		c := probe.CurrentCPU()
		done <- echoed{c, pingpong.BareEcho(there[0], back[1])}
	}()
	rep, err := barePing(back[0], there[1], batches, per)
	unix.Close(there[1]) // the echo reads end of file and stops
	e := <-done
	if err == nil {
		err = e.err
	}
	rep.EchoCPU = e.cpu
	return rep, err
}

package contextswitching

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// A ping-pong passes one byte back and forth between two parties. Each
// round trip is two switches: to the other party and back. Timing batches
// of round trips (rather than each one) keeps the clock's own cost out of
// the figure.

// pingResult is what one ping-pong measured.
type pingResult struct {
	perSwitch []float64   // µs per switch, one value per batch
	switches  probe.Usage // what the kernel counted for the two parties
	rounds    int         // round trips made
	cpus      [2]int      // CPUs the two parties were seen on (-1: not seen)
	pinned    [2]int      // CPUs the two parties were pinned to
}

// batchFunc runs n round trips.
type batchFunc func(n int) error

// timeBatches runs batches of per round trips and records µs per switch.
// tick is called between batches (never inside one) with the values so
// far; it is where live events go out.
func timeBatches(ctx context.Context, batches, per int, run batchFunc, tick func([]float64)) ([]float64, error) {
	out := make([]float64, 0, batches)
	last := time.Now()
	for i := 0; i < batches; i++ {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		t0 := time.Now()
		if err := run(per); err != nil {
			return out, err
		}
		d := time.Since(t0)
		out = append(out, float64(d.Nanoseconds())/1e3/float64(2*per))
		if time.Since(last) > 100*time.Millisecond {
			tick(out)
			last = time.Now()
		}
	}
	tick(out)
	return out, nil
}

// goroutinePingPong passes a value between two goroutines over unbuffered
// channels. same: GOMAXPROCS=1 and the process pinned to one CPU, so the
// runtime switches between them in user space. Otherwise each goroutine is
// locked to its own thread on its own CPU, so every hand-off wakes a
// thread on the other CPU.
func goroutinePingPong(ctx context.Context, cpuA, cpuB int, same bool, batches, per int, tick func([]float64)) (pingResult, error) {
	res := pingResult{cpus: [2]int{-1, -1}}
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return res, err
	}
	prev := runtime.GOMAXPROCS(0)
	if same {
		if err := probe.PinProcess(cpuA); err != nil {
			return res, err
		}
		runtime.GOMAXPROCS(1)
	} else {
		runtime.GOMAXPROCS(max(prev, 3))
	}
	defer func() {
		runtime.GOMAXPROCS(prev)
		probe.PinProcess(allowed...)
	}()

	ping, pong := make(chan struct{}), make(chan struct{})
	seenB := make(chan int, 1)
	go func() {
		if !same {
			runtime.LockOSThread() // exits locked: the pinned thread goes with it
			probe.PinThread(cpuB)
		}
		seen := -1
		for range ping {
			pong <- struct{}{}
			if seen < 0 {
				seen = probe.CurrentCPU()
			}
		}
		seenB <- seen
	}()
	type done struct {
		vals  []float64
		usage probe.Usage
		cpu   int
		err   error
	}
	result := make(chan done, 1)
	go func() {
		if !same {
			runtime.LockOSThread()
			probe.PinThread(cpuA)
		}
		before := probe.ProcessUsage()
		vals, err := timeBatches(ctx, batches, per, func(n int) error {
			for range n {
				ping <- struct{}{}
				<-pong
			}
			return nil
		}, tick)
		result <- done{vals, probe.ProcessUsage().Sub(before), probe.CurrentCPU(), err}
	}()
	d := <-result
	close(ping)
	res.perSwitch, res.switches, res.rounds = d.vals, d.usage, len(d.vals)*per
	res.cpus = [2]int{d.cpu, <-seenB}
	return res, d.err
}

// threadPingPong passes a byte through two pipes between two OS threads,
// each pinned to its CPU: the same exchange as `perf bench sched pipe -T`.
func threadPingPong(ctx context.Context, cpuA, cpuB int, batches, per int, tick func([]float64)) (pingResult, error) {
	res := pingResult{cpus: [2]int{-1, -1}}
	var p1, p2 [2]int
	if err := unix.Pipe2(p1[:], unix.O_CLOEXEC); err != nil {
		return res, err
	}
	if err := unix.Pipe2(p2[:], unix.O_CLOEXEC); err != nil {
		unix.Close(p1[0])
		unix.Close(p1[1])
		return res, err
	}
	defer unix.Close(p1[0])
	defer unix.Close(p2[0])
	defer unix.Close(p2[1])

	// Two blocked threads plus the rest of the program: make sure no
	// thread has to wait for a P.
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, 3))
	defer runtime.GOMAXPROCS(prev)

	type side struct {
		usage probe.Usage
		cpu   int
	}
	echoDone := make(chan side, 1)
	go func() {
		runtime.LockOSThread() // exits locked: the pinned thread goes with it
		probe.PinThread(cpuB)
		before := probe.ThreadUsage()
		cpu := probe.CurrentCPU()
		echo(p1[0], p2[1])
		echoDone <- side{probe.ThreadUsage().Sub(before), cpu}
	}()

	type done struct {
		vals []float64
		side side
		err  error
	}
	result := make(chan done, 1)
	go func() {
		runtime.LockOSThread()
		probe.PinThread(cpuA)
		before := probe.ThreadUsage()
		cpu := probe.CurrentCPU()
		vals, err := timeBatches(ctx, batches, per, pipeRounds(p1[1], p2[0]), tick)
		result <- done{vals, side{probe.ThreadUsage().Sub(before), cpu}, err}
	}()
	d := <-result
	unix.Close(p1[1]) // the echo thread reads EOF and exits
	e := <-echoDone
	res.perSwitch, res.rounds = d.vals, len(d.vals)*per
	res.switches = addUsage(d.side.usage, e.usage)
	res.cpus = [2]int{d.side.cpu, e.cpu}
	return res, d.err
}

// processPingPong passes a byte through two pipes between this process and
// a worker process (this binary re-executed), each pinned to its CPU.
func processPingPong(ctx context.Context, cpuA, cpuB int, batches, per int, tick func([]float64)) (pingResult, error) {
	res := pingResult{cpus: [2]int{-1, -1}}
	toR, toW, err := os.Pipe()
	if err != nil {
		return res, err
	}
	fromR, fromW, err := os.Pipe()
	if err != nil {
		toR.Close()
		toW.Close()
		return res, err
	}
	defer fromR.Close()
	cmd, err := lab.Worker(ctx, "switch-cost", "echo", strconv.Itoa(cpuB))
	if err != nil {
		return res, err
	}
	cmd.ExtraFiles = []*os.File{toR, fromW} // fd 3 and fd 4 in the worker
	if err := cmd.Start(); err != nil {
		toR.Close()
		toW.Close()
		fromW.Close()
		return res, fmt.Errorf("start worker: %w", err)
	}
	toR.Close()
	fromW.Close()

	// Wait for the worker to say it is pinned and ready; its start-up
	// must not land in the first batch.
	var cpuByte [1]byte
	if _, err := fromR.Read(cpuByte[:]); err != nil {
		toW.Close()
		cmd.Wait()
		return res, fmt.Errorf("worker did not start: %w", err)
	}

	type done struct {
		vals  []float64
		usage probe.Usage
		cpu   int
		err   error
	}
	result := make(chan done, 1)
	go func() {
		runtime.LockOSThread()
		probe.PinThread(cpuA)
		before := probe.ThreadUsage()
		cpu := probe.CurrentCPU()
		vals, err := timeBatches(ctx, batches, per, pipeRounds(int(toW.Fd()), int(fromR.Fd())), tick)
		result <- done{vals, probe.ThreadUsage().Sub(before), cpu, err}
	}()
	d := <-result
	toW.Close() // the worker reads EOF and exits
	werr := cmd.Wait()
	res.perSwitch, res.rounds = d.vals, len(d.vals)*per
	var worker probe.Usage
	if cmd.ProcessState != nil {
		worker = probe.FromRusage(sysUsage(cmd.ProcessState))
	}
	res.switches = addUsage(d.usage, worker)
	res.cpus = [2]int{d.cpu, int(cpuByte[0])}
	if d.err == nil && werr != nil {
		d.err = fmt.Errorf("worker: %w", werr)
	}
	return res, d.err
}

// echoWorker is the worker process of processPingPong: pin to the CPU in
// args[0], report it on fd 4, then echo bytes from fd 3 to fd 4 until EOF.
func echoWorker(args []string) int {
	cpu, err := strconv.Atoi(args[0])
	if err != nil {
		return 2
	}
	runtime.LockOSThread()
	if err := probe.PinThread(cpu); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := unix.Write(4, []byte{byte(probe.CurrentCPU())}); err != nil {
		return 1
	}
	echo(3, 4)
	return 0
}

// echo copies one byte at a time from in to out until in reaches EOF.
func echo(in, out int) {
	var b [1]byte
	for {
		n, err := unix.Read(in, b[:])
		if err == unix.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return
		}
		if _, err := unix.Write(out, b[:]); err != nil {
			return
		}
	}
}

// pipeRounds returns a batchFunc that sends a byte on out and waits for it
// to come back on in.
func pipeRounds(out, in int) batchFunc {
	b := []byte{1}
	return func(n int) error {
		for range n {
			if _, err := unix.Write(out, b); err != nil {
				return err
			}
			for {
				k, err := unix.Read(in, b)
				if err == unix.EINTR {
					continue
				}
				if err != nil {
					return err
				}
				if k == 0 {
					return fmt.Errorf("the other side closed the pipe")
				}
				break
			}
		}
		return nil
	}
}

func addUsage(a, b probe.Usage) probe.Usage {
	return probe.Usage{User: a.User + b.User, System: a.System + b.System, Voluntary: a.Voluntary + b.Voluntary, Involuntary: a.Involuntary + b.Involuntary}
}

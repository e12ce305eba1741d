package contextswitching

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"conclab/internal/lab"
	"conclab/internal/pingpong"
	"conclab/internal/probe"
)

// processPingPong passes a byte through two pipes between this process and
// a worker process (this binary re-executed), each pinned to its CPU; the
// goroutine and thread kinds come from internal/pingpong.
func processPingPong(ctx context.Context, cpuA, cpuB int, batches, per int, tick pingpong.Tick) (pingpong.Result, error) {
	res := pingpong.Result{CPUs: [2]int{-1, -1}}
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
		toR.Close()
		toW.Close()
		fromW.Close()
		return res, err
	}
	cmd.ExtraFiles = []*os.File{toR, fromW} // fd 3 and fd 4 in the worker
	if err := lab.Start(cmd); err != nil {
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
		return res, fmt.Errorf("worker did not start: %w (worker: %v)", err, cmd.Wait())
	}

	type done struct {
		vals  []float64
		usage probe.Usage
		cpu   int
		err   error
	}
	result := make(chan done, 1)
	go func() {
		runtime.LockOSThread() // exits locked: the pinned thread goes with it
		if err := probe.PinThread(cpuA); err != nil {
			result <- done{err: fmt.Errorf("pin to CPU %d: %w", cpuA, err)}
			return
		}
		before := probe.ThreadUsage()
		cpu := probe.CurrentCPU()
		vals, err := pingpong.TimeBatches(ctx, batches, per, pingpong.PipeRounds(int(toW.Fd()), int(fromR.Fd())), tick)
		result <- done{vals, probe.ThreadUsage().Sub(before), cpu, err}
	}()
	d := <-result
	toW.Close() // the worker reads end of file and exits
	werr := cmd.Wait()
	if d.err != nil {
		return res, d.err
	}
	if werr != nil {
		return res, fmt.Errorf("worker: %w", werr)
	}
	// Without the worker's own count the evidence table would show only
	// half the switches.
	worker, ok := workerUsage(cmd.ProcessState)
	if !ok {
		return res, fmt.Errorf("the kernel gave no resource usage for the worker process")
	}
	res.PerSwitch, res.Rounds = d.vals, len(d.vals)*per
	res.Kernel = pingpong.Add(d.usage, worker)
	res.CPUs = [2]int{d.cpu, int(cpuByte[0])}
	return res, nil
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
	pingpong.Echo(3, 4)
	return 0
}

package greenthreads

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"conclab/internal/probe"
)

// Three ways for two parties to hand control back and forth, each timed the
// same way: batches of round trips, one round trip being two switches.
// Everything runs on one CPU, so every hand-off really is a switch.

// switchRun is what one kind of switch measured.
type switchRun struct {
	perSwitch []float64   // ns per switch, one value per timed batch
	rounds    int         // round trips made
	kernel    probe.Usage // what the kernel counted for the threads involved
}

// timeBatches times `batches` batches of `per` round trips and records ns
// per switch. tick gets the values so far between batches, never inside one.
func timeBatches(ctx context.Context, batches, per int, rounds func(n int) error, tick func([]float64)) ([]float64, error) {
	vals := make([]float64, 0, batches)
	last := time.Now()
	for range batches {
		if err := ctx.Err(); err != nil {
			return vals, err
		}
		t := time.Now()
		if err := rounds(per); err != nil {
			return vals, err
		}
		vals = append(vals, float64(time.Since(t).Nanoseconds())/float64(2*per))
		if time.Since(last) >= 100*time.Millisecond {
			tick(vals)
			last = time.Now()
		}
	}
	tick(vals)
	return vals, nil
}

// onOneCPU runs f with GOMAXPROCS=1 and the whole process pinned to cpu,
// then puts both back: goroutines and coroutines then share one thread.
func onOneCPU(cpu int, f func()) error {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return err
	}
	if err := probe.PinProcess(cpu); err != nil {
		return err
	}
	prev := runtime.GOMAXPROCS(1)
	defer func() {
		runtime.GOMAXPROCS(prev)
		probe.PinProcess(allowed...)
	}()
	f()
	return nil
}

// coroutineSwitches resumes a coroutine made by iter.Pull: next() switches
// to the coroutine, which yields one value and switches straight back. No
// scheduler is involved: the runtime hands the thread from one stack to the
// other.
func coroutineSwitches(ctx context.Context, cpu, batches, per int, tick func([]float64)) (switchRun, error) {
	var r switchRun
	var err error
	perr := onOneCPU(cpu, func() {
		next, stop := iter.Pull(func(yield func(int) bool) {
			for i := 0; yield(i); i++ {
			}
		})
		defer stop()
		before := probe.ProcessUsage()
		r.perSwitch, err = timeBatches(ctx, batches, per, func(n int) error {
			for range n {
				next()
			}
			return nil
		}, tick)
		r.kernel = probe.ProcessUsage().Sub(before)
	})
	r.rounds = len(r.perSwitch) * per
	return r, firstErr(err, perr)
}

// goroutineSwitches passes a token between two goroutines over unbuffered
// channels. With one P, each hand-off parks one goroutine and makes the
// other runnable: a trip through the Go scheduler, still in user space.
func goroutineSwitches(ctx context.Context, cpu, batches, per int, tick func([]float64)) (switchRun, error) {
	var r switchRun
	var err error
	perr := onOneCPU(cpu, func() {
		ping, pong := make(chan struct{}), make(chan struct{})
		go func() {
			for range ping {
				pong <- struct{}{}
			}
		}()
		defer close(ping)
		before := probe.ProcessUsage()
		r.perSwitch, err = timeBatches(ctx, batches, per, func(n int) error {
			for range n {
				ping <- struct{}{}
				<-pong
			}
			return nil
		}, tick)
		r.kernel = probe.ProcessUsage().Sub(before)
	})
	r.rounds = len(r.perSwitch) * per
	return r, firstErr(err, perr)
}

// threadSwitches passes a byte between two OS threads pinned to the same
// CPU through a pair of pipes. Each side blocks in read until the other
// writes, so every hand-off is the kernel putting one thread to sleep and
// running the other.
func threadSwitches(ctx context.Context, cpu, batches, per int, tick func([]float64)) (switchRun, error) {
	var r switchRun
	var there, back [2]int // [0] is the read end, [1] the write end
	if err := unix.Pipe2(there[:], unix.O_CLOEXEC); err != nil {
		return r, err
	}
	if err := unix.Pipe2(back[:], unix.O_CLOEXEC); err != nil {
		unix.Close(there[0])
		unix.Close(there[1])
		return r, err
	}
	defer unix.Close(there[0])
	defer unix.Close(back[0])
	defer unix.Close(back[1])

	// Both threads spend their time blocked in read; give the runtime
	// enough Ps that neither waits for one when it wakes.
	prev := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(max(prev, 3))
	defer runtime.GOMAXPROCS(prev)

	echoed := make(chan probe.Usage, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the pinned thread ends with this goroutine
		probe.PinThread(cpu)
		before := probe.ThreadUsage()
		var b [1]byte
		for readByte(there[0], b[:]) == nil {
			if _, err := unix.Write(back[1], b[:]); err != nil {
				break
			}
		}
		echoed <- probe.ThreadUsage().Sub(before)
	}()

	type timed struct {
		vals  []float64
		usage probe.Usage
		err   error
	}
	done := make(chan timed, 1)
	go func() {
		runtime.LockOSThread() // never unlocked, as above
		probe.PinThread(cpu)
		before := probe.ThreadUsage()
		b := []byte{1}
		vals, err := timeBatches(ctx, batches, per, func(n int) error {
			for range n {
				if _, err := unix.Write(there[1], b); err != nil {
					return err
				}
				if err := readByte(back[0], b); err != nil {
					return err
				}
			}
			return nil
		}, tick)
		done <- timed{vals, probe.ThreadUsage().Sub(before), err}
	}()
	t := <-done
	unix.Close(there[1]) // the echo thread reads end of file and stops
	e := <-echoed
	r.perSwitch, r.rounds = t.vals, len(t.vals)*per
	r.kernel = probe.Usage{
		User: t.usage.User + e.User, System: t.usage.System + e.System,
		Voluntary: t.usage.Voluntary + e.Voluntary, Involuntary: t.usage.Involuntary + e.Involuntary,
	}
	return r, t.err
}

// readByte reads exactly one byte from fd, retrying when a signal
// interrupts the read.
func readByte(fd int, b []byte) error {
	for {
		n, err := unix.Read(fd, b[:1])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		case n == 0:
			return fmt.Errorf("pipe closed")
		}
		return nil
	}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

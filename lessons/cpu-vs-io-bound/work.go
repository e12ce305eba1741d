package cpuvsiobound

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"conclab/internal/kit"
	"conclab/internal/probe"
)

// The computing in this lesson is hashing: SHA-256 over a 16 KiB buffer,
// over and over, the kind of work behind checksums, signatures and
// content-addressed storage. It touches no file and no network and never
// waits; only a CPU can make it go faster.

// blockSize is the buffer one hash covers.
const blockSize = 16 << 10

var block = func() []byte {
	b := make([]byte, blockSize)
	for i := range b {
		b[i] = byte(i*131 + i>>8)
	}
	return b
}()

// sink keeps the compiler from dropping the hashes.
var sink atomic.Uint64

// hashBlocks hashes the buffer n times, each round chained to the last so
// no round can be skipped.
func hashBlocks(n int) [32]byte {
	buf := make([]byte, blockSize)
	copy(buf, block)
	var sum [32]byte
	for range n {
		sum = sha256.Sum256(buf)
		copy(buf, sum[:])
	}
	sink.Add(uint64(sum[0]))
	return sum
}

// calibrateHash measures how many blocks one thread hashes per millisecond
// of CPU time, pinned to cpu, by doubling a batch until it takes at least
// 20 ms. It reads the thread's CPU clock, not the wall clock: on a busy
// machine another program may take the CPU away mid-batch, and that time
// must not count as hashing.
func calibrateHash(cpu int) (kit.Rate, error) {
	return kit.Calibrate(kit.Calibration{CPU: cpu, Clock: kit.ThreadCPU, Start: 16, Min: 20 * time.Millisecond, Max: 1 << 23},
		func(n int) { hashBlocks(n) })
}

// blocksFor is the number of blocks that take about ms milliseconds at
// rate; at least one.
func blocksFor(ms int, rate kit.Rate) int { return rate.Units(time.Duration(ms) * time.Millisecond) }

// oneCPU restricts the process to a single CPU: one P for goroutines, and
// every thread pinned to cpu. The returned func undoes both. A pin that
// fails is an error, never a curve measured on more CPUs than it says.
func oneCPU(cpu int) (restore func() error, err error) {
	allowed, err := probe.AllowedCPUs()
	if err != nil {
		return nil, err
	}
	prev := runtime.GOMAXPROCS(1)
	restore = func() error {
		runtime.GOMAXPROCS(prev)
		if err := probe.PinProcess(allowed...); err != nil {
			return fmt.Errorf("give the process back all its CPUs: %w", err)
		}
		return nil
	}
	if err := probe.PinProcess(cpu); err != nil {
		return nil, errors.Join(fmt.Errorf("pin the process to CPU %d: %w", cpu, err), restore())
	}
	return restore, nil
}

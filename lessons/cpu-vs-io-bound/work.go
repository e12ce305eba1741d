package cpuvsiobound

import (
	"crypto/sha256"
	"runtime"
	"sync/atomic"
	"time"

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
func calibrateHash(cpu int) float64 {
	ch := make(chan float64)
	go func() {
		runtime.LockOSThread() // exits locked: the pinned thread goes with it
		probe.PinThread(cpu)
		n := 16
		for {
			c0 := probe.ThreadCPUTime()
			hashBlocks(n)
			if d := probe.ThreadCPUTime() - c0; d > 20*time.Millisecond || n > 1<<22 {
				ch <- float64(n) / (float64(max(d, time.Microsecond).Nanoseconds()) / 1e6)
				return
			}
			n *= 2
		}
	}()
	return <-ch
}

// blocksFor is the number of blocks that take about ms milliseconds at rate
// blocks per millisecond; at least one.
func blocksFor(ms, rate float64) int { return max(1, int(ms*rate+0.5)) }

// oneCPU restricts the process to a single CPU: one P for goroutines, and
// every thread pinned to cpu. The returned func undoes both.
func oneCPU(cpu int) (restore func()) {
	allowed, _ := probe.AllowedCPUs()
	prev := runtime.GOMAXPROCS(1)
	probe.PinProcess(cpu)
	return func() {
		runtime.GOMAXPROCS(prev)
		if len(allowed) > 0 {
			probe.PinProcess(allowed...)
		}
	}
}

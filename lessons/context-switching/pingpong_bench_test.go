package contextswitching

import (
	"testing"
)

// BenchmarkChannelPingPong is the plain Go reference for switch-cost's
// goroutine figure: two goroutines passing a value over unbuffered
// channels. Run it with -cpu 1 (GOMAXPROCS=1, as switch-cost does) and
// compare ns/switch with the experiment's switch.goroutine.same_cpu.
func BenchmarkChannelPingPong(b *testing.B) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	for b.Loop() {
		ping <- struct{}{}
		<-pong
	}
	close(ping)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/switch")
}

package engine

import (
	"conclab/internal/lab"
	"conclab/internal/runlog"
	"fmt"
	"testing"
	"time"
)

// chanViewer hands batches to a goroutine that drains them, the way a
// websocket connection's writer does.
type chanViewer chan [][]byte

func (c chanViewer) Send(msgs [][]byte) bool {
	select {
	case c <- msgs:
		return true
	default:
		return false
	}
}

// BenchmarkFanout publishes events to a run watched by many viewers; the
// time per op is the hub's cost of one event for all of them.
func BenchmarkFanout(b *testing.B) {
	event := runlog.Event{Type: "points", JSON: []byte(`{"type":"points","chart":"batches","series":"OS threads, same CPU","x":[1,2,3,4,5,6,7,8],"y":[3.9,4.1,3.8,4.0,4.2,3.9,4.0,4.1],"t":120.5,"ts":1795738954758.123}`)}
	for _, n := range []int{1, 300, 1000} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) {
			r := newRun("bench", testExperiment(), lab.Params{}, "k", 20*time.Millisecond, "learner", false)
			done := make(chan struct{})
			for range n {
				v := make(chanViewer, 1024)
				r.viewers[v] = 0
				go func() {
					for {
						select {
						case <-v:
						case <-done:
							return
						}
					}
				}()
			}
			b.ReportAllocs()
			for b.Loop() {
				r.publish(event)
			}
			b.StopTimer()
			close(done)
			if got := r.viewerCount(); got != n {
				b.Fatalf("%d of %d viewers dropped", n-got, n)
			}
		})
	}
}

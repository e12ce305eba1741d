package fleet

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"conclab/internal/engine"
	"conclab/internal/engine/enginetest"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// The coordinator's own cost: many simulated hosts, in a process of their
// own so that this process's CPU time and memory are the server's alone,
// measuring an instant test-only experiment.

const (
	simEnv    = "CONCLAB_FLEET_SIM" // the test binary as N simulated hosts
	simEvents = 8                   // points each instant run sends, besides started, result and done
)

func TestMain(m *testing.M) {
	if n, _ := strconv.Atoi(os.Getenv(simEnv)); n > 0 {
		os.Exit(simulate(n, os.Getenv("SIM_URL"), os.Getenv("SIM_TOKEN")))
	}
	os.Exit(m.Run())
}

// instant measures nothing: it sends its events at once.
func instant(ctx context.Context, exp *lab.Experiment, p lab.Params, emit func(runlog.Event)) runlog.Outcome {
	emit(runlog.Event{Type: protocol.EventStarted, JSON: []byte(`{"type":"started","host":{}}`)})
	for i := range simEvents {
		emit(runlog.Event{Type: protocol.EventPoint, JSON: fmt.Appendf(nil, `{"type":"point","chart":"c","series":"s","x":%d,"y":%d}`, i, i*i)})
	}
	res := []byte(`{"type":"result","metrics":[{"key":"x","name":"x","value":1,"unit":""}],"claims":[]}`)
	emit(runlog.Event{Type: protocol.EventResult, JSON: res})
	emit(runlog.Event{Type: protocol.EventDone, JSON: []byte(`{"type":"done","status":"ok"}`)})
	return runlog.Outcome{Status: protocol.StatusOK, Result: res}
}

// simulate runs n workers measuring instantly until it is killed.
func simulate(n int, url, token string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	reg := lab.NewRegistry()
	reg.Register(enginetest.Experiment())
	var wg sync.WaitGroup
	for i := range n {
		name := fmt.Sprintf("sim-%03d", i)
		nc, err := Dial(ctx, url, token, name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		w := &Worker{Name: name, Registry: reg, Measure: instant, Facts: probe.Host{CPUModel: "simulated", Usable: 1}}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx, nc); nc.Close() }()
	}
	wg.Wait()
	return 0
}

// BenchmarkCoordinator has 100 simulated hosts measure b.N instant runs,
// at most one per host at a time, and reports the dispatch latency (from
// the request to the run's first event at its viewer), the events relayed
// a second, and this process's CPU time and memory per 1,000 runs.
func BenchmarkCoordinator(b *testing.B) {
	const hosts = 100
	c := newCourseWith(b, engine.Config{Queue: 100_000, PerLearner: 100_000})
	sim := exec.Command(os.Args[0], "-test.run=^$")
	sim.Env = append(os.Environ(), simEnv+"="+strconv.Itoa(hosts), "SIM_URL="+c.url, "SIM_TOKEN="+c.token)
	sim.Stderr = os.Stderr
	if err := sim.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Process.Signal(syscall.SIGTERM); sim.Wait() })
	waitFor(b, "the simulated hosts to join", func() bool { return len(c.sched.Hosts()) == hosts })

	var (
		mu    sync.Mutex
		lat   []float64
		next  = make(chan int)
		wg    sync.WaitGroup
		fails int
	)
	before, mem0, relayed0 := probe.ProcessUsage(), rss(), c.coord.Relayed()
	start := time.Now()
	b.ResetTimer()
	for range hosts { // one learner per host: each waits for its run before asking again
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				v := enginetest.NewViewer()
				t0 := time.Now()
				st, err := c.sched.Start(engine.Request{Exp: c.exp, Params: enginetest.Params(b, c.exp, 1+i%64), Learner: fmt.Sprint("l", i), Fresh: true}, v)
				if err != nil {
					mu.Lock()
					fails++
					mu.Unlock()
					continue
				}
				v.WaitFor(b, "the run's first event", enginetest.Of("started", st.Run.ID))
				d := time.Since(t0)
				<-st.Run.Done()
				mu.Lock()
				lat = append(lat, float64(d.Microseconds())/1e3)
				if st.Run.Info().Status != protocol.StatusOK {
					fails++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	wall := time.Since(start)
	used := probe.ProcessUsage().Sub(before)
	if fails > 0 {
		b.Errorf("%d of %d runs did not finish ok", fails, b.N)
	}
	slices.Sort(lat)
	s := lab.Summarize(lat)
	b.ReportMetric(s.P50, "dispatch-p50-ms")
	b.ReportMetric(s.P99, "dispatch-p99-ms")
	b.ReportMetric(float64(c.coord.Relayed()-relayed0)/wall.Seconds(), "events/s")
	b.ReportMetric(used.CPU().Seconds()*1000/float64(b.N)*1000, "cpu-ms/1000runs")
	b.ReportMetric(float64(rss()-mem0)/float64(1<<20)/float64(b.N)*1000, "rss-MB/1000runs")
	b.ReportMetric(float64(b.N)/wall.Seconds(), "runs/s")
}

func rss() int64 {
	st, _ := probe.Self()
	return st.RSS
}

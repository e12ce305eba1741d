package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// ownLoad is `conclab loadtest --students N --own`: every student insists
// on a fresh run of their own (parameters no one else asks for), asking
// again whenever they are offered someone else's run or refused, until
// theirs has finished or the time is up. It reports the own runs finished
// per minute and how many students had theirs within 5 and 10 minutes:
// the course's capacity, which grows with its measuring hosts.
func ownLoad(ctx context.Context, w io.Writer, base *url.URL, n int, exp *lab.Experiment, params lab.Params, limit time.Duration) error {
	fmt.Fprintf(w, "%d students each insist on a run of %s of their own, for at most %s…\n", n, exp.ID, limit)
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	took := make([]time.Duration, n) // 0: not finished in time
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	dials := make(chan struct{}, 64)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := insist(ctx, base, exp, ownVariant(exp, params, i), dials)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && ctx.Err() == nil {
				errs = append(errs, err)
			}
			took[i] = d
		}()
	}
	wg.Wait()
	return ownReport(w, took, time.Since(start), n, errs)
}

// ownVariant is student i's parameters, which no other student asks for:
// i counted in the experiment's integer parameters as digits, the first
// changing fastest, each starting after its base value. (A request
// identical to one waiting or running joins it, so students sharing
// settings would share runs.)
func ownVariant(exp *lab.Experiment, base lab.Params, i int) lab.Params {
	out := maps.Clone(base)
	if out == nil {
		out = lab.Params{}
	}
	for _, prm := range exp.Params {
		if prm.Kind != lab.KindInt || prm.Max <= prm.Min {
			continue
		}
		lo, values := int(prm.Min), int(prm.Max-prm.Min)+1
		out[prm.Name] = lo + (base.Int(prm.Name)-lo+1+i%values)%values
		i /= values
	}
	return out
}

// insist asks for a fresh run of p until one of its own has finished ok,
// and returns how long that took from the first ask.
func insist(ctx context.Context, base *url.URL, exp *lab.Experiment, p lab.Params, dials chan struct{}) (time.Duration, error) {
	dials <- struct{}{}
	cookie, err := learnerCookie(ctx, base)
	var ws *websocket.Conn
	if err == nil {
		ws, _, err = websocket.Dial(ctx, wsURL(base, exp.Lesson), &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}}})
	}
	<-dials
	if err != nil {
		return 0, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 22)
	asked := time.Now()
	ask, _ := json.Marshal(map[string]any{"op": "run", "experiment": exp.ID, "params": p, "fresh": true})
	mine := ""
	if err := ws.Write(ctx, websocket.MessageText, ask); err != nil {
		return 0, err
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return 0, err
		}
		var m struct{ Type, Run, Status string }
		json.Unmarshal(b, &m)
		switch {
		case m.Type == "accepted":
			mine = m.Run
		case m.Type == "offer" || (m.Type == "error" && mine == "") || (m.Type == protocol.EventDone && m.Run == mine && m.Status != protocol.StatusOK):
			// Not a run of one's own: ask again in a while, as a student would.
			mine = ""
			select {
			case <-ctx.Done():
				return 0, nil
			case <-time.After(time.Duration(2000+rand.IntN(3000)) * time.Millisecond):
			}
			if err := ws.Write(ctx, websocket.MessageText, ask); err != nil {
				return 0, err
			}
		case m.Type == protocol.EventDone && m.Run == mine:
			return time.Since(asked), nil
		}
	}
}

func ownReport(w io.Writer, took []time.Duration, wall time.Duration, n int, errs []error) error {
	var done []float64
	within5, within10 := 0, 0
	for _, d := range took {
		if d == 0 {
			continue
		}
		done = append(done, d.Seconds())
		if d <= 5*time.Minute {
			within5++
		}
		if d <= 10*time.Minute {
			within10++
		}
	}
	slices.Sort(done)
	fmt.Fprintf(w, "\nown runs finished: %d of %d in %s: %.1f a minute\n", len(done), n, wall.Round(time.Second), float64(len(done))/wall.Minutes())
	fmt.Fprintf(w, "students who had their own run within 5 minutes: %d of %d; within 10 minutes: %d of %d\n", within5, n, within10, n)
	if len(done) > 0 {
		s := lab.Summarize(done)
		fmt.Fprintf(w, "time to one's own run: p50 %s s · p99 %s s · max %s s\n", format.Number(s.P50), format.Number(s.P99), format.Number(s.Max))
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "%d students' connections failed; the first: %v\n", len(errs), errs[0])
		return &exitError{code: 1, msg: "the class did not go through cleanly"}
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// loadtest opens many websocket viewers on one run of a real server and
// reports how long its events take to reach them, so an instructor can
// check that a server holds their class.
func loadtest(ctx context.Context, reg *lab.Registry, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("loadtest", stderr)
	addr := fs.String("addr", "http://127.0.0.1:8080", "address of a running conclab server")
	viewers := fs.Int("viewers", 100, "websocket viewers to open (0–5000)")
	pages := fs.Int("pages", 0, "before the viewers, request a lesson page this many times a second (0–2000)")
	page := fs.String("page", "/lessons/context-switching", "the page --pages requests")
	duration := fs.Duration("duration", 10*time.Second, "how long --pages runs (1s–5m)")
	expID := fs.String("experiment", "switch-cost", "experiment to run while they watch")
	limit := fs.Duration("timeout", 3*time.Minute, "give up after this long (1s–30m)")
	students := fs.Int("students", 0, "play a class of this many students instead of --viewers (0–1000)")
	key := fs.String("instructor-key", os.Getenv("CONCLAB_INSTRUCTOR_KEY"), "with --students: the server's instructor key")
	lesson := fs.String("lesson", "", "with --students: the lesson page the class is on (default: the experiment's)")
	identical := fs.Float64("identical", 0.5, "with --students: the share of students asking for the instructor's very run (0–1)")
	drop := fs.Float64("drop", 0.1, "with --students: the share of students who drop their connection and come back (0–1)")
	own := fs.Bool("own", false, "with --students: every student insists on a fresh run of their own until it has finished or --timeout is up; reports the own runs finished a minute")
	var sets setFlags
	fs.Var(&sets, "set", "experiment parameter name=value (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *students < 0 || *students > 1000 {
		return usageError("--students must be 0–1000, got %d", *students)
	}
	if *identical < 0 || *identical > 1 || *drop < 0 || *drop > 1 {
		return usageError("--identical and --drop are shares from 0 to 1, got %v and %v", *identical, *drop)
	}
	if *students > 0 {
		*viewers = 0
	}
	if *viewers < 0 || *viewers > 5000 {
		return usageError("--viewers must be 0–5000, got %d", *viewers)
	}
	if *pages < 0 || *pages > 2000 {
		return usageError("--pages must be 0–2000 requests a second, got %d", *pages)
	}
	if *duration < time.Second || *duration > 5*time.Minute {
		return usageError("--duration must be 1s–5m, got %s", *duration)
	}
	if *viewers == 0 && *pages == 0 && *students == 0 {
		return usageError("nothing to do: give --viewers, --students or --pages")
	}
	if *limit < time.Second || *limit > 30*time.Minute {
		return usageError("--timeout must be 1s–30m, got %s", *limit)
	}
	base, err := url.Parse(strings.TrimSuffix(*addr, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return usageError("--addr must be a URL like http://127.0.0.1:8080, got %q", *addr)
	}
	exp, ok := reg.Lookup(*expID)
	if !ok {
		return usageError("unknown experiment %q; `conclab list` shows them", *expID)
	}
	params, err := exp.Validate(sets.values(), false)
	if err != nil {
		return usageError("%v", err)
	}

	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	before, err := serverStats(ctx, base)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("cannot reach %s: %v", base, err)}
	}
	if *pages > 0 {
		fmt.Fprintf(stdout, "Requesting %s %d times a second for %s…\n", *page, *pages, *duration)
		if err := pageLoad(ctx, stdout, base.String()+*page, *pages, *duration); err != nil {
			return err
		}
		if *viewers == 0 && *students == 0 {
			return nil
		}
	}
	if *students > 0 && *own {
		return ownLoad(ctx, stdout, base, *students, exp, params, *limit)
	}
	if *students > 0 {
		if *lesson == "" {
			*lesson = exp.Lesson
		}
		return classLoad(ctx, stdout, &classPlan{base: base, students: *students, key: *key, lesson: *lesson,
			exp: exp, params: params, identical: *identical, drop: *drop})
	}
	return viewersLoad(ctx, stdout, base, *viewers, exp, params, before)
}

// viewersLoad opens n viewers on one fresh run of exp and reports how
// fast its events reached them.
func viewersLoad(ctx context.Context, stdout io.Writer, base *url.URL, n int, exp *lab.Experiment, params lab.Params, before stats) error {
	fmt.Fprintf(stdout, "Opening %d viewers on %s and running %s…\n", n, base, exp.ID)

	wsURL := *base
	wsURL.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	wsURL.Path = "/ws"
	// fresh: a load test measures a run it watches live, never the replay
	// of a recent one.
	req, _ := json.Marshal(map[string]any{"op": "run", "experiment": exp.ID, "params": params, "fresh": true})

	results := make([]viewerResult, n)
	var wg sync.WaitGroup
	dials := make(chan struct{}, 64) // at most this many handshakes at once
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dials <- struct{}{}
			cookie, err := learnerCookie(ctx, base)
			if err != nil {
				<-dials
				results[i] = viewerResult{err: err}
				return
			}
			results[i] = watchOnce(ctx, wsURL.String(), cookie, req, dials)
		}()
	}
	wg.Wait()
	after, _ := serverStats(context.Background(), base)
	return report(stdout, results, before, after)
}

// viewerResult is what one viewer saw.
type viewerResult struct {
	err        error
	status     string
	metrics    []lab.Metric // what the run measured while it was watched
	delays     []float64    // ms from the child's event to this viewer, live events only
	firstEvent float64      // ms from "accepted" to the run's first event, when it started after we joined
}

// watchOnce asks for the run (joining it when others already did) and
// reads its events until done. Events that existed before this viewer
// joined arrive as a replay and are not counted.
func watchOnce(ctx context.Context, u, cookie string, req []byte, dials chan struct{}) viewerResult {
	var res viewerResult
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}}})
	<-dials
	if err != nil {
		res.err = err
		return res
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	if err := c.Write(ctx, websocket.MessageText, req); err != nil {
		res.err = err
		return res
	}
	// The load generator shares the server's CPUs, so it reads lightly: one
	// timer for the whole connection rather than one per read, and a full
	// decode only of the few messages whose body it needs.
	stop := context.AfterFunc(ctx, func() { c.CloseNow() })
	defer stop()
	var acceptedAt float64
	for {
		_, b, err := c.Read(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			res.err = err
			return res
		}
		now := float64(time.Now().UnixMicro()) / 1e3
		var m struct {
			Type    string       `json:"type"`
			TS      float64      `json:"ts"`
			Status  string       `json:"status"`
			Message string       `json:"message"`
			Metrics []lab.Metric `json:"metrics"`
		}
		if typ, ts, ok := scanEvent(b); ok && typ != "error" && typ != "accepted" && typ != protocol.EventResult && typ != protocol.EventDone {
			m.Type, m.TS = typ, ts
		} else {
			json.Unmarshal(b, &m)
		}
		switch {
		case m.Type == "error":
			res.err = errors.New(m.Message)
			return res
		case m.Type == "accepted":
			acceptedAt = now
		case m.TS > 0 && m.TS >= acceptedAt && acceptedAt > 0:
			res.delays = append(res.delays, now-m.TS)
			if m.Type == protocol.EventStarted {
				res.firstEvent = now - acceptedAt
			}
		}
		if m.Type == protocol.EventResult {
			res.metrics = m.Metrics
		}
		if m.Type == protocol.EventDone {
			res.status = m.Status
			c.Close(websocket.StatusNormalClosure, "")
			return res
		}
	}
}

func report(w io.Writer, results []viewerResult, before, after stats) error {
	var delays, firsts []float64
	failed, notOK := 0, 0
	var firstErr error
	for _, r := range results {
		if r.err != nil {
			failed++
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		if r.status != protocol.StatusOK {
			notOK++
		}
		delays = append(delays, r.delays...)
		if r.firstEvent > 0 {
			firsts = append(firsts, r.firstEvent)
		}
	}
	fmt.Fprintf(w, "\nviewers: %d finished, %d failed", len(results)-failed, failed)
	if firstErr != nil {
		fmt.Fprintf(w, " (first error: %v)", firstErr)
	}
	fmt.Fprintln(w)
	if notOK > 0 {
		fmt.Fprintf(w, "%d viewers saw the run end other than ok\n", notOK)
	}
	if len(delays) > 0 {
		s := lab.Summarize(delays)
		fmt.Fprintf(w, "delivery delay, child event → viewer (%d events): p50 %.1f ms · p99 %.1f ms · max %.1f ms\n", s.N, s.P50, s.P99, s.Max)
	}
	if len(firsts) > 0 {
		s := lab.Summarize(firsts)
		fmt.Fprintf(w, "first event after the run was accepted (%d viewers): p50 %.1f ms · max %.1f ms\n", s.N, s.P50, s.Max)
	}
	for _, r := range results {
		if len(r.metrics) > 0 {
			fmt.Fprintln(w, "the run measured, while watched:")
			for _, m := range r.metrics {
				fmt.Fprintf(w, "  %s: %s\n", m.Name, format.Figure(m.Value, m.Unit))
			}
			break
		}
	}
	fmt.Fprintf(w, "server memory (RSS): %.1f MB before, %.1f MB after; peak %.1f MB\n", mb(before.RSS), mb(after.RSS), mb(max(after.Peak, after.RSS)))
	if failed > 0 || len(delays) == 0 {
		return &exitError{code: 1, msg: "the load test did not complete"}
	}
	return nil
}

// pageLoad requests url at a fixed rate (open loop: a slow answer does not
// slow the next request down) and reports the latency distribution.
func pageLoad(ctx context.Context, w io.Writer, url string, rate int, d time.Duration) error {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var (
		mu    sync.Mutex
		lat   []float64
		fails int
		wg    sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.After(d)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				ms := float64(time.Since(t).Microseconds()) / 1e3
				mu.Lock()
				defer mu.Unlock()
				if ok {
					lat = append(lat, ms)
				} else {
					fails++
				}
			}()
		}
	}
	wg.Wait()
	if len(lat) == 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("no page request succeeded (%d failed)", fails)}
	}
	s := lab.Summarize(lat)
	fmt.Fprintf(w, "page latency (%d requests, %d failed, %.0f a second): p50 %.2f ms · p99 %.2f ms · max %.1f ms\n\n",
		s.N, fails, float64(s.N+fails)/d.Seconds(), s.P50, s.P99, s.Max)
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// learnerCookie opens the course's front page as a new browser would and
// returns the learner cookie it is given, as a Cookie header.
func learnerCookie(ctx context.Context, base *url.URL) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var parts []string
	for _, c := range resp.Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		return "", errors.New("the server gave no learner cookie")
	}
	return strings.Join(parts, "; "), nil
}

// stats is what loadtest reads from /api/stats.
type stats struct {
	RSS  int64 `json:"rss_bytes"`
	Peak int64 `json:"peak_rss_bytes"`
}

func serverStats(ctx context.Context, base *url.URL) (stats, error) {
	var s stats
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+"/api/stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return s, fmt.Errorf("/api/stats answered %s", resp.Status)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// setFlags collects repeated --set name=value flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, " ") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func (s setFlags) values() map[string]any {
	out := map[string]any{}
	for _, kv := range s {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

// scanEvent reads an event's type and ts without decoding it: the server
// writes "type" first (protocol.Encode, or the experiment's emitter) and
// "ts" as a plain number.
func scanEvent(b []byte) (typ string, ts float64, ok bool) {
	i := bytes.Index(b, []byte(`"type":"`))
	if i < 0 {
		return "", 0, false
	}
	rest := b[i+8:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", 0, false
	}
	typ = string(rest[:j])
	k := bytes.LastIndex(b, []byte(`"ts":`))
	if k < 0 {
		return typ, 0, true
	}
	num := b[k+5:]
	end := bytes.IndexAny(num, ",}")
	if end < 0 {
		return "", 0, false
	}
	ts, err := strconv.ParseFloat(string(num[:end]), 64)
	return typ, ts, err == nil
}

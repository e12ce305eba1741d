package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"conclab/internal/app"
	"conclab/internal/course"
	"conclab/internal/engine"
	"conclab/internal/runner"
	"conclab/internal/store"
)

func serve(ctx context.Context, c *course.Course, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on; anything but loopback lets others start experiments here")
	parallel := fs.Int("parallel-runs", 1, "runs that may measure at the same time (1 keeps them from disturbing each other)")
	queue := fs.Int("queue", 32, "runs that may wait for their turn; past it, new runs are refused")
	origins := fs.String("allow-origin", "", "comma-separated extra hosts whose pages may open the websocket (behind a proxy)")
	key := fs.String("instructor-key", os.Getenv("CONCLAB_INSTRUCTOR_KEY"), "the instructor's key (default $CONCLAB_INSTRUCTOR_KEY, else a random one printed at start)")
	data := dataFlag(fs)
	keep := fs.Int("keep-runs", 1000, "runs the store keeps; past it, the oldest are pruned")
	hf := hostFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fo, err := hf.options()
	if err != nil {
		return err
	}
	if *parallel < 1 || *parallel > 16 {
		return usageError("--parallel-runs must be 1–16, got %d", *parallel)
	}
	if *queue < 1 || *queue > 1000 {
		return usageError("--queue must be 1–1000, got %d", *queue)
	}
	if *keep < 1 || *keep > 1_000_000 {
		return usageError("--keep-runs must be 1–1000000, got %d", *keep)
	}
	if *key != "" {
		if err := app.CheckKey(*key); err != nil {
			return usageError("--instructor-key: %v", err)
		}
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := runner.BecomeSubreaper(); err != nil {
		log.Warn("cannot adopt orphaned experiment processes", "err", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return usageError("cannot listen on %s: the address is in use (is another conclab running?); choose another with --addr, e.g. --addr 127.0.0.1:8081", *addr)
		}
		return usageError("cannot listen on %s: %v", *addr, err)
	}
	st := openServeStore(c, *data, *keep, log)
	opts := app.Options{Course: c, Scheduler: engine.Config{Queue: *queue}, Parallel: *parallel, Log: log, InstructorKey: *key, Store: st,
		ElsewhereOnly: !hf.here}
	if *origins != "" {
		opts.OriginPatterns = strings.Split(*origins, ",")
	}
	a := app.New(opts)
	if st.Health().Saving {
		fo.DataDir = *data
	}
	fl, err := a.OpenFleet(fo)
	if err != nil {
		a.Close()
		ln.Close()
		return &exitError{code: 1, msg: "cannot open the course to measuring hosts: " + err.Error()}
	}
	hs := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	url := "http://" + displayAddr(ln.Addr())
	if !isLoopback(ln.Addr()) {
		fmt.Fprintf(stderr, "\n  WARNING: listening on %s, not only on this machine's loopback.\n"+
			"  Anyone who can reach this port can open the course and start experiments that load this machine's CPUs.\n"+
			"  Runs are queued and bounded, but only do this on a network you trust (a classroom), or behind a proxy.\n\n", ln.Addr())
	}
	fmt.Fprintf(stdout, "Concurrency Lab is running at %s/\nOpen it in a browser. Press Ctrl+C to stop.\n", url)
	// The one place the key is shown: it is never logged.
	fmt.Fprintf(stdout, "Instructor link (keep it to yourself): %s/class?key=%s\n", url, a.InstructorKey)
	hf.announce(stdout, stderr, fl, fo)
	switch h := st.Health(); {
	case h.Saving:
		fmt.Fprintf(stdout, "Runs are kept in %s (choose with --data DIR; --data \"\" keeps them in memory only).\n", st.Where())
	default:
		fmt.Fprintf(stdout, "Runs are not being saved: %s.\n", h.Reason)
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		a.Close()
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "Stopping: cancelling runs and closing connections…")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(shutdown)
	a.Close() // kills every run's processes
	return nil
}

// openServeStore opens the run store of a server. One that cannot be
// opened never stops the course: the server keeps its runs in memory, and
// says on every page and in the log why they are not saved.
func openServeStore(c *course.Course, dir string, keep int, log *slog.Logger) *store.Store {
	o := store.Options{Dir: dir, Serve: true, Keep: keep, Log: log, LessonOf: app.LessonOf(c)}
	if dir == "" {
		return store.Memory(o)
	}
	st, err := store.Open(o)
	if err != nil {
		log.Warn("runs are not being saved", "data", dir, "err", err)
		return store.NotSaving(o, err)
	}
	return st
}

// isLoopback reports whether the listener only accepts this machine.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// displayAddr is an address to type into a browser.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return tcp.AddrPort().String()
}

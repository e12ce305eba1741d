package processesvsthreads

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"conclab/internal/lab"
	"conclab/internal/probe"
)

// heldProcs are processes kept alive until release, so their memory can be
// read while all of them exist at once.
type heldProcs struct {
	cmds    []*exec.Cmd
	release io.Closer // closing it lets the workers exit
	kill    bool      // they do not wait for release: kill them
}

// holdWorker is the worker of memory-footprint: say it is ready, then
// wait for its standard input to close, doing nothing.
func holdWorker([]string) int {
	if _, err := os.Stdout.Write([]byte("ready\n")); err != nil {
		return 1
	}
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// startHeld starts this program as a "hold" worker and waits until it has
// started up.
func (h *heldProcs) startHeld(ctx context.Context, stdin *os.File) (int, error) {
	cmd, err := lab.Worker(ctx, "memory-footprint", "hold")
	if err != nil {
		return 0, err
	}
	cmd.Stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := lab.Start(cmd); err != nil {
		return 0, err
	}
	h.cmds = append(h.cmds, cmd)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		return 0, fmt.Errorf("worker %d did not start: %v", cmd.Process.Pid, err)
	}
	return cmd.Process.Pid, nil
}

// startSleep starts /bin/sleep (a small C program) and waits until it is
// asleep, which means its dynamic loader and C library have finished
// setting it up. Nothing announces that, so its state is polled.
func (h *heldProcs) startSleep(ctx context.Context, path string) (int, error) {
	cmd := exec.CommandContext(ctx, path, "600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := lab.Start(cmd); err != nil {
		return 0, err
	}
	h.cmds = append(h.cmds, cmd)
	pid := cmd.Process.Pid
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if procState(pid) == "S" {
			return pid, nil
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("sleep %d did not go to sleep", pid)
}

// procState is the one-letter state of a process from /proc/<pid>/stat
// (R running, S sleeping, Z zombie), or "" when it cannot be read.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

// stop ends every held process and waits for it.
func (h *heldProcs) stop() {
	if h.release != nil {
		h.release.Close()
		h.release = nil
	}
	if h.kill {
		for _, c := range h.cmds {
			c.Process.Kill()
		}
	}
	for _, c := range h.cmds {
		c.Wait()
	}
	h.cmds = nil
}

// procMemory measures n processes held alive at once: start them one by
// one (drawing the total of their own memory as it grows), then read each
// one's memory with all of them alive. It returns their memory and PIDs.
func procMemory(ctx context.Context, out *lab.Emitter, label string, n int, start func() (int, error)) ([]probe.Memory, []int, error) {
	s := out.Series("growth", label)
	gauge := lab.NewThrottle(lab.LiveEvery)
	pids := make([]int, 0, n)
	var own float64
	for i := range n {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		// snippet:memory-procs
		pid, err := start() // one more copy of this program, kept alive
		if err != nil {
			return nil, nil, err
		}
		pids = append(pids, pid)
		m, err := probe.ProcessMemory(pid) // its /proc/PID/smaps_rollup: resident, fair share, own
		if err != nil {
			return nil, nil, fmt.Errorf("reading the memory of process %d: %w", pid, err)
		}
		own += float64(m.Private) // pages no other process shares
		// end snippet
		if own > 0 { // nothing to draw on a log axis
			s.Add(float64(i+1), own/(1<<20))
		}
		if gauge.Due() {
			out.Gauge(label+" alive", float64(i+1), "")
		}
	}
	s.Flush()
	out.Gauge(label+" alive", float64(n), "")
	mems := make([]probe.Memory, 0, n)
	for _, pid := range pids {
		m, err := probe.ProcessMemory(pid)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the memory of process %d: %w", pid, err)
		}
		mems = append(mems, m)
	}
	return mems, pids, nil
}

// procSummary is what N processes held alive measured.
type procSummary struct {
	rss, pss, private, tables, threads lab.Summary
	distinct                           int // distinct PIDs among them
}

func summarizeProcs(mems []probe.Memory, pids []int) procSummary {
	var rss, pss, priv, tab, thr []float64
	for _, m := range mems {
		rss = append(rss, float64(m.RSS))
		pss = append(pss, float64(m.PSS))
		priv = append(priv, float64(m.Private))
		tab = append(tab, float64(m.PageTables))
		thr = append(thr, float64(m.Threads))
	}
	distinct := map[int]bool{}
	for _, pid := range pids {
		distinct[pid] = true
	}
	return procSummary{rss: lab.Summarize(rss), pss: lab.Summarize(pss), private: lab.Summarize(priv),
		tables: lab.Summarize(tab), threads: lab.Summarize(thr), distinct: len(distinct)}
}

func (s procSummary) row(kind string, n int) map[string]any {
	return map[string]any{
		"kind": kind, "alive": n, "ids": s.distinct,
		"resident": fmt.Sprintf("%s (own %s, fair share %s)", human(s.rss.P50), human(s.private.P50), human(s.pss.P50)),
		"reserved": "–",
		"note":     fmt.Sprintf("/proc/<pid>/smaps_rollup of each, all alive; medians; %.0f threads each", s.threads.P50),
	}
}

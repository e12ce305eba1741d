// Package e2e drives a real headless Chromium for end-to-end tests; the
// tests serve the course themselves (internal/app). Tests skip when no
// browser is installed, unless CONCLAB_REQUIRE_BROWSER=1 (set by .ci/run)
// makes that a failure. It knows nothing about the course.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"conclab/internal/probe"
)

// FindBrowser returns the path of Chromium, or "" when there is none.
func FindBrowser() string {
	if p := os.Getenv("CONCLAB_BROWSER"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a headless Chromium tab that records console errors.
type Browser struct {
	Ctx    context.Context
	mu     sync.Mutex
	errors []string
	acct   string // the file of the browser's cgroup that counts its CPU time, once Account has made one
}

// NewBrowser starts Chromium with a fresh profile, or skips the test when
// none is installed (fails instead under CONCLAB_REQUIRE_BROWSER=1).
func NewBrowser(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	path := FindBrowser()
	if path == "" {
		if os.Getenv("CONCLAB_REQUIRE_BROWSER") == "1" {
			t.Fatal("no Chromium found, and CONCLAB_REQUIRE_BROWSER=1: install Debian's chromium package")
		}
		t.Skip("no Chromium found; install Debian's chromium package to run the browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these, Chromium floods a closed network with requests.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })

	return watch(t, ctx)
}

// NewTab opens another tab in the same browser, as a second person on the
// course would.
func (b *Browser) NewTab(t testing.TB) *Browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.Ctx)
	t.Cleanup(cancel)
	return watch(t, ctx)
}

// watch opens the tab of ctx and records its console errors.
func watch(t testing.TB, ctx context.Context) *Browser {
	t.Helper()
	b := &Browser{Ctx: ctx}
	if err := chromedp.Listen(ctx, b.record); err != nil {
		t.Fatalf("start browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable log: %v", err)
	}
	return b
}

func (b *Browser) record(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg = "exception: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, string(a.Value)+a.Description)
		}
		msg = "console.error: " + strings.Join(parts, " ")
	case *cdplog.EventEntryAdded:
		if e.Entry.Level != cdplog.EntryLevelError {
			return
		}
		msg = fmt.Sprintf("log %s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.errors = append(b.errors, msg)
	b.mu.Unlock()
}

// Errors returns the console errors and uncaught exceptions seen so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// NoErrors fails the test if the page logged any error.
func (b *Browser) NoErrors(t testing.TB) {
	t.Helper()
	for _, e := range b.Errors() {
		t.Errorf("browser console: %s", e)
	}
}

// Do runs actions, failing the test on error.
func (b *Browser) Do(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		t.Fatalf("browser: %v (console: %v)", err, b.Errors())
	}
}

// Eval evaluates a JavaScript expression and decodes its result.
func Eval[T any](t testing.TB, b *Browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// WaitFor polls a JavaScript condition until it is true or the browser's
// time runs out. chromedp's own 30-second polling limit is turned off:
// the timeout given to NewBrowser is the one that counts, and a run on a
// busy machine may need longer than 30 seconds. A page that navigates
// while it is polled (as a follower does when the instructor presents
// another lesson) is polled again on its new page.
func (b *Browser) WaitFor(t testing.TB, what, cond string) {
	t.Helper()
	for {
		_, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
		if err == nil {
			return
		}
		if b.Ctx.Err() == nil && navigated(err) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		t.Fatalf("waiting for %s (%s): %v (console: %v)", what, cond, err, b.Errors())
	}
}

// navigated reports whether err says the page went away under a script:
// it navigated, or its execution context was replaced.
func navigated(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "navigated or closed") || strings.Contains(msg, "context was destroyed") || strings.Contains(msg, "Cannot find context")
}

// Unwatched turns off, until the function it returns is called, what
// DevTools tracks of the tab beyond scripts and the console: chromedp
// keeps a copy of the page's DOM (every change to the page is sent to it,
// with the nodes it adds), of its style sheets, and of its network
// traffic (every websocket message, whole). A learner's browser does none
// of that, so a measurement of what a page costs is made without it; only
// Eval works meanwhile (no chromedp queries or clicks).
func (b *Browser) Unwatched(t testing.TB) (rewatch func()) {
	t.Helper()
	// Each domain with how to turn it off and on again.
	domains := []struct {
		name    string
		off, on func() error
	}{
		{"network", func() error { _, err := chromedp.Call(b.Ctx, network.Disable, cdp.Empty{}); return err },
			func() error { _, err := chromedp.Call(b.Ctx, network.Enable, network.EnableParams{}); return err }},
		{"dom", func() error { _, err := chromedp.Call(b.Ctx, dom.Disable, cdp.Empty{}); return err },
			func() error { _, err := chromedp.Call(b.Ctx, dom.Enable, dom.EnableParams{}); return err }},
		{"css", func() error { _, err := chromedp.Call(b.Ctx, css.Disable, cdp.Empty{}); return err },
			func() error { _, err := chromedp.Call(b.Ctx, css.Enable, cdp.Empty{}); return err }},
	}
	// CSS is turned off before DOM and on after it, as chromedp turned them on.
	for i := len(domains) - 1; i >= 0; i-- {
		if err := domains[i].off(); err != nil {
			t.Fatalf("turning DevTools' %s tracking off: %v", domains[i].name, err)
		}
	}
	return func() {
		t.Helper()
		for _, d := range domains {
			if err := d.on(); err != nil {
				t.Fatalf("turning DevTools' %s tracking on again: %v", d.name, err)
			}
		}
	}
}

// SlowFrames makes every page the tab opens from now on draw a frame only
// every ms milliseconds, as a busy machine's browser does: whatever a page
// leaves for the next animation frame lags behind by that much.
func (b *Browser) SlowFrames(t testing.TB, ms int) {
	t.Helper()
	src := fmt.Sprintf(`window.requestAnimationFrame = (f) => setTimeout(() => f(performance.now()), %d);
window.cancelAnimationFrame = (id) => clearTimeout(id);`, ms)
	if _, err := chromedp.Call(b.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatalf("slow frames: %v", err)
	}
}

// NewPerson opens a tab in a browser context of its own — its own cookies
// and storage — as another person on another computer would: a second
// learner, or the instructor.
func (b *Browser) NewPerson(t testing.TB) *Browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.Ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return watch(t, ctx)
}

// CPU is the CPU time Chromium has used so far: its browser process and
// every process under it (the renderers that run the pages, the GPU and
// utility processes), from /proc. Two readings around a stretch of time
// say how much of a CPU the browser took meanwhile.
func (b *Browser) CPU(t testing.TB) time.Duration {
	t.Helper()
	d, err := b.ReadCPU()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ReadCPU is CPU without a test to fail, for a goroutine that samples it.
func (b *Browser) ReadCPU() (time.Duration, error) {
	if b.acct != "" {
		return cgroupCPU(b.acct)
	}
	pid, err := b.pid()
	if err != nil {
		return 0, err
	}
	d, err := probe.TreeCPU(pid)
	if err != nil {
		return 0, fmt.Errorf("reading the browser's CPU time: %w", err)
	}
	return d, nil
}

func (b *Browser) pid() (int, error) {
	c := chromedp.FromContext(b.Ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return 0, errors.New("the browser's process is not known")
	}
	return c.Browser.Process().Pid, nil
}

// Account puts the browser and every process under it in a cgroup of
// their own, which counts their CPU time to the nanosecond, where the test
// may make one (as root, with cgroup v1's cpuacct or cgroup v2); the
// processes Chromium starts later are born in it. CPU then reads the
// cgroup: /proc counts in ticks of 10 ms per process, too coarse for a
// share of a few per cent over a few seconds. It reports why it could
// not; CPU then reads /proc. The processes go back when the test ends.
func (b *Browser) Account(t testing.TB) error {
	t.Helper()
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	var parent, usage string
	switch {
	case FileExists("/sys/fs/cgroup/cpuacct/cpuacct.usage"):
		parent, usage = "/sys/fs/cgroup/cpuacct", "cpuacct.usage"
	case FileExists("/sys/fs/cgroup/cgroup.controllers"):
		own, err := OwnCgroupV2()
		if err != nil {
			return err
		}
		parent, usage = own, "cpu.stat"
	default:
		return errors.New("no cgroup v1 cpuacct controller and no cgroup v2")
	}
	dir := filepath.Join(parent, fmt.Sprintf("conclab-browser-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	t.Cleanup(func() {
		procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, pid := range strings.Fields(string(procs)) {
			os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte(pid), 0o644)
		}
		os.Remove(dir)
	})
	root, err := b.pid()
	if err != nil {
		return err
	}
	pids, err := probe.TreePIDs(root)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("moving process %d: %w", pid, err)
		}
	}
	b.acct = filepath.Join(dir, usage)
	return nil
}

// cgroupCPU reads a cgroup's CPU time: cpuacct.usage (ns) or cpu.stat's usage_usec.
func cgroupCPU(file string) (time.Duration, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	if filepath.Base(file) == "cpuacct.usage" {
		ns, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		return time.Duration(ns), err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			us, err := strconv.ParseInt(v, 10, 64)
			return time.Duration(us) * time.Microsecond, err
		}
	}
	return 0, fmt.Errorf("%s has no usage_usec", file)
}

// OwnCgroupV2 is the directory of the cgroup (v2) this process is in.
func OwnCgroupV2() (string, error) {
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	return filepath.Join("/sys/fs/cgroup", strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(own)), "0::"))), nil
}

// FileExists reports whether path names something that exists.
func FileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

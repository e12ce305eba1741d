package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Several measuring hosts, for real: `conclab serve` and `conclab worker`
// in processes of their own, joined over NATS on loopback, and — where
// this machine can make network namespaces (root, iproute2) — a worker on
// a host of its own behind a veth link that the test cuts.

// classCourse is `conclab serve` that measures only on the hosts that join it.
type classCourse struct {
	*server
	join, token string
}

func startCourse(t *testing.T, listen string, args ...string) *classCourse {
	t.Helper()
	c := &classCourse{server: &server{}}
	c.cmd = serveProcess(t, append([]string{"--worker-listen", listen, "--measure-here=false"}, args...), func(line string) bool {
		if u, ok := strings.CutPrefix(line, "Concurrency Lab is running at "); ok {
			c.url = strings.TrimSuffix(u, "/")
		}
		if cmdline, ok := strings.CutPrefix(line, "Measuring hosts join with: conclab worker "); ok {
			f := strings.Fields(cmdline) // --join URL --token TOKEN
			c.join, c.token = f[1], f[3]
		}
		return c.url != "" && c.join != ""
	})
	return c
}

// startWorker starts `conclab worker` named name, inside a network
// namespace when netns is not "".
func (c *classCourse) startWorker(t *testing.T, name, netns string) *exec.Cmd {
	t.Helper()
	argv := []string{os.Args[0], "worker", "--join", c.join, "--token", c.token, "--name", name}
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.Stdout, cmd.Stderr = testLog{t}, testLog{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c.waitHost(t, name, "idle", "measuring")
	return cmd
}

// hostInfo is a host as /api/hosts lists it.
type hostInfo struct {
	Name  string `json:"name"`
	State string `json:"state"`
	Run   string `json:"run"`
	Runs  int    `json:"runs"`
}

func (c *classCourse) hosts(t *testing.T) map[string]hostInfo {
	t.Helper()
	code, b := body(t, c.url+"/api/hosts")
	var list []hostInfo
	if code != 200 || json.Unmarshal([]byte(b), &list) != nil {
		t.Fatalf("GET /api/hosts: %d %s", code, b)
	}
	out := map[string]hostInfo{}
	for _, h := range list {
		out[h.Name] = h
	}
	return out
}

func (c *classCourse) waitHost(t *testing.T, name string, states ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if h, ok := c.hosts(t)[name]; ok && slicesContains(states, h.State) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the host %s was not %v in time: %+v", name, states, c.hosts(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// page is a page's websocket to the course.
type page struct {
	ws  *websocket.Conn
	ctx context.Context
	t   *testing.T
}

func (c *classCourse) page(t *testing.T) *page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.url, "http")+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookieOf(t, c.url)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	ws.SetReadLimit(1 << 22)
	return &page{ws: ws, ctx: ctx, t: t}
}

func (l *page) send(m map[string]any) {
	b, _ := json.Marshal(m)
	if err := l.ws.Write(l.ctx, websocket.MessageText, b); err != nil {
		l.t.Fatal(err)
	}
}

// next reads until a message matches.
func (l *page) next(what string, ok func(m map[string]any) bool) map[string]any {
	l.t.Helper()
	for {
		_, b, err := l.ws.Read(l.ctx)
		if err != nil {
			l.t.Fatalf("waiting for %s: %v", what, err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		if ok(m) {
			return m
		}
	}
}

func of(typ, run string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == typ && (run == "" || m["run"] == run) }
}

// storedEvents is how many events the course keeps of a run.
func (c *classCourse) storedEvents(t *testing.T, run string) int {
	t.Helper()
	_, b := body(t, c.url+"/runs/"+run+".json")
	return strings.Count(strings.TrimSpace(b), "\n") + 1
}

// childrenOf lists the processes whose environment names host as the
// measuring host: the experiments a worker started.
func childrenOf(host string) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(d + "/environ")
		if err != nil || !strings.Contains(string(env), "CONCLAB_HOST_NAME="+host+"\x00") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		out = append(out, pid)
	}
	return out
}

// A slow run, long enough to be cut in the middle.
var slowRun = map[string]any{"op": "run", "experiment": "switch-cost", "params": map[string]any{}, "fresh": true}

// A worker killed with SIGKILL in the middle of a run: within 15 s the run
// ends interrupted, naming the host and keeping what it delivered, and
// none of its processes is left; the learner still watching gets the run
// measured again on the other host, once.
func TestAKilledWorkerLosesNothing(t *testing.T) {
	c := startCourse(t, "127.0.0.1:0", "--data", t.TempDir())
	a := c.startWorker(t, "host-a", "")
	l := c.page(t)
	l.send(slowRun)
	run := l.next("accepted", of("accepted", ""))["run"].(string)
	l.next("the run to start on host-a", of("started", run))
	a.Process.Kill()
	killed := time.Now()
	done := l.next("the run to end", of("done", run))
	if took := time.Since(killed); took > 15*time.Second {
		t.Errorf("the run ended %s after its host died, want within 15 s", took)
	}
	if done["status"] != "interrupted" || !strings.Contains(done["error"].(string), "host-a") {
		t.Errorf("the run ended %v: %v; want interrupted, naming host-a", done["status"], done["error"])
	}
	for deadline := time.Now().Add(5 * time.Second); len(childrenOf("host-a")) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the dead host's experiment processes are left: %v", childrenOf("host-a"))
			break
		}
	}
	again := l.next("the run asked for again", func(m map[string]any) bool { return m["type"] == "accepted" && m["retry_of"] == run })
	c.startWorker(t, "host-b", "")
	second := again["run"].(string)
	started := l.next("the retry to start", of("started", second))
	if h := started["host"].(map[string]any)["name"]; h != "host-b" {
		t.Errorf("the retry ran on %v, want host-b", h)
	}
	l.send(map[string]any{"op": "cancel", "run": second})
	l.next("the retry to end", of("done", second))
	if n := c.storedEvents(t, run); n < 2 {
		t.Errorf("the interrupted run kept %d events, want what it delivered and its done", n)
	}
}

// netns is a network namespace with one end of a veth link; the course
// listens on the other end.
type netns struct {
	name, hostIf string
	hostIP, nsIP string
}

// newNetns makes a namespace joined to this one by veth, or skips the test
// when this machine cannot (not root, no ip).
func newNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("network namespaces need ip (Debian: iproute2)")
	}
	n := rand.IntN(200) + 20
	ns := &netns{name: fmt.Sprintf("conclab-t%d", n), hostIf: fmt.Sprintf("clv%dh", n),
		hostIP: fmt.Sprintf("10.213.%d.1", n), nsIP: fmt.Sprintf("10.213.%d.2", n)}
	nsIf := fmt.Sprintf("clv%dn", n)
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	t.Cleanup(func() {
		ip("link", "del", ns.hostIf)
		ip("netns", "del", ns.name)
	})
	for _, step := range [][]string{
		{"netns", "add", ns.name},
		{"link", "add", ns.hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", ns.name},
		{"addr", "add", ns.hostIP + "/30", "dev", ns.hostIf},
		{"link", "set", ns.hostIf, "up"},
		{"-n", ns.name, "addr", "add", ns.nsIP + "/30", "dev", nsIf},
		{"-n", ns.name, "link", "set", nsIf, "up"},
		{"-n", ns.name, "link", "set", "lo", "up"},
	} {
		if err := ip(step...); err != nil {
			t.Skipf("cannot make a network namespace here: %v", err)
		}
	}
	return ns
}

func (ns *netns) link(t *testing.T, up bool) {
	t.Helper()
	state := map[bool]string{true: "up", false: "down"}[up]
	if out, err := exec.Command("ip", "link", "set", ns.hostIf, state).CombinedOutput(); err != nil {
		t.Fatalf("ip link set %s %s: %v: %s", ns.hostIf, state, err, out)
	}
}

// A host on a network of its own, cut off mid-run (its link set down):
// the run ends interrupted within 15 s. When the link comes back the host
// rejoins, and what it sends of the run the course gave up on is not
// delivered a second time. Then the host dies mid-run, across the same
// network: again interrupted, nothing left.
func TestAHostCutOffAndBack(t *testing.T) {
	ns := newNetns(t)
	c := startCourse(t, ns.hostIP+":0")
	c.startWorker(t, "far", ns.name)
	l := c.page(t)
	l.send(slowRun)
	run := l.next("accepted", of("accepted", ""))["run"].(string)
	l.next("the run to start on the far host", of("started", run))
	ns.link(t, false)
	cut := time.Now()
	done := l.next("the run to end", of("done", run))
	if took := time.Since(cut); took > 15*time.Second {
		t.Errorf("the run ended %s after its host was cut off, want within 15 s", took)
	}
	if done["status"] != "interrupted" || !strings.Contains(done["error"].(string), "far") {
		t.Errorf("the run ended %v: %v; want interrupted, naming the host", done["status"], done["error"])
	}
	kept := c.storedEvents(t, run)
	ns.link(t, true)
	// The run is asked for again and goes back to the host, which
	// rejoined; once it measures that one, the old run is long over.
	again := l.next("the run asked for again", func(m map[string]any) bool { return m["type"] == "accepted" && m["retry_of"] == run })["run"].(string)
	l.next("the retry to start on the host come back", of("started", again))
	if n := c.storedEvents(t, run); n != kept {
		t.Errorf("the interrupted run had %d events, and %d after its host came back: a second copy", kept, n)
	}
	w := c.hosts(t)["far"]
	if w.State != "measuring" || w.Run != again {
		t.Errorf("the host that came back: %+v, want measuring the retry %s", w, again)
	}
	// Now it dies, across the network, in the middle of the retry.
	if out, err := exec.Command("ip", "netns", "pids", ns.name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmdline), "worker") {
					syscallKill(pid)
				}
			}
		}
	}
	if d := l.next("the retry to end", of("done", again)); d["status"] != "interrupted" {
		t.Errorf("the retry, its host killed: %v, want interrupted", d["status"])
	}
	for deadline := time.Now().Add(5 * time.Second); len(childrenOf("far")) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("the dead host's experiment processes are left: %v", childrenOf("far"))
			break
		}
	}
}

func syscallKill(pid int) { syscall.Kill(pid, syscall.SIGKILL) }

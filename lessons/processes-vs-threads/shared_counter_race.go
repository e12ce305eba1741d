package processesvsthreads

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"conclab/internal/lab"
)

// racySource is the program the race detector watches: two goroutines
// making the same unguarded increments as the experiment's threads.
const racySource = `package main

import (
	"fmt"
	"sync"
)

var counter int

func main() {
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100000 {
				counter++ // no lock: a load, an add and a store
			}
		}()
	}
	wg.Wait()
	fmt.Println(counter, "of", 200000)
}
`

// raceResult is what came of building and running the race detector.
type raceResult struct {
	ran    bool     // a race-enabled build ran
	why    string   // why it did not run
	races  int      // data races it reported
	report []string // the report, lines as printed, the temporary path replaced
	build  time.Duration
}

// raceTimeout bounds the build and the run. A first race-enabled build
// compiles the standard library with the detector in (under a minute on
// two small CPUs); Go's build cache keeps it for the next run.
const raceTimeout = 110 * time.Second

var foundRaces = regexp.MustCompile(`Found (\d+) data race`)

// raceCheck builds racySource with go build -race in a temporary
// directory, runs it, and reads its report. Everything it makes is removed
// before it returns; the build cache is the toolchain's own.
func raceCheck(ctx context.Context, want bool, out *lab.Emitter) raceResult {
	if !want {
		return raceResult{why: "The race detector was not asked for in this run (race=false)."}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		r := raceResult{why: "There is no Go toolchain (a go command) on this server's PATH, so no race-enabled program can be built here. Installed, it takes go build -race and a C compiler, since the detector is linked in through cgo."}
		out.Log(r.why)
		return r
	}
	dir, err := os.MkdirTemp("", "conclab-race-")
	if err != nil {
		return raceResult{why: "No temporary directory to build in: " + err.Error()}
	}
	defer os.RemoveAll(dir)
	src, bin := filepath.Join(dir, "racy.go"), filepath.Join(dir, "racy")
	if err := os.WriteFile(src, []byte(racySource), 0o644); err != nil {
		return raceResult{why: "Could not write the program to build: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, raceTimeout)
	defer cancel()
	out.Log("Building the same increments with go build -race (" + goBin + ").")
	t0 := time.Now()
	build, err := runTool(ctx, dir, goBin, "build", "-race", "-o", bin, src)
	r := raceResult{build: time.Since(t0)}
	if err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(strings.ReplaceAll(build, dir+"/", "")), "\n")
		r.why = fmt.Sprintf("go build -race failed here (%v): %s. The race detector needs cgo, so a C compiler (gcc) and CGO_ENABLED=1.", err, first)
		out.Log(r.why)
		return r
	}
	report, err := runTool(ctx, dir, bin)
	var exit *exec.ExitError
	if err != nil && !(asExit(err, &exit) && exit.ExitCode() == 66) { // 66: the detector's exit status after a race
		r.why = fmt.Sprintf("The race-enabled program did not run to its end: %v", err)
		return r
	}
	r.ran = true
	for _, line := range strings.Split(strings.ReplaceAll(report, dir+"/", ""), "\n") {
		if m := foundRaces.FindStringSubmatch(line); m != nil {
			r.races, _ = strconv.Atoi(m[1])
		}
		if strings.TrimSpace(line) != "" && len(r.report) < 40 {
			r.report = append(r.report, line)
		}
	}
	for i, line := range r.report {
		out.Row("race", strconv.Itoa(i+1), map[string]any{"line": line})
	}
	out.Log(fmt.Sprintf("The race-enabled build took %s and reported %d data race(s).", r.build.Round(time.Millisecond), r.races))
	return r
}

// runTool runs a command in dir, in this run's process group and killed
// with it, and returns what it printed.
func runTool(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOTOOLCHAIN=local", "GOFLAGS=")
	if os.Getenv("GOCACHE") == "" && os.Getenv("HOME") == "" && os.Getenv("XDG_CACHE_HOME") == "" {
		cmd.Env = append(cmd.Env, "GOCACHE="+filepath.Join(os.TempDir(), "conclab-go-build"))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := lab.Start(cmd); err != nil {
		return "", err
	}
	err := cmd.Wait()
	return b.String(), err
}

func asExit(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

package lab

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// ChildCommand is the first argument that turns the binary into a run's
// child process: `conclab experiment <id> --params JSON`, or
// `conclab experiment --worker <id> <name> args...` for an experiment's
// own worker processes.
const ChildCommand = "experiment"

// Worker returns a command that starts one of the experiment's worker
// processes: this same binary in worker mode. It stays in the run's process
// group, so cancelling the run kills it too, and it gets SIGKILL when the
// run's process dies. Call it from inside a run, and start it with Start
// (never cmd.Start or cmd.Run: see Start).
func Worker(ctx context.Context, experiment, name string, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	all := append([]string{ChildCommand, "--worker", experiment, name}, args...)
	cmd := exec.CommandContext(ctx, exe, all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	return cmd, nil
}

// Start starts a worker's command (see Worker) from a thread that lives
// as long as this process. Linux sends a child its parent-death signal
// when the *thread* that started it ends, and in Go any goroutine that
// exits locked to its thread ends that thread — experiments do it on
// purpose, to drop a pinned thread. Started from an arbitrary thread, a
// worker could be killed the moment an unrelated goroutine exits; started
// here, it dies only with the process, which is what Pdeathsig is for.
func Start(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawns = make(chan spawn)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread must outlive every worker
			for sp := range spawns {
				sp.done <- sp.cmd.Start()
			}
		}()
	})
	sp := spawn{cmd: cmd, done: make(chan error, 1)}
	spawns <- sp
	return <-sp.done
}

type spawn struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawns    chan spawn
)

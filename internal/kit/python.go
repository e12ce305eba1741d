package kit

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// Some lessons hold Python's own examples against this machine: asyncio's
// event loop, CPython's GIL. Their programs are fixed scripts embedded in
// the binary and passed to the interpreter with -c, so no file is left
// behind and no code from a learner ever runs; the interpreter runs in
// the run's process group, so cancelling the run kills it and whatever it
// forked.

// Python3 is the path of python3 on the PATH, or "" when there is none.
func Python3() string {
	p, err := exec.LookPath("python3")
	if err != nil {
		return ""
	}
	return p
}

// FreeThreadedNames are the names a free-threaded CPython (PEP 703, no
// GIL) is installed under: 3.13 shipped it as an experiment, 3.14 supports
// it.
var FreeThreadedNames = []string{"python3.14t", "python3.13t"}

// FreeThreaded is the path of the first free-threaded interpreter on the
// PATH, or "" when none is installed. (A python3 whose
// sys._is_gil_enabled() says False is one too; the script itself says so.)
func FreeThreaded() string {
	for _, name := range FreeThreadedNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// RunPython runs script with the interpreter exe and these arguments, and
// hands each line it prints on stdout to f as it comes. An error from f
// stops the interpreter. Its stderr goes to the run's log.
func RunPython(ctx context.Context, exe, script string, f func(line []byte) error, args ...string) error {
	cmd := exec.CommandContext(ctx, exe, append([]string{"-c", script}, args...)...)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 2 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if err := f(sc.Bytes()); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return err
		}
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s stopped with an error: %w", exe, err)
	}
	return nil
}

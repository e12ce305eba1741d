package probe

import (
	"runtime"
	"slices"
	"testing"
)

func TestThreadState(t *testing.T) {
	for _, c := range []struct {
		line string
		want byte
	}{
		{"1234 (conclab) R 1 2 3", 'R'},
		{"1234 (a) b) S 1 2 3", 'S'},
		{"1234 (x", 0},
	} {
		if got := threadState([]byte(c.line)); got != c.want {
			t.Errorf("threadState(%q) = %q, want %q", c.line, got, c.want)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	running, total, err := ThreadStates()
	if !slices.Contains(running, Tid()) {
		t.Errorf("the calling thread %d is not among the running %v", Tid(), running)
	}
	if err != nil || len(running) < 1 || total < len(running) {
		t.Errorf("ThreadStates() = %v running of %d, %v; want the calling thread running at least", running, total, err)
	}
}

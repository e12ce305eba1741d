package lessons_test

import (
	"os"
	"testing"

	"conclab/internal/lab"
	"conclab/lessons"
)

// TestMain lets the test binary serve as the child process of runs: the
// runner re-executes it as `<test binary> experiment <id> ...`.
func TestMain(m *testing.M) {
	if lab.IsChild(os.Args) {
		os.Exit(lab.ChildMain(lessons.Registry(), os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

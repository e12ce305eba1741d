package lessons_test

import (
	"testing"

	"conclab/internal/labtest"
	"conclab/lessons"
)

// checks holds, for each experiment, what its quick run must show on any
// machine. Each lesson's test file adds its own in init.
var checks = map[string]func(t *testing.T, r *labtest.Run){}

// TestEveryExperimentQuick runs every registered experiment in quick mode
// through the real runner, checks the event contract, and then the
// experiment's own checks. Like the Go tour's test that runs every
// snippet, nothing in the registry escapes it.
func TestEveryExperimentQuick(t *testing.T) {
	reg := lessons.Registry()
	for _, e := range reg.All() {
		t.Run(e.ID, func(t *testing.T) {
			check, ok := checks[e.ID]
			if !ok {
				t.Errorf("%s has no checks: add them to lessons/<lesson>_test.go", e.ID)
			}
			r := labtest.RunQuick(t, reg, e.ID, nil)
			labtest.CheckContract(t, r)
			if ok {
				check(t, r)
			}
		})
	}
}

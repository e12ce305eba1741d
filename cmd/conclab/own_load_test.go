package main

import (
	"testing"

	"conclab/internal/lab"
	"conclab/lessons"
)

// Every student of --own asks for settings of their own, valid for the
// experiment: 300 students, 300 distinct requests, none joining another's.
func TestOwnVariantsAreDistinct(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"task-profile", "isolation", "yield-batching"} {
		exp, ok := lessons.Registry().Lookup(id)
		if !ok {
			t.Fatalf("no experiment %s", id)
		}
		base, err := exp.Validate(nil, false)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for i := range 300 {
			p := ownVariant(exp, base, i)
			if _, err := exp.Validate(map[string]any(p), false); err != nil {
				t.Fatalf("%s, student %d: %v", id, i, err)
			}
			seen[p.Key()]++
		}
		want := min(300, combinations(exp))
		if len(seen) != want {
			t.Errorf("%s: %d distinct settings among 300 students, want %d", id, len(seen), want)
		}
	}
}

// combinations is how many settings the experiment's integer parameters allow.
func combinations(exp *lab.Experiment) int {
	n := 1
	for _, prm := range exp.Params {
		if prm.Kind == lab.KindInt && prm.Max > prm.Min {
			n *= int(prm.Max-prm.Min) + 1
			if n > 1<<20 {
				return n
			}
		}
	}
	return n
}

package greenthreads

import (
	"testing"

	"conclab/internal/lab"
)

// The choice predictions' answers, each way and when the run cannot tell.
func TestPredictionAnswers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pace float64
		want string
	}{{0, "stop"}, {9.9, "stop"}, {10, "keep going"}, {99, "keep going"}} {
		if got, ok := blockingAnswer([]lab.Metric{{Key: "pace.during_blocking", Value: c.pace}}); !ok || got != c.want {
			t.Errorf("at %v%%: %q, %v; want %q", c.pace, got, ok, c.want)
		}
	}
	if _, ok := blockingAnswer(nil); ok {
		t.Error("an answer without the pace")
	}
}

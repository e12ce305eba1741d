package threadingmodels

import (
	"testing"

	"conclab/internal/lab"
)

// The choice predictions' answers, each way and when the run cannot tell.
func TestPredictionAnswers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		answer func([]lab.Metric) (string, bool)
		key    string
		pace   float64
		want   string
	}{
		{nto1Answer, "others.pace_during_read.nto1", 0, "stop"},
		{nto1Answer, "others.pace_during_read.nto1", 80, "keep going"},
		{oneToOneAnswer, "others.pace_during_read.1to1", 120, "keep going"},
		{oneToOneAnswer, "others.pace_during_read.1to1", 5, "stop"},
	} {
		if got, ok := c.answer([]lab.Metric{{Key: c.key, Value: c.pace}}); !ok || got != c.want {
			t.Errorf("%s at %v%%: %q, %v; want %q", c.key, c.pace, got, ok, c.want)
		}
	}
	if _, ok := nto1Answer(nil); ok {
		t.Error("an answer without the pace")
	}
}

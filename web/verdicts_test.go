package web_test

import (
	"conclab/internal/engine"
	"strings"
	"testing"
)

// Every lesson page explains the verdict rule once, after the lesson, with
// the rule's own tolerance and busy share.
func TestEveryLessonExplainsVerdicts(t *testing.T) {
	t.Parallel()
	s := newServer(t, engine.Config{})
	for _, l := range theCourse().Lessons() {
		if l.Page == nil {
			continue
		}
		resp, body := get(t, s.url+"/lessons/"+l.Slug)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", l.Slug, resp.StatusCode)
			continue
		}
		if n := strings.Count(body, `data-testid="how-verdicts"`); n != 1 {
			t.Errorf("%s: %d explanations of the verdicts, want 1", l.Slug, n)
		}
		for _, want := range []string{"How verdicts are decided", "25% of slack", "15% or more of the run's CPUs", "25th to the 75th percentile"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the explanation lacks %q", l.Slug, want)
			}
		}
	}
}

package lessons_test

import (
	"go/build"
	"strings"
	"testing"

	"conclab/lessons"
)

// engine is what a lesson never imports: the server's side of runs, the
// store and the web. A lesson defines and measures its experiments with
// the kit (internal/lab) and the shared measuring packages alone, and
// renders its page with web/ui's components.
var engine = []string{
	"conclab/internal/engine", "conclab/internal/classroom", "conclab/internal/runner", "conclab/internal/runlog",
	"conclab/internal/fleet", "conclab/internal/store", "conclab/internal/app", "conclab/web",
}

// TestLessonsImportOnlyTheKit: no lesson package imports the engine, the
// store or the web layer (web/ui's components excepted).
func TestLessonsImportOnlyTheKit(t *testing.T) {
	t.Parallel()
	for _, l := range lessons.All {
		dir := "./" + l.Slug
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range pkg.Imports {
			for _, e := range engine {
				if (imp == e || strings.HasPrefix(imp, e+"/")) && !strings.HasPrefix(imp, "conclab/web/ui") {
					t.Errorf("lesson %s imports %s: a lesson sees the kit (internal/lab), never the engine", l.Slug, imp)
				}
			}
		}
	}
}

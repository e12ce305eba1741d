package lessons_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"conclab/internal/course"
	"conclab/internal/lab"
	"conclab/internal/labtest"
	"conclab/internal/probe"
	"conclab/lessons"
	"conclab/web/ui"
)

// checks holds, for each experiment, what its quick run must show on any
// machine. Each lesson's test file adds its own in init.
var checks = map[string]func(t *testing.T, r *labtest.Run){}

// TestEveryExperimentQuick runs every registered experiment in quick mode
// through the real runner, checks the event contract, then the
// experiment's own checks, then that every metric key a page, a cell, a
// script or the recap names is in its result. Like the Go tour's test that
// runs every snippet, nothing in the registry escapes it.
func TestEveryExperimentQuick(t *testing.T) {
	c := lessons.Course()
	reg := c.Registry()
	refs := references(t, c)
	keysOf := map[string][]string{} // experiment → keys its quick run emitted
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
			for _, m := range r.Metrics {
				keysOf[e.ID] = append(keysOf[e.ID], m.Key)
			}
			if len(e.Predictions) == 0 {
				t.Errorf("%s asks for no guess: declare a prediction for at least its headline claim", e.ID)
			}
			for _, pr := range e.Predictions {
				if pr.Kind == lab.PredictNumber && !slices.Contains(keysOf[e.ID], pr.Key) && !slices.Contains(e.Conditional, pr.Key) {
					t.Errorf("%s's prediction %q is scored against metric %q, which its result does not have", e.ID, pr.Question, pr.Key)
				}
				if pr.Kind == lab.PredictChoice {
					if answer, ok := pr.Answer(r.Metrics); ok && !slices.Contains(pr.Choices, answer) {
						t.Errorf("%s's prediction %q answers %q, which is not one of its choices %q", e.ID, pr.Question, answer, pr.Choices)
					}
				}
			}
			for _, ref := range refs.keys[e.ID] {
				if !slices.Contains(keysOf[e.ID], ref.key) && !slices.Contains(e.Conditional, ref.key) {
					t.Errorf("%s names metric %q of %s, which its result does not have (keys: %q)", ref.where, ref.key, e.ID, keysOf[e.ID])
				}
			}
		})
	}
	// A lesson's script may read any of its experiments' results.
	for slug, keys := range refs.scripts {
		_, l, _ := c.Find(slug)
		var have []string
		for _, e := range l.Experiments {
			have = append(have, keysOf[e.ID]...)
			have = append(have, e.Conditional...)
		}
		for _, ref := range keys {
			if !slices.Contains(have, ref.key) {
				t.Errorf("%s names metric %q, which no experiment of %s emits", ref.where, ref.key, slug)
			}
		}
	}
}

type keyRef struct{ key, where string }

// refs is what the course's pages, scripts and recap name.
type refs struct {
	keys    map[string][]keyRef // experiment → metric keys named for it
	scripts map[string][]keyRef // lesson slug → metric keys its scripts name
}

var (
	tagWithFill  = regexp.MustCompile(`<[^>]*\bdata-fill="[^"]*"[^>]*>`)
	missingPanel = regexp.MustCompile(`data-missing-panel="([^"]*)"`)
	attr         = func(name string) *regexp.Regexp { return regexp.MustCompile(`\b` + name + `="([^"]*)"`) }
	scriptKey    = regexp.MustCompile(`byKey\([^,()]+,\s*'([^']+)'\)`)
)

// references renders every lesson's page and reads every script, and
// returns each metric key they name. Along the way it fails the test for
// a panel or figure of an experiment the course does not have, a cell that
// finds its figure by words (data-metric) instead of a key, or a malformed
// key.
func references(t *testing.T, c *course.Course) refs {
	t.Helper()
	out := refs{keys: map[string][]keyRef{}, scripts: map[string][]keyRef{}}
	add := func(exp, key, where string) {
		if _, ok := c.Registry().Lookup(exp); !ok {
			t.Errorf("%s names experiment %q, which the course does not have", where, exp)
			return
		}
		if key == "" {
			return
		}
		if !lab.ValidKey(key) {
			t.Errorf("%s names %q of %s, which is not a metric key", where, key, exp)
		}
		out.keys[exp] = append(out.keys[exp], keyRef{key, where})
	}
	for i, l := range c.Lessons() {
		if l.Page == nil {
			continue
		}
		where := "the page of " + l.Slug
		p := ui.Page{Lesson: c.Ref(i), Host: probe.ReadHost(), Panels: map[string]ui.PanelData{}, Recap: c.Recap()}
		for _, e := range l.Experiments {
			p.Panels[e.ID] = ui.NewPanel(e)
		}
		var buf bytes.Buffer
		if err := l.Page(p).Render(context.Background(), &buf); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		for _, m := range missingPanel.FindAllStringSubmatch(buf.String(), -1) {
			add(m[1], "", where+", a panel")
			t.Errorf("%s has a panel of %q, which is not among its experiments", where, m[1])
		}
		for _, tag := range tagWithFill.FindAllString(buf.String(), -1) {
			exp := attr("data-fill").FindStringSubmatch(tag)[1]
			if attr("data-metric").MatchString(tag) {
				t.Errorf("%s: a cell finds its figure by the words of a name, not a key: %s", where, tag)
			}
			k := attr("data-key").FindStringSubmatch(tag)
			if k == nil {
				t.Errorf("%s: a cell to fill names no metric key: %s", where, tag)
				continue
			}
			add(exp, k[1], where+", a cell")
		}
		if l.Assets == nil {
			continue
		}
		fs.WalkDir(l.Assets, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".js") {
				return err
			}
			b, err := fs.ReadFile(l.Assets, path)
			if err != nil {
				return err
			}
			for _, m := range scriptKey.FindAllStringSubmatch(string(b), -1) {
				out.scripts[l.Slug] = append(out.scripts[l.Slug], keyRef{m[1], "lessons/" + l.Slug + "/assets/" + path})
			}
			return nil
		})
	}
	for _, f := range c.Recap() {
		add(f.Experiment, f.Key, "the recap's row "+f.What)
	}
	for _, l := range c.Lessons() {
		for _, x := range l.Teach.Exercises {
			for _, n := range x.Needs {
				for _, k := range n.Keys {
					add(n.Experiment, k, "exercise "+x.ID)
				}
			}
		}
	}
	// The shared scripts name no experiment's keys: figures are the lessons'.
	files, _ := filepath.Glob("../static/js/*.js")
	sort.Strings(files)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if m := scriptKey.FindStringSubmatch(string(b)); m != nil {
			t.Errorf("%s names metric key %q; a shared script must not know a lesson's figures", f, m[1])
		}
	}
	return out
}

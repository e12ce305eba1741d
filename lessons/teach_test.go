package lessons_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"conclab/internal/course"
	"conclab/internal/glossary"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/internal/teach"
	"conclab/lessons"
	"conclab/web/ui"
)

// Every lesson teaches with more than prose: what you will be able to do
// and why it matters, exercises on its own experiments, a self-check,
// further reading, closed sections for the kernel-level detail, and the
// code behind every experiment.
func TestEveryLessonTeaches(t *testing.T) {
	t.Parallel()
	c := lessons.Course()
	for i, l := range c.Lessons() {
		p := l.Teach
		t.Run(l.Slug, func(t *testing.T) {
			if n := len(p.Objectives); n < 3 || n > 4 {
				t.Errorf("%d objectives, want 3 or 4", n)
			}
			if len(strings.Fields(p.WhyCare)) < 15 {
				t.Errorf("no reason to care, or one too short to name a real failure: %q", p.WhyCare)
			}
			if n := len(p.Exercises); n < 3 || n > 5 {
				t.Errorf("%d exercises, want 3 to 5", n)
			}
			if n := len(p.Questions); n < 4 || n > 6 {
				t.Errorf("%d self-check questions, want 4 to 6", n)
			}
			if n := len(p.Reading); n < 3 {
				t.Errorf("%d links to further reading, want at least 3", n)
			}
			for _, x := range p.Exercises {
				for _, n := range x.Needs {
					if e, ok := c.Lookup(n.Experiment); !ok || e.Lesson != l.Slug {
						t.Errorf("exercise %s needs %s, which is not one of this lesson's experiments", x.ID, n.Experiment)
					}
				}
			}
			for _, e := range l.Experiments {
				if len(c.CodeOf(e)) == 0 {
					t.Errorf("experiment %s shows no code: mark the lines that measure with snippet markers named %q (see internal/teach)", e.ID, e.ID)
				}
			}
			page := renderContent(t, c, i)
			if n := strings.Count(page, `data-testid="deeper"`); n == 0 {
				t.Error("no Going deeper section: put the kernel-level detail in @ui.Deeper")
			}
			if strings.Contains(page, `class="deeper" data-testid="deeper" open`) {
				t.Error("a Going deeper section is open by default")
			}
			for _, bad := range []string{"data-term-missing", "data-snippet-missing"} {
				if strings.Contains(page, bad) {
					t.Errorf("the page has %s: a glossary term or snippet it names does not exist", bad)
				}
			}
		})
	}
}

// renderContent renders lesson i's own content as its page shows it.
func renderContent(t *testing.T, c *course.Course, i int) string {
	t.Helper()
	l := c.Lessons()[i]
	p := ui.Page{Lesson: c.Ref(i), Host: probe.ReadHost(), Panels: map[string]ui.PanelData{}, Recap: c.Recap()}
	for _, e := range l.Experiments {
		d := ui.NewPanel(e)
		d.Code = c.CodeOf(e)
		p.Panels[e.ID] = d
	}
	var buf bytes.Buffer
	if err := ui.Terms(ui.WithSnippets(c.Snippets(l.Slug), l.Page(p))).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The first use of a glossary term on each lesson page links to its
// entry; a term is linked once per page; and every term is linked from
// some lesson. Text inside the experiment panels, code, diagrams and the
// definitions themselves does not count as a use.
func TestTermsAreLinkedAtFirstUse(t *testing.T) {
	t.Parallel()
	c := lessons.Course()
	linked := map[string]bool{}
	for i, l := range c.Lessons() {
		page := renderContent(t, c, i)
		for _, obj := range append([]string{l.Teach.WhyCare}, l.Teach.Objectives...) {
			for _, term := range glossary.Terms {
				if re := term.Pattern(); re != nil && re.MatchString(obj) {
					t.Errorf("%s: its objectives or reason to care use %q (%s) before the lesson can link it: say it in plain words there", l.Slug, re.FindString(obj), term.ID)
				}
			}
		}
		uses, links := firstUses(t, page)
		for id := range links {
			linked[id] = true
		}
		for _, u := range uses {
			switch {
			case u.repeat:
				t.Errorf("%s links %s a second time (%q): link only its first use", l.Slug, u.term, u.text)
			case !u.linked:
				t.Errorf("%s uses %q (glossary %s) first without linking it: …%s…", l.Slug, u.text, u.term, u.context)
			}
		}
	}
	for _, term := range glossary.Terms {
		if !linked[term.ID] {
			t.Errorf("glossary term %s is linked from no lesson", term.ID)
		}
	}
}

// use is a term's first appearance on a page, or a second link to it.
type use struct {
	term, text, context string
	linked, repeat      bool
}

// firstUses walks a page's text and reports, for every glossary term, its
// first appearance and whether that is inside a link to it, and every
// second link to a term.
func firstUses(t *testing.T, page string) ([]use, map[string]bool) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	var stack []string // the open elements' names, "skip" for those whose text does not count
	inTerm := ""       // the term whose link we are in
	seen, linked := map[string]bool{}, map[string]bool{}
	var out []use
	skipping := func() bool { return slices.Contains(stack, "skip") }
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out, linked
		case html.StartTagToken:
			name, attrs := tagOf(z)
			kind := name
			if skipped(name, attrs) {
				kind = "skip"
			}
			if id := attrs["data-term"]; name == "a" && id != "" && !skipping() {
				if linked[id] {
					out = append(out, use{term: id, text: id, repeat: true})
				}
				linked[id], inTerm = true, id
			}
			if !voidElement(name) {
				stack = append(stack, kind)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == "a" {
				inTerm = ""
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case html.TextToken:
			if skipping() {
				continue
			}
			text := string(z.Text())
			for _, term := range glossary.Terms {
				re := term.Pattern()
				if re == nil || seen[term.ID] {
					continue
				}
				if loc := re.FindStringIndex(text); loc != nil {
					seen[term.ID] = true
					lo, hi := max(0, loc[0]-40), min(len(text), loc[1]+40)
					out = append(out, use{term: term.ID, text: text[loc[0]:loc[1]], context: strings.Join(strings.Fields(text[lo:hi]), " "), linked: inTerm == term.ID})
				}
			}
		}
	}
}

func tagOf(z *html.Tokenizer) (string, map[string]string) {
	name, more := z.TagName()
	attrs := map[string]string{}
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		attrs[string(k)] = string(v)
	}
	return string(name), attrs
}

// skipped reports whether an element's text is not prose: a panel, code,
// a diagram, a heading, a definition shown on hover, the recap's table of
// figures.
func skipped(name string, attrs map[string]string) bool {
	class := " " + attrs["class"] + " "
	switch {
	case name == "svg" || name == "pre" || name == "script" || name == "style" || name == "figure" && strings.Contains(class, " code "):
		return true
	case name == "section" && strings.Contains(class, " experiment "):
		return true
	case name == "summary" || len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6':
		return true // a heading names a term; the prose under it explains and links it
	case strings.Contains(class, " term-tip "):
		return true
	case name == "table" && strings.Contains(class, " recap "):
		return true // the course's recap: figures labelled with other lessons' titles
	}
	return false
}

func voidElement(name string) bool {
	return slices.Contains([]string{"br", "hr", "img", "input", "meta", "link", "source", "wbr", "col", "area", "base", "embed", "track"}, name)
}

// An exercise reads only the figures its needs declare: the course's
// quick runs check that those exist (TestEveryExperimentQuick), so its
// judge and explanation never read a key its experiment does not emit.
func TestExercisesReadOnlyDeclaredKeys(t *testing.T) {
	t.Parallel()
	for _, l := range lessons.All {
		for _, x := range l.Teach.Exercises {
			ev := teach.Evidence{Runs: make([]teach.Run, len(x.Needs))}
			for i, n := range x.Needs {
				ev.Runs[i] = teach.Run{ID: "aaaaaaaaaaa" + string(rune('0'+i)), Experiment: n.Experiment}
				for j, k := range n.Keys {
					ev.Runs[i].Metrics = append(ev.Runs[i].Metrics, lab.Metric{Key: k, Value: float64(j + 1)})
				}
			}
			ev.Trace = func(need int, key string) {
				if need < 0 || need >= len(x.Needs) || !slices.Contains(x.Needs[need].Keys, key) {
					t.Errorf("exercise %s reads %q of run %d, which its needs do not declare", x.ID, key, need+1)
				}
			}
			for v := range max(1, len(x.Question.Choices)) {
				out := x.Settle(ev, float64(v))
				if strings.TrimSpace(out.Explanation) == "" {
					t.Errorf("exercise %s explains nothing", x.ID)
				}
			}
		}
	}
}

// Every snippet marker in the repository is well formed, whether or not a
// lesson shows it: markers that do not pair up fail here, not at start.
func TestSnippetMarkersAreWellFormed(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !teach.SnippetFile(d.Name()) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		snips, err := teach.ParseSnippets(rel, b)
		if err != nil {
			t.Error(err)
		}
		n += len(snips)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("no snippets found in the repository")
	}
}

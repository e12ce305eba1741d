// Package course is the course as one ordered list of lessons. Each lesson
// package exports one Lesson value that describes it whole: its address,
// title and summary, its page, its experiments, its own static files and
// the figures it offers to the course's recap. Everything else — the
// registry of experiments, the lesson numbers, the index, the navigation,
// the recap and the served assets — is derived from that list here, so
// adding a lesson is one folder and one line in lessons/course.go.
package course

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/a-h/templ"

	"conclab/internal/lab"
	"conclab/internal/teach"
	"conclab/web/ui"
)

// Lesson describes one lesson.
type Lesson struct {
	Slug    string // its address, /lessons/<slug>; part of the contract
	Title   string
	Summary string // one sentence for the index and the page's description
	// Page renders the lesson's prose and panels; nil means the lesson is
	// not written yet and the index shows it as coming.
	Page func(ui.Page) templ.Component
	// Experiments are the lesson's experiments, in page order. An
	// experiment's Lesson is set to Slug when empty.
	Experiments []*lab.Experiment
	// Assets holds the lesson's own static files (CSS, JS), served at
	// /static/lessons/<slug>/<file>; nil when it has none.
	Assets fs.FS
	// Styles and Scripts name files of Assets that the lesson's page links
	// in its head: stylesheets, and module scripts.
	Styles, Scripts []string
	// Recap lists the figures the lesson offers to the course's recap
	// table, each named by experiment id and metric key.
	Recap []ui.RecapFigure
	// Teach is what the lesson teaches with besides its prose: objectives,
	// exercises, a self-check, reading and its code (see internal/teach).
	Teach teach.Plan
}

// Course is the ordered list of lessons and what derives from it.
type Course struct {
	lessons  []Lesson
	reg      *lab.Registry
	versions map[string]string // slug → hash of its assets
	teaching
}

var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,40}$`)

// New builds a course from lessons in order. It fails on a malformed
// lesson: a bad or repeated slug, an experiment of another lesson, an
// asset the lesson names but does not hold, a recap figure of an
// experiment the course does not have.
func New(lessons ...Lesson) (*Course, error) {
	c := &Course{lessons: lessons, reg: lab.NewRegistry(), versions: map[string]string{}, teaching: newTeaching()}
	seen := map[string]bool{}
	for _, l := range lessons {
		if !slugPattern.MatchString(l.Slug) {
			return nil, fmt.Errorf("lesson slug %q is not lower-case words joined by '-'", l.Slug)
		}
		if seen[l.Slug] {
			return nil, fmt.Errorf("lesson %s is in the course twice", l.Slug)
		}
		seen[l.Slug] = true
		if l.Title == "" || l.Summary == "" {
			return nil, fmt.Errorf("lesson %s needs a title and a summary", l.Slug)
		}
		for _, e := range l.Experiments {
			if e.Lesson == "" {
				e.Lesson = l.Slug
			}
			if e.Lesson != l.Slug {
				return nil, fmt.Errorf("experiment %s says it belongs to %s but is listed in %s", e.ID, e.Lesson, l.Slug)
			}
		}
		if err := c.register(l); err != nil {
			return nil, err
		}
		for _, f := range l.Recap {
			if e, ok := c.reg.Lookup(f.Experiment); !ok || e.Lesson != l.Slug {
				return nil, fmt.Errorf("lesson %s offers a recap figure of %s, which is not one of its experiments", l.Slug, f.Experiment)
			}
			if !lab.ValidKey(f.Key) {
				return nil, fmt.Errorf("lesson %s: recap figure %q has a malformed key %q", l.Slug, f.What, f.Key)
			}
		}
		v, err := assetsVersion(l)
		if err != nil {
			return nil, err
		}
		c.versions[l.Slug] = v
	}
	if err := c.index(); err != nil {
		return nil, err
	}
	return c, nil
}

// MustNew is New for a course fixed at build time: a malformed lesson is a
// programming error and stops the program at start.
func MustNew(lessons ...Lesson) *Course {
	c, err := New(lessons...)
	if err != nil {
		panic("course: " + err.Error())
	}
	return c
}

// register adds the lesson's experiments, turning the registry's panic on
// a malformed one into an error.
func (c *Course) register(l Lesson) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("lesson %s: %v", l.Slug, r)
		}
	}()
	c.reg.Register(l.Experiments...)
	return nil
}

func assetsVersion(l Lesson) (string, error) {
	if l.Assets == nil {
		if len(l.Styles)+len(l.Scripts) > 0 {
			return "", fmt.Errorf("lesson %s names assets but has no Assets", l.Slug)
		}
		return "", nil
	}
	for _, name := range append(append([]string(nil), l.Styles...), l.Scripts...) {
		if _, err := fs.Stat(l.Assets, name); err != nil {
			return "", fmt.Errorf("lesson %s names asset %s: %v", l.Slug, name, err)
		}
	}
	h := sha256.New()
	err := fs.WalkDir(l.Assets, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(l.Assets, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("lesson %s assets: %v", l.Slug, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Sub is fs.Sub for a lesson's embedded assets folder; it panics when dir
// is not in fsys, which go:embed already guarantees.
func Sub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic("course: " + err.Error())
	}
	return sub
}

// Lessons returns the lessons in order.
func (c *Course) Lessons() []Lesson { return append([]Lesson(nil), c.lessons...) }

// Len is the number of lessons.
func (c *Course) Len() int { return len(c.lessons) }

// Registry holds every lesson's experiments, in course order.
func (c *Course) Registry() *lab.Registry { return c.reg }

// Find returns the lesson with this slug and its place (0-based).
func (c *Course) Find(slug string) (int, Lesson, bool) {
	for i, l := range c.lessons {
		if l.Slug == slug {
			return i, l, true
		}
	}
	return -1, Lesson{}, false
}

// Ref is lesson i as pages show it: numbered from 1.
func (c *Course) Ref(i int) ui.Lesson {
	l := c.lessons[i]
	return ui.Lesson{Number: i + 1, Slug: l.Slug, Title: l.Title, Summary: l.Summary, Ready: l.Page != nil}
}

// Refs are every lesson as pages show it, in order.
func (c *Course) Refs() []ui.Lesson {
	out := make([]ui.Lesson, len(c.lessons))
	for i := range c.lessons {
		out[i] = c.Ref(i)
	}
	return out
}

// Recap is every figure the lessons offer to the recap, in course order,
// each with the lesson it comes from.
func (c *Course) Recap() []ui.RecapFigure {
	var out []ui.RecapFigure
	for i, l := range c.lessons {
		for _, f := range l.Recap {
			f.Lesson = c.Ref(i)
			out = append(out, f)
		}
	}
	return out
}

// Assets is the lesson's own static files, or nil.
func (c *Course) Assets(slug string) fs.FS {
	if _, l, ok := c.Find(slug); ok {
		return l.Assets
	}
	return nil
}

// AssetVersion is the hash of the lesson's assets, which their addresses
// carry so that a browser may cache them for good.
func (c *Course) AssetVersion(slug string) string { return c.versions[slug] }

// AssetURL is the versioned address of one of a lesson's assets.
func (c *Course) AssetURL(slug, file string) string {
	return "/static/lessons/" + slug + "/" + file + "?v=" + c.versions[slug]
}

// Head is what lesson i's page links in its head: its stylesheets and
// module scripts, by address.
func (c *Course) Head(i int) (styles, scripts []string) {
	l := c.lessons[i]
	for _, f := range l.Styles {
		styles = append(styles, c.AssetURL(l.Slug, f))
	}
	for _, f := range l.Scripts {
		scripts = append(scripts, c.AssetURL(l.Slug, f))
	}
	return styles, scripts
}

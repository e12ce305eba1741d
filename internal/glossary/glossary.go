// Package glossary is every term the lessons use, each defined in a
// sentence or two in the course's own words. /glossary lists them; a
// lesson page links the first use of a term to its entry, with the
// definition shown on hover and on keyboard focus (web/ui's Term).
package glossary

import (
	"regexp"
	"sort"
	"strings"
)

// Term is one entry of the glossary.
type Term struct {
	ID   string // its anchor on /glossary and what pages link it by
	Name string // as the glossary lists it
	Def  string // a sentence or two
	Code bool   // the name is code (GOMAXPROCS, iter.Pull): shown as code
	// Lesson is the slug of the lesson that explains the term most fully.
	Lesson string
	// Match finds the term in a page's text, for the check that its first
	// use links here. Empty for everyday words (task, thread) whose first
	// appearance may be in their everyday sense.
	Match string
}

// Lookup finds a term by id.
func Lookup(id string) (Term, bool) {
	t, ok := byID[id]
	return t, ok
}

// Sorted is every term in alphabetical order of its name.
func Sorted() []Term {
	out := append([]Term(nil), Terms...)
	sort.SliceStable(out, func(i, j int) bool { return sortKey(out[i].Name) < sortKey(out[j].Name) })
	return out
}

func sortKey(name string) string {
	return strings.ToLower(strings.TrimLeft(name, "0123456789:"))
}

// Pattern is the compiled Match, or nil.
func (t Term) Pattern() *regexp.Regexp { return patterns[t.ID] }

var (
	byID     = map[string]Term{}
	patterns = map[string]*regexp.Regexp{}
)

func init() {
	for _, t := range Terms {
		if _, dup := byID[t.ID]; dup {
			panic("glossary: " + t.ID + " is defined twice")
		}
		byID[t.ID] = t
		if t.Match != "" {
			patterns[t.ID] = regexp.MustCompile(t.Match)
		}
	}
}

package teach

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Snippets are cut from the real source at start, so what a panel shows
// cannot drift from what runs. A snippet is the lines between two marker
// comments, each alone on its line:
//
//	<comment> snippet:NAME
//	... the code ...
//	<comment> end snippet
//
// where <comment> is "//" in Go and "#" in Python. Markers do not nest.

// Source is a folder of the repository whose files are embedded: a
// lesson's own, or a shared package whose code an experiment runs.
type Source struct {
	Dir string // its path in the repository, for people: "lessons/context-switching"
	FS  fs.FS
}

// Snippet is a few lines of real source.
type Snippet struct {
	Name string
	File string // its path in the repository
	Line int    // the first line of Code in File, from 1
	Code string // the lines, their common indentation removed
}

// Lines is how many lines the snippet has.
func (s Snippet) Lines() int { return strings.Count(s.Code, "\n") + 1 }

// MaxSnippetLines bounds a snippet: a panel shows the lines that do the
// measuring, not a whole file.
const MaxSnippetLines = 30

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// marker reads a line as a marker: a start with its name, an end, or
// neither.
func marker(line string) (name string, start, end bool) {
	t := strings.TrimSpace(line)
	for _, c := range []string{"//", "#"} {
		rest, ok := strings.CutPrefix(t, c+" ")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if n, ok := strings.CutPrefix(rest, "snippet:"); ok {
			return strings.TrimSpace(n), true, false
		}
		if rest == "end snippet" {
			return "", false, true
		}
	}
	return "", false, false
}

// ParseSnippets finds the snippets of one file. It fails on a marker that
// is not well formed: a start inside a snippet, an end outside one, a
// snippet not ended, a bad or repeated name, one empty or too long.
func ParseSnippets(file string, src []byte) ([]Snippet, error) {
	var out []Snippet
	var cur *Snippet
	var lines []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		name, start, end := marker(line)
		switch {
		case start && cur != nil:
			return nil, fmt.Errorf("%s:%d: snippet %q starts inside snippet %q", file, n, name, cur.Name)
		case start && !namePattern.MatchString(name):
			return nil, fmt.Errorf("%s:%d: snippet name %q is not lower-case words joined by '-'", file, n, name)
		case start && seen[name]:
			return nil, fmt.Errorf("%s:%d: a second snippet named %q", file, n, name)
		case start:
			seen[name] = true
			cur, lines = &Snippet{Name: name, File: file, Line: n + 1}, nil
		case end && cur == nil:
			return nil, fmt.Errorf("%s:%d: an end of snippet with no snippet started", file, n)
		case end:
			code := dedent(lines)
			switch {
			case strings.TrimSpace(code) == "":
				return nil, fmt.Errorf("%s:%d: snippet %q is empty", file, n, cur.Name)
			case len(lines) > MaxSnippetLines:
				return nil, fmt.Errorf("%s:%d: snippet %q has %d lines; a snippet shows at most %d", file, n, cur.Name, len(lines), MaxSnippetLines)
			}
			for _, l := range lines { // the lines dedent trims off the top
				if strings.TrimSpace(l) != "" {
					break
				}
				cur.Line++
			}
			cur.Code = code
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: snippet %q is never ended", file, cur.Line-1, cur.Name)
	}
	return out, nil
}

// dedent joins lines with their common leading whitespace removed.
func dedent(lines []string) string {
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		lead := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = lead, false
			continue
		}
		for !strings.HasPrefix(lead, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimPrefix(l, prefix)
		if strings.TrimSpace(out[i]) == "" {
			out[i] = ""
		}
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// SnippetFile reports whether a file may hold snippets: Go and Python
// source, not generated templ code.
func SnippetFile(name string) bool {
	return (strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".py")) && !strings.HasSuffix(name, "_templ.go")
}

// Snippets cuts every snippet out of the sources' files. A name may be
// used once across them.
func Snippets(srcs ...Source) (map[string]Snippet, error) {
	out := map[string]Snippet{}
	for _, src := range srcs {
		var names []string
		err := fs.WalkDir(src.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && SnippetFile(p) {
				names = append(names, p)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", src.Dir, err)
		}
		sort.Strings(names)
		for _, name := range names {
			b, err := fs.ReadFile(src.FS, name)
			if err != nil {
				return nil, err
			}
			snips, err := ParseSnippets(path.Join(src.Dir, name), b)
			if err != nil {
				return nil, err
			}
			for _, s := range snips {
				if prev, ok := out[s.Name]; ok {
					return nil, fmt.Errorf("snippet %q is in %s and in %s", s.Name, prev.File, s.File)
				}
				out[s.Name] = s
			}
		}
	}
	return out, nil
}

package lessons_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readmeFrom opens a code block of lessons/README.md that is cut from a
// file of the repository: `// from lessons/<slug>/<file>.go`.
const readmeFrom = "// from "

// readmeElided stands, alone on its line, for lines of the file that a
// block leaves out.
const readmeElided = "// …"

// The README's worked example is the real code: every Go block that begins
// `// from <file>` appears in that file verbatim but for indentation, its
// pieces between `// …` lines in order. An edit to the code that the README
// does not follow, or the other way round, fails here.
func TestReadmeShowsTheRealCode(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	shown := false // the README shows a real experiment's definition
	for _, blk := range goBlocks(string(b)) {
		if len(blk.lines) == 0 || !strings.HasPrefix(blk.lines[0], readmeFrom) {
			continue
		}
		file := strings.TrimPrefix(blk.lines[0], readmeFrom)
		src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(file)))
		if err != nil {
			t.Errorf("README.md:%d: the block is from %s: %v", blk.at, file, err)
			continue
		}
		if line, ok := cutFrom(blk.lines[1:], string(src)); !ok {
			t.Errorf("README.md:%d: the block is not in %s as the README shows it (verbatim but for indentation, in order) from this line on; copy it again from the file:\n%s",
				blk.at, file, line)
		}
		shown = shown || slices.Contains(blk.lines, "return &lab.Experiment{")
	}
	if !shown {
		t.Errorf("README.md shows no experiment's definition in a block that begins `%s<file>`: the worked example must be real code", readmeFrom)
	}
}

// readmeBlock is a Go code block of a Markdown file: its lines, without
// their indentation, and the line of the file it begins on.
type readmeBlock struct {
	lines []string
	at    int
}

// goBlocks returns the ```go blocks of a Markdown text, indented ones (in a
// list item) included.
func goBlocks(md string) []readmeBlock {
	var blocks []readmeBlock
	var cur *readmeBlock
	for i, line := range strings.Split(md, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case cur == nil && l == "```go":
			cur = &readmeBlock{at: i + 2}
		case cur != nil && l == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	return blocks
}

// cutFrom reports whether the block's lines, split into pieces at
// readmeElided lines, appear in src in order, each piece as whole lines
// one after another, indentation aside. When they do not, it returns the
// first line from which they do not.
func cutFrom(block []string, src string) (string, bool) {
	var srcLines []string
	for l := range strings.Lines(src) {
		srcLines = append(srcLines, strings.TrimSpace(l))
	}
	text := "\n" + strings.Join(srcLines, "\n") + "\n"
	at := 0
	for _, piece := range splitElided(block) {
		i, n := longestRun(text[at:], piece)
		if n < len(piece) {
			return piece[n], false
		}
		at += i + len(strings.Join(piece, "\n")) + 1
	}
	return "", true
}

// longestRun finds the most lines of piece, from its first, that text has
// as whole lines one after another: how many, and where the first match
// of them begins.
func longestRun(text string, piece []string) (at, n int) {
	for n = len(piece); n > 0; n-- {
		if i := strings.Index(text, "\n"+strings.Join(piece[:n], "\n")+"\n"); i >= 0 {
			return i, n
		}
	}
	return -1, 0
}

// splitElided splits a block's lines at its readmeElided lines.
func splitElided(block []string) [][]string {
	var pieces [][]string
	var cur []string
	for _, l := range block {
		if l == readmeElided {
			if len(cur) > 0 {
				pieces = append(pieces, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	if len(cur) > 0 {
		pieces = append(pieces, cur)
	}
	return pieces
}

func TestCutFrom(t *testing.T) {
	t.Parallel()
	src := "func f() {\n\ta := 1\n\tb := 2\n\tc := 3\n}\n"
	for _, c := range []struct {
		block []string
		ok    bool
		bad   string
	}{
		{[]string{"func f() {", "a := 1", "b := 2", "c := 3", "}"}, true, ""},
		{[]string{"func f() {", readmeElided, "c := 3", "}"}, true, ""},
		{[]string{"a := 1", "c := 3"}, false, "c := 3"},               // not one after another
		{[]string{"c := 3", readmeElided, "a := 1"}, false, "a := 1"}, // not in order
		{[]string{"a := 1", "b := 20"}, false, "b := 20"},
		{[]string{"a := "}, false, "a := "}, // a whole line, not a part of one
	} {
		bad, ok := cutFrom(c.block, src)
		if ok != c.ok || bad != c.bad {
			t.Errorf("cutFrom(%q) = %q, %v; want %q, %v", c.block, bad, ok, c.bad, c.ok)
		}
	}
}

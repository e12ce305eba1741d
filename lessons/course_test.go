package lessons_test

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"conclab/lessons"
)

// The README's table of lessons is the course's list, in order: number,
// title and every experiment id. A lesson added to lessons.All and not to
// the README (or the other way round) fails here.
func TestReadmeListsTheCourse(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| # | Lesson | Experiments |")
	if !ok {
		t.Fatal("README.md has no lesson table (| # | Lesson | Experiments |)")
	}
	row := regexp.MustCompile(`^\| (\d+) \| ([^|]+) \| ([^|]+) \|$`)
	id := regexp.MustCompile("`([a-z0-9-]+)`")
	var rows [][]string
	for _, line := range strings.Split(table, "\n")[2:] {
		m := row.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			break
		}
		rows = append(rows, m)
	}
	if len(rows) != len(lessons.All) {
		t.Fatalf("the README lists %d lessons, the course has %d", len(rows), len(lessons.All))
	}
	for i, l := range lessons.All {
		r := rows[i]
		if r[1] != strconv.Itoa(i+1) || strings.TrimSpace(r[2]) != l.Title {
			t.Errorf("README row %d is %q %q, want %d %q", i+1, r[1], strings.TrimSpace(r[2]), i+1, l.Title)
		}
		var got, want []string
		for _, m := range id.FindAllStringSubmatch(r[3], -1) {
			got = append(got, m[1])
		}
		for _, e := range l.Experiments {
			want = append(want, e.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("README row %d lists experiments %v, want %v", i+1, got, want)
		}
	}
}

package ui

import (
	"fmt"
	"strconv"
	"strings"

	"conclab/internal/format"
	"conclab/internal/protocol"
)

// AssignOption is something the instructor can assign from the dashboard:
// one of a lesson's exercises, one of its self-check questions, or its
// whole self-check. Value is how the page script names it in the assign
// request: "exercise:ID", "question:ID" or "self-check".
type AssignOption struct {
	Lesson string // the lesson's slug
	Value  string
	Label  string
}

// Short cuts a long text to about n characters, at a word, for a list.
func Short(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	cut := string([]rune(s)[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}

// assignKind is what an assignment is, in words.
func assignKind(kind string) string {
	switch kind {
	case protocol.AssignExercise:
		return "Exercise"
	case protocol.AssignSelfCheck:
		return "Self-check"
	}
	return "Question"
}

// tallyLine says how the class has answered one question so far.
func tallyLine(q protocol.Tally) string {
	s := fmt.Sprintf("%d answered", q.Answered)
	if q.Done != nil {
		s += fmt.Sprintf("; %d done (their runs are in), %d of them right", *q.Done, q.Right)
	} else {
		s += fmt.Sprintf(", %d right", q.Right)
	}
	if q.Min != nil {
		s += fmt.Sprintf(". Lowest %s, median %s, highest %s", format.Number(*q.Min), format.Number(*q.Median), format.Figure(*q.Max, q.Unit))
	}
	if q.Key != "" && len(q.Choices) == 0 {
		s += ". The right answer: " + q.Key // a choice's is marked in its table
	}
	return s + "."
}

// tallyRow is one row of a tally's table: an answer (a choice, or a
// range of numbers), how many gave it, and whether it is the right one.
type tallyRow struct {
	Label string
	N     int
	Right bool
	Width string // the row's bar, as a share of the longest, 0–100
}

// tallyRows are the rows of a tally's table: one per choice, or one per
// bin of the numbers answered.
func tallyRows(q protocol.Tally) []tallyRow {
	var rows []tallyRow
	for i, c := range q.Choices {
		rows = append(rows, tallyRow{Label: c, N: q.Counts[i], Right: q.Key == c})
	}
	for _, b := range q.Bins {
		label := format.Number(b[0]) + " – " + format.Number(b[1])
		if b[0] == b[1] {
			label = format.Number(b[0])
		}
		rows = append(rows, tallyRow{Label: label, N: int(b[2])})
	}
	most := 1
	for _, r := range rows {
		most = max(most, r.N)
	}
	for i := range rows {
		rows[i].Width = strconv.Itoa(100 * rows[i].N / most)
	}
	return rows
}

// unitOf is a number question's unit for a column's heading.
func unitOf(q protocol.Tally) string {
	if q.Unit == "" {
		return ""
	}
	return " (" + q.Unit + ")"
}

// learnersLine says how many learners have the assignment's lesson open.
func learnersLine(n int) string {
	return fmt.Sprintf("%d learner%s on its lesson's page now.", n, format.Plural(n))
}

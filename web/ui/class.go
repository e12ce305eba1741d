package ui

import (
	"fmt"

	"conclab/internal/probe"
	"conclab/internal/protocol"
)

// ClassPage is the instructor's dashboard: what to present, the queue,
// the runs measuring now, and where the learners are.
type ClassPage struct {
	Host    probe.Host
	Lessons []ClassLesson
	Class   protocol.Class // as it is when the page is rendered; the page script keeps it live
	Assign  []AssignOption // what can be assigned (assign.go)
}

// ClassLesson is a lesson the instructor can bring the class to, with the
// places on its page.
type ClassLesson struct {
	Lesson  Lesson
	Anchors []Anchor
}

// Anchor is a place on a lesson's page: an element id and its label.
type Anchor struct{ ID, Label string }

// title is a lesson's number and title, for its slug.
func (p ClassPage) title(slug string) string {
	for _, l := range p.Lessons {
		if l.Lesson.Slug == slug {
			return itoa(l.Lesson.Number) + ". " + l.Lesson.Title
		}
	}
	return slug
}

func seconds(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%d min %02d s", int(s)/60, int(s)%60)
}

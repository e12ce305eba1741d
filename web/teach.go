package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"conclab/internal/course"
	"conclab/internal/format"
	"conclab/internal/glossary"
	"conclab/internal/lab"
	"conclab/internal/learner"
	"conclab/internal/store"
	"conclab/internal/teach"
	"conclab/web/ui"
)

// What a lesson page shows of its teaching plan, with the learner's
// answers; the glossary.

// answersOf is a learner's answers, or none when they cannot be read
// (the pages then show no answers rather than fail).
func (s *Server) answersOf(me learner.ID) map[string]store.Answer {
	if me == "" {
		return map[string]store.Answer{}
	}
	as, err := s.Store.Answers(string(me))
	if err != nil {
		s.Log.Warn("reading answers", "err", err)
		return map[string]store.Answer{}
	}
	return as
}

// teachingOf is lesson l's plan as its page shows it to this learner. An
// exercise answered whose runs have all come in since is settled here.
func (s *Server) teachingOf(me learner.ID, l course.Lesson) ui.Teaching {
	answers := s.answersOf(me)
	t := ui.Teaching{Objectives: l.Teach.Objectives, WhyCare: l.Teach.WhyCare, Reading: l.Teach.Reading}
	for _, q := range l.Teach.Questions {
		v := ui.NewQuestion(q)
		if a, ok := answers[q.ID]; ok {
			v.Answered, v.Value, v.Correct, v.Explanation = true, a.Value, a.Correct, q.Explain
		}
		t.Questions = append(t.Questions, v)
	}
	for _, x := range l.Teach.Exercises {
		var a *store.Answer
		if kept, ok := answers[x.ID]; ok {
			a = &kept
		}
		assigned := course.Assigned{Exercise: x, Lesson: l.Slug}
		st, err := s.exerciseState(me, assigned, a)
		if err != nil {
			s.Log.Warn("an exercise's state", "exercise", x.ID, "err", err)
		}
		t.Exercises = append(t.Exercises, s.exerciseView(assigned, st))
	}
	return t
}

func (s *Server) exerciseView(x course.Assigned, st exercise) ui.ExerciseView {
	m := st.message(x)
	v := ui.ExerciseView{ID: x.ID, Title: x.Title, Task: x.Task, Question: ui.NewQuestion(x.Asked()), Done: m.Done, Message: m.Message}
	if st.answer != nil {
		v.Question.Answered, v.Question.Value = true, st.answer.Value
		if m.Done {
			v.Question.Correct, v.Question.Explanation = st.answer.Correct, st.answer.Explanation
		}
	}
	for i, n := range x.Needs {
		nv := s.needView(n)
		nv.Done, nv.Run = m.Needs[i].Done, m.Needs[i].Run
		v.Needs = append(v.Needs, nv)
	}
	return v
}

// needView says in words what run a need asks for.
func (s *Server) needView(n teach.Need) ui.NeedView {
	v := ui.NeedView{Experiment: n.Experiment, Settings: "any settings", Params: "{}"}
	exp, ok := s.Course.Lookup(n.Experiment)
	if !ok {
		return v
	}
	set, err := exp.Validate(n.Params, false)
	if err != nil || len(n.Params) == 0 {
		return v
	}
	var words []string
	named := map[string]any{}
	for _, p := range exp.Params {
		if _, ok := n.Params[p.Name]; ok {
			words = append(words, "“"+p.Label+"” "+paramValue(p, set[p.Name]))
			named[p.Name] = set[p.Name]
		}
	}
	v.Settings = andList(words)
	b, _ := json.Marshal(named)
	v.Params = string(b)
	return v
}

// andList joins words as a sentence does: "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func paramValue(p lab.Param, v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "on"
		}
		return "off"
	case int:
		return "= " + format.Figure(float64(x), p.Unit)
	case float64:
		return "= " + format.Figure(x, p.Unit)
	}
	return "= " + fmt.Sprint(v)
}

// tally counts, for each lesson, the exercises this learner has done and
// the self-check questions answered right, from the answers kept.
func tally(refs []ui.Lesson, lessons []course.Lesson, answers map[string]store.Answer) {
	for i, l := range lessons {
		refs[i].Exercises, refs[i].Questions = len(l.Teach.Exercises), len(l.Teach.Questions)
		for _, x := range l.Teach.Exercises {
			if a, ok := answers[x.ID]; ok && a.IsDone() {
				refs[i].Done++
			}
		}
		for _, q := range l.Teach.Questions {
			if a, ok := answers[q.ID]; ok && a.Correct {
				refs[i].Right++
			}
		}
	}
}

// glossaryPage is /glossary: every term, with the lesson that explains it.
func (s *Server) glossaryPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refs := s.Course.Refs()
		var entries []ui.GlossaryEntry
		for _, t := range glossary.Sorted() {
			e := ui.GlossaryEntry{Term: t}
			if i := slices.IndexFunc(refs, func(l ui.Lesson) bool { return l.Slug == t.Lesson && l.Ready }); i >= 0 {
				e.Lesson = &refs[i]
			}
			entries = append(entries, e)
		}
		w.Header().Set("Cache-Control", "no-cache")
		s.render(w, r, http.StatusOK, ui.GlossaryView(entries, s.Host))
	})
}

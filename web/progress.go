package web

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"conclab/internal/format"
	"conclab/internal/learner"
	"conclab/internal/store"
	"conclab/web/ui"
)

// A learner's progress: the experiments they have run, the lessons they
// have completed, and the file that carries it to another browser or
// server.

// progressOf is a learner's progress, or none when it cannot be read (the
// pages then show no ticks rather than fail).
func (s *Server) progressOf(me learner.ID) store.Progress {
	if me == "" {
		return store.Progress{}
	}
	p, err := s.Store.Progress(string(me))
	if err != nil {
		s.Log.Warn("reading progress", "err", err)
		return store.Progress{}
	}
	return p
}

// lessonRefs are the course's lessons with this learner's progress.
func (s *Server) lessonRefs(p store.Progress) []ui.Lesson {
	refs := s.Course.Refs()
	for i, l := range s.Course.Lessons() {
		for _, e := range l.Experiments {
			refs[i].Of++
			if p[e.ID].Runs > 0 {
				refs[i].Ran++
			}
		}
	}
	return refs
}

func (s *Server) progressPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := identityOf(r).Learner
		prog := s.progressOf(me)
		p := ui.ProgressPage{Host: s.Host}
		refs := s.Course.Refs()
		tally(refs, s.Course.Lessons(), s.answersOf(me))
		for i, l := range s.Course.Lessons() {
			if l.Page == nil || len(l.Experiments) == 0 {
				continue
			}
			lp := ui.LessonProgress{Lesson: refs[i]}
			p.ExercisesDone, p.Exercises = p.ExercisesDone+refs[i].Done, p.Exercises+refs[i].Exercises
			p.QuestionsRight, p.Questions = p.QuestionsRight+refs[i].Right, p.Questions+refs[i].Questions
			for _, e := range l.Experiments {
				d := prog[e.ID]
				lp.Experiments = append(lp.Experiments, ui.ExpTick{ID: e.ID, Title: e.Title, Runs: d.Runs, Last: d.Last, LastRun: d.LastRun})
				p.Of++
				if d.Runs > 0 {
					p.Ran++
				}
			}
			if lp.Complete() {
				p.Done++
			}
			p.Lessons = append(p.Lessons, lp)
		}
		p.Calibration, p.Guesses = s.guessesOf(identityOf(r).Learner)
		q := r.URL.Query()
		if q.Has("merged") {
			merged, _ := strconv.Atoi(q.Get("merged"))
			runs, _ := strconv.Atoi(q.Get("runs"))
			answers, _ := strconv.Atoi(q.Get("answers"))
			p.Message = fmt.Sprintf("Imported: %d experiment%s merged into your progress", merged, format.Plural(merged))
			if answers > 0 {
				p.Message += fmt.Sprintf(", %d answer%s to exercises and self-checks", answers, format.Plural(answers))
			}
			if runs > 0 {
				p.Message += fmt.Sprintf(", and %d run%s of this server are now listed as yours", runs, format.Plural(runs))
			}
			p.Message += "."
		}
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, http.StatusOK, ui.ProgressView(p))
	})
}

func (s *Server) progressExport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := identityOf(r).Learner
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "conclab-progress.json"}))
		if err := s.Store.ExportProgress(string(me), w); err != nil {
			s.Log.Error("exporting progress", "err", err)
		}
	})
}

func (s *Server) progressImport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			plain(w, http.StatusForbidden, "Progress is imported from this server's own page, /progress.")
			return
		}
		file, err := uploaded(w, r, 8<<20)
		if err == nil {
			var res store.ProgressImported
			if res, err = s.Store.ImportProgress(string(identityOf(r).Learner), file); err == nil {
				http.Redirect(w, r, fmt.Sprintf("/progress?merged=%d&runs=%d&answers=%d", res.Experiments, res.Runs, res.Answers), http.StatusSeeOther)
				return
			}
		}
		s.render(w, r, http.StatusBadRequest, ui.RunProblem(s.Host, "The progress was not imported", "The file was refused: "+err.Error()+". Nothing was changed."))
	})
}

// guessesOf sums up a learner's scored guesses for /progress.
func (s *Server) guessesOf(me learner.ID) (ui.GuessSummary, []ui.GuessLine) {
	gs, err := s.Store.Guesses(string(me))
	if err != nil {
		s.Log.Warn("reading guesses", "err", err)
		return ui.GuessSummary{}, nil
	}
	line := func(g store.Guess) ui.GuessLine {
		l := ui.GuessLine{Experiment: g.Experiment, Score: g.Score, Run: g.Run, Right: g.Right, Class: g.Class, At: g.At,
			Value: fmt.Sprint(g.Value), Measured: fmt.Sprint(g.Measured)}
		if exp, ok := s.Course.Registry().Lookup(g.Experiment); ok {
			for _, p := range exp.Predictions {
				if p.Claim == g.Claim {
					l.Question = p.Question
					if v, ok := g.Value.(float64); ok {
						l.Value = format.Figure(v, p.Unit)
					}
					if v, ok := g.Measured.(float64); ok {
						l.Measured = format.Figure(v, p.Unit)
					}
				}
			}
		}
		return l
	}
	c := store.Calibrate(gs)
	sum := ui.GuessSummary{Guesses: c.Guesses, Right: c.Right, Numbers: c.Numbers, MedianFactor: c.MedianFactor}
	if c.Worst != nil {
		w := line(*c.Worst)
		sum.Worst = &w
	}
	var lines []ui.GuessLine
	for i, g := range gs {
		if i == 50 {
			break
		}
		lines = append(lines, line(g))
	}
	return sum, lines
}

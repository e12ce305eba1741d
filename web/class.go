package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"conclab/web/ui"
)

// classPage is the instructor's dashboard. /class?key=KEY logs the
// instructor in; /class itself needs the instructor's cookie.
func (s *Server) classPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("key") {
			s.classLogin(w, r, r.URL.Query().Get("key"))
			return
		}
		if !identityOf(r).Instructor {
			plain(w, http.StatusForbidden, "This page is the instructor's. Open the instructor link that conclab serve printed when it started.")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		p := ui.ClassPage{Host: s.Host, Class: s.Class.View()}
		for i, l := range s.Course.Lessons() {
			if l.Page == nil {
				continue
			}
			cl := ui.ClassLesson{Lesson: s.Course.Ref(i)}
			for _, e := range l.Experiments {
				cl.Anchors = append(cl.Anchors, ui.Anchor{ID: "exp-" + e.ID, Label: e.Title})
			}
			p.Lessons = append(p.Lessons, cl)
		}
		p.Assign = s.assignOptions()
		s.render(w, r, http.StatusOK, ui.ClassView(p))
	})
}

// classPredictionsCSV exports the class's guesses, for the instructor:
// one row per guess, learners by their short names.
func (s *Server) classPredictionsCSV() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !identityOf(r).Instructor {
			plain(w, http.StatusForbidden, "The class's guesses are the instructor's. Open the instructor link that conclab serve printed when it started.")
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="predictions.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		cw.Write([]string{"learner", "experiment", "claim", "question", "value", "measured", "score", "run", "at"})
		for _, g := range s.Class.ClassGuesses() {
			question := ""
			if exp, ok := s.Course.Registry().Lookup(g.Experiment); ok {
				for _, p := range exp.Predictions {
					if p.Claim == g.Claim {
						question = p.Question
					}
				}
			}
			measured := ""
			if g.Run != "" {
				measured = fmt.Sprint(g.Score.Measured)
			}
			cw.Write([]string{g.Learner, g.Experiment, strconv.Itoa(g.Claim), question, fmt.Sprint(g.Value), measured, g.Score.Text, g.Run, g.At.UTC().Format(time.RFC3339)})
		}
		cw.Flush()
	})
}

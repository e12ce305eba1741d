package web

import (
	"net/http"

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
		p := ui.ClassPage{Host: s.Host, Class: s.Runs.Class()}
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
		s.render(w, r, http.StatusOK, ui.ClassView(p))
	})
}

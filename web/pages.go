package web

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"conclab/web/ui"
)

func (s *Server) indexPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, ui.Index(s.Course, s.Host))
	})
}

func (s *Server) lessonPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slug := chi.URLParam(r, "slug")
		i := s.lessonIndex(slug)
		if i < 0 || !s.Course[i].Ready() {
			s.notFound().ServeHTTP(w, r)
			return
		}
		l := s.Course[i]
		p := ui.LessonPage{
			Page:  ui.Page{Lesson: l, Host: s.Host, Panels: map[string]ui.PanelData{}, Latest: s.Scheduler.Latest},
			Total: len(s.Course),
		}
		for _, e := range s.Registry.ForLesson(slug) {
			p.Panels[e.ID] = ui.NewPanel(e)
		}
		if i > 0 {
			p.Prev = &s.Course[i-1]
		}
		if i+1 < len(s.Course) {
			p.Next = &s.Course[i+1]
		}
		s.render(w, r, http.StatusOK, ui.LessonView(p))
	})
}

func (s *Server) lessonIndex(slug string) int {
	for i, l := range s.Course {
		if l.Slug == slug {
			return i
		}
	}
	return -1
}

func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusNotFound, ui.NotFound(r.URL.Path, s.Course, s.Host))
	})
}

// render writes a page whole or not at all: a component that fails half
// way gets a plain 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		s.Log.Error("render", "path", r.URL.Path, "err", err)
		http.Error(w, "This page could not be shown because of a fault in the server. It has been logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

package web

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"conclab/internal/lab"
	"conclab/web/ui"
)

func (s *Server) indexPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := identityOf(r).Learner
		refs := s.lessonRefs(s.progressOf(me))
		tally(refs, s.Course.Lessons(), s.answersOf(me))
		w.Header().Set("Cache-Control", "private, no-cache") // its ticks are this learner's
		s.render(w, r, http.StatusOK, ui.Index(refs, s.Host))
	})
}

func (s *Server) lessonPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, l, ok := s.Course.Find(chi.URLParam(r, "slug"))
		if !ok || l.Page == nil {
			s.notFound().ServeHTTP(w, r)
			return
		}
		prog := s.progressOf(identityOf(r).Learner)
		page := ui.Page{Lesson: s.lessonRefs(prog)[i], Host: s.Host, Panels: map[string]ui.PanelData{}, Latest: s.latest(), Recap: s.Course.Recap()}
		var ticks []ui.ExpTick
		for _, e := range l.Experiments {
			d := ui.NewPanel(e)
			d.Last = prog[e.ID].LastRun // shown again when the page loads
			d.Runs = prog[e.ID].Runs
			d.Instructor = identityOf(r).Instructor
			d.Code = s.Course.CodeOf(e)
			page.Panels[e.ID] = d
			ticks = append(ticks, ui.ExpTick{ID: e.ID, Title: e.Title, Runs: d.Runs})
		}
		p := ui.LessonPage{Page: page, Content: l.Page(page), Total: s.Course.Len(), Ticks: ticks}
		p.Styles, p.Scripts = s.Course.Head(i)
		p.Teaching, p.Snippets = s.teachingOf(identityOf(r).Learner, l), s.Course.Snippets(l.Slug)
		if i > 0 {
			prev := s.Course.Ref(i - 1)
			p.Prev = &prev
		}
		if i+1 < s.Course.Len() {
			next := s.Course.Ref(i + 1)
			p.Next = &next
		}
		w.Header().Set("Cache-Control", "private, no-cache") // its ticks and links are this learner's
		s.render(w, r, http.StatusOK, ui.LessonView(p))
	})
}

// lessonAssets serves a lesson's own static files; a request carrying
// their current version may be cached for good.
func (s *Server) lessonAssets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slug := chi.URLParam(r, "slug")
		fsys := s.Course.Assets(slug)
		if fsys == nil {
			s.notFound().ServeHTTP(w, r)
			return
		}
		http.StripPrefix("/static/lessons/"+slug+"/", staticFiles(http.FS(fsys), s.Course.AssetVersion(slug))).ServeHTTP(w, r)
	})
}

func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusNotFound, ui.NotFound(r.URL.Path, s.Course.Refs(), s.Host))
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

// latest is the newest run of each experiment that finished ok — this
// process's, else the store's, as the scheduler finds them — with its
// result decoded once, for the page to read figures from.
func (s *Server) latest() map[string]ui.Measured {
	out := map[string]ui.Measured{}
	for exp, info := range s.Runs.Latest() {
		body, err := lab.DecodeResult(info.Result)
		if err != nil {
			continue
		}
		out[exp] = ui.Measured{Run: info.ID, Ended: info.Ended, Metrics: body.Metrics}
	}
	return out
}

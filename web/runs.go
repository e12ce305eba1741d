package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/go-chi/chi/v5"

	"conclab/internal/format"
	"conclab/internal/learner"
	"conclab/internal/store"
	"conclab/internal/tracefile"
	"conclab/web/ui"
)

// Stored runs: the history, a run's permalink and its events, metrics and
// export file, and the upload that imports a run from another machine.

// listLimit is how many runs each list of the history shows.
const listLimit = 100

var expParam = regexp.MustCompile(`^[a-z][a-z0-9-]{1,40}$`)

func (s *Server) historyPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		me := identityOf(r).Learner
		q := store.Query{Learner: string(me), Lesson: r.URL.Query().Get("lesson"), Experiment: r.URL.Query().Get("experiment"), Limit: listLimit}
		p := ui.HistoryPage{Host: s.Host, Lesson: q.Lesson, Experiment: q.Experiment}
		for i, l := range s.Course.Lessons() {
			if len(l.Experiments) > 0 {
				p.Lessons = append(p.Lessons, s.Course.Ref(i))
			}
		}
		for _, e := range s.Course.Registry().All() {
			p.Experiments = append(p.Experiments, ui.ExpOption{ID: e.ID, Title: e.Title, Lesson: e.Lesson})
		}
		status := http.StatusOK
		if _, _, ok := s.Course.Find(q.Lesson); q.Lesson != "" && !ok {
			p.Problem, status = fmt.Sprintf("There is no lesson %q; choose one of the list.", q.Lesson), http.StatusBadRequest
		} else if q.Experiment != "" && !expParam.MatchString(q.Experiment) {
			p.Problem, status = fmt.Sprintf("%q is not an experiment id (lower-case words joined by '-', such as switch-cost).", q.Experiment), http.StatusBadRequest
		}
		if status == http.StatusOK {
			l, err := s.Store.List(q)
			if err != nil {
				s.Log.Error("listing runs", "err", err)
				p.Problem = "The runs could not be read from the store just now; try again in a moment."
			}
			p.Mine, p.Others, p.MineTotal, p.OthersTotal = s.rows(l.Mine, me, true), s.rows(l.Others, me, false), l.MineTotal, l.OthersTotal
		}
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, status, ui.HistoryView(p))
	})
}

// rows are runs as a listing shows them.
func (s *Server) rows(runs []store.Run, me learner.ID, mine bool) []ui.RunRow {
	out := make([]ui.RunRow, 0, len(runs))
	for _, r := range runs {
		out = append(out, s.row(r, me, mine))
	}
	return out
}

func (s *Server) row(r store.Run, me learner.ID, mine bool) ui.RunRow {
	row := ui.RunRow{ID: r.ID, Experiment: r.Experiment, Title: r.Experiment, Lesson: r.Lesson, When: r.Created, Status: r.Status,
		Holds: r.Holds, Differs: r.Differs, Inconclusive: r.Inconclusive, Who: who(r, me, mine)}
	if e, ok := s.Course.Registry().Lookup(r.Experiment); ok {
		row.Title = e.Title
	}
	if r.Headline != nil {
		row.Headline = format.Figure(r.Headline.Value, r.Headline.Unit) + " — " + r.Headline.Name
	}
	if h := r.Host; h != nil {
		row.Host = fmt.Sprintf("%s · %d CPU%s", h.CPUModel, h.EffectiveCPUs(), format.Plural(h.EffectiveCPUs()))
		if h.Name != "" {
			row.Host = h.Name + " · " + row.Host
		}
		if h.Virtual != "" && h.Virtual != "none" {
			row.Host += " · " + h.Virtual
		}
	}
	return row
}

// who says whose run it is, without ever naming a learner's id.
func who(r store.Run, me learner.ID, mine bool) string {
	switch {
	case mine || (me != "" && r.Learner == string(me)):
		return "you"
	case r.Source == store.SourceCLI:
		return "terminal"
	case r.Instructor:
		return "the instructor"
	case r.Learner != "":
		return learner.ID(r.Learner).Name()
	case r.Source == store.SourceImport:
		return "imported"
	}
	return "someone"
}

// lookup finds the run a request names, or answers 404 with a page that
// says why.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, id string, page bool) (store.Run, bool) {
	notFound := func(msg string) {
		if page {
			s.render(w, r, http.StatusNotFound, ui.RunProblem(s.Host, "No such run", msg))
		} else {
			plain(w, http.StatusNotFound, msg)
		}
	}
	if !store.ValidID(id) {
		notFound(fmt.Sprintf("%q is not a run id: a run id is 12 lower-case hexadecimal digits, such as 3f9a0c12ab45.", id))
		return store.Run{}, false
	}
	run, err := s.Store.Get(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		notFound(fmt.Sprintf("There is no run %s on this server: it may have been pruned (the server keeps its newest runs), or measured on another machine — import it there with conclab export and conclab import.", id))
		return store.Run{}, false
	case err != nil:
		s.Log.Error("reading a run", "run", id, "err", err)
		http.Error(w, "The run could not be read from the store just now; try again in a moment.", http.StatusServiceUnavailable)
		return store.Run{}, false
	}
	return run, true
}

func (s *Server) runPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		run, ok := s.lookup(w, r, chi.URLParam(r, "id"), true)
		if !ok {
			return
		}
		v, err := s.storedRun(run, identityOf(r).Learner)
		if err != nil {
			s.Log.Error("reading a run's events", "run", run.ID, "err", err)
			http.Error(w, "The run could not be read from the store just now; try again in a moment.", http.StatusServiceUnavailable)
			return
		}
		s.render(w, r, http.StatusOK, ui.RunView(v))
	})
}

func (s *Server) runEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		run, ok := s.lookup(w, r, chi.URLParam(r, "id"), false)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		if err := s.Store.WriteEvents(run.ID, w); err != nil {
			s.Log.Error("writing a run's events", "run", run.ID, "err", err)
		}
	})
}

func (s *Server) runMetrics() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		run, ok := s.lookup(w, r, chi.URLParam(r, "id"), false)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": run.ID + ".csv"}))
		cw := csv.NewWriter(w)
		cw.Write([]string{"key", "name", "value", "unit", "p50", "p99", "min", "max", "n"})
		opt := func(f *float64) string {
			if f == nil {
				return ""
			}
			return strconv.FormatFloat(*f, 'g', -1, 64)
		}
		for _, m := range run.Body().Metrics {
			n := ""
			if m.N > 0 {
				n = strconv.Itoa(m.N)
			}
			cw.Write([]string{m.Key, m.Name, strconv.FormatFloat(m.Value, 'g', -1, 64), m.Unit, opt(m.P50), opt(m.P99), opt(m.Min), opt(m.Max), n})
		}
		cw.Flush()
	})
}

func (s *Server) runExport() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		run, ok := s.lookup(w, r, chi.URLParam(r, "id"), false)
		if !ok {
			return
		}
		if !run.Finished() {
			plain(w, http.StatusConflict, "This run has not finished yet: download it when it has.")
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "conclab-run-" + run.ID + ".ndjson"}))
		if err := s.Store.Export(run.ID, w); err != nil {
			s.Log.Error("exporting a run", "run", run.ID, "err", err)
		}
	})
}

// runTrace serves the raw Go execution trace a run carries in its events
// (scheduler-trace's), put back together, as a file for go tool trace.
func (s *Server) runTrace() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		run, ok := s.lookup(w, r, chi.URLParam(r, "id"), false)
		if !ok {
			return
		}
		if !run.Finished() {
			plain(w, http.StatusConflict, "This run has not finished yet: its trace is complete once it has.")
			return
		}
		evs, err := s.Store.Events(run.ID, tracefile.PartType, tracefile.FileType)
		if err != nil {
			s.Log.Error("reading a run's trace", "run", run.ID, "err", err)
			http.Error(w, "The run could not be read from the store just now; try again in a moment.", http.StatusServiceUnavailable)
			return
		}
		raw := make([][]byte, len(evs))
		for i, e := range evs {
			raw[i] = e.JSON
		}
		data, err := tracefile.Assemble(raw)
		switch {
		case errors.Is(err, tracefile.ErrNone):
			plain(w, http.StatusNotFound, fmt.Sprintf("Run %s carries no execution trace: only scheduler-trace's runs do.", run.ID))
			return
		case err != nil:
			plain(w, http.StatusNotFound, fmt.Sprintf("Run %s's execution trace cannot be offered: %v.", run.ID, err))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "conclab-" + run.ID + ".trace"}))
		w.Write(data)
	})
}

// sameOrigin refuses a form posted from another site's page, which a
// browser would send with this site's cookies.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// uploaded is the file of a multipart form's "file" field, read as it
// arrives (never kept whole in memory or on disk).
func uploaded(w http.ResponseWriter, r *http.Request, limit int64) (io.Reader, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fmt.Errorf("send the file from the page's form (a multipart upload): %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("the form held no file: choose one, then press Import")
		}
		if part.FormName() == "file" {
			return part, nil
		}
	}
}

func (s *Server) importRuns() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sameOrigin(r) {
			plain(w, http.StatusForbidden, "Runs are imported from this server's own page, /runs.")
			return
		}
		file, err := uploaded(w, r, store.MaxImport+1<<20)
		if err == nil {
			var imp store.Imported
			if imp, err = s.Store.Import(file, string(identityOf(r).Learner)); err == nil {
				http.Redirect(w, r, "/runs/"+imp.ID, http.StatusSeeOther)
				return
			}
		}
		var ie *store.ImportError
		if !errors.As(err, &ie) && !errors.Is(err, store.ErrNotFound) {
			s.Log.Info("import refused", "err", err)
		}
		s.render(w, r, http.StatusBadRequest, ui.RunProblem(s.Host, "The file was not imported", "The file was refused: "+err.Error()+"."))
	})
}

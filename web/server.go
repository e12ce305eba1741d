// Package web serves the course: the lesson pages, the JSON endpoints and
// the websocket that streams runs. It knows how to route, render and talk;
// it does not know how any experiment measures.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"conclab/internal/classroom"
	"conclab/internal/course"
	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/learner"
	"conclab/internal/probe"
	"conclab/internal/protocol"
	"conclab/internal/store"
	"conclab/static"
)

// Runs is what the web layer needs of the scheduler (engine.Scheduler is
// the real one; tests may hand it a fake).
type Runs interface {
	// Start answers a request for a run and makes v watch what it answers
	// with: v is sent accepted or offer, then the run's events.
	Start(req engine.Request, v engine.Viewer) (engine.Started, error)
	// StartEverywhere queues the instructor's run of req on every host
	// that is up, and makes v watch them all.
	StartEverywhere(req engine.Request, v engine.Viewer) ([]*engine.Run, error)
	// Watch makes v a viewer of a run, this process's or the store's
	// (engine.ErrUnknownRun if neither has it).
	Watch(id string, v engine.Viewer) error
	// Cancel withdraws a learner's request for a run; the instructor's
	// cancel stops any run.
	Cancel(id, learner string, instructor bool, v engine.Viewer) (engine.CancelResult, error)
	// Leave stops v watching every run; called when its connection closes.
	Leave(v engine.Viewer)
	// Pause holds students' runs (true) or lets them go on (false).
	Pause(paused bool)
	// Latest is, by experiment, the newest run that finished ok.
	Latest() map[string]engine.Info
	// Hosts lists the measuring hosts.
	Hosts() []engine.HostInfo
	// Stats counts what the runs are doing.
	Stats() engine.Stats
}

// Class is what the web layer needs of the classroom (classroom.Classroom
// is the real one).
type Class interface {
	// Follow makes v a page of a lesson, following the instructor.
	Follow(lesson, learner string, instructor bool, v engine.Viewer)
	// SetFollowing turns following the instructor on or off for page v.
	SetFollowing(v engine.Viewer, on bool)
	// Leave forgets v; called when its connection closes.
	Leave(v engine.Viewer)
	// Present sends every following page to a lesson and a place on it.
	Present(lesson, anchor string)
	// WatchClass sends v the class view now and as it changes.
	WatchClass(v engine.Viewer)
	// View is the class view now.
	View() protocol.Class
	// Predict takes a learner's guess for a claim of an experiment.
	Predict(exp *lab.Experiment, claim int, value any, learner string) (protocol.Predicted, error)
	// OpenRound starts collecting the class's guesses for an experiment.
	OpenRound(exp *lab.Experiment)
	// Reveal shows the followers of the experiment's lesson the class's guesses.
	Reveal(exp *lab.Experiment) error
	// ResetGuesses starts a new round of guesses for an experiment.
	ResetGuesses(exp *lab.Experiment)
	// ClassGuesses is every class guess, for the instructor's CSV.
	ClassGuesses() []classroom.ScoredGuess
	// Assign gives the class a task and sends following pages to it.
	Assign(t classroom.Task) error
	// Answered reports an answer the store kept, for the tally of what
	// is assigned.
	Answered(a classroom.Answer)
}

// Server holds what the handlers need.
type Server struct {
	Course *course.Course
	Runs   Runs
	Class  Class
	// Store keeps runs and progress; nil keeps them in memory only.
	Store Store
	Host  probe.Host
	Log   *slog.Logger
	// Signer signs learner cookies and the instructor's cookie.
	Signer *learner.Signer
	// InstructorKey is what /class?key= must be to make someone the
	// instructor; empty means nobody can be.
	InstructorKey string
	// OriginPatterns lists extra hosts (e.g. "class.example.org") whose
	// pages may open the websocket; the server's own host always may.
	OriginPatterns []string

	guesses guessLimit
}

// Routes lists every route of the course in one place.
func (s *Server) Routes() http.Handler {
	if s.Store == nil {
		s.Store = store.Memory(store.Options{Log: s.Log})
	}
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, securityHeaders, s.identify, s.storeNotice)

	r.Method(http.MethodGet, "/", s.indexPage())
	r.Method(http.MethodGet, "/lessons/{slug}", s.lessonPage())
	r.Method(http.MethodGet, "/runs", s.historyPage())
	r.Method(http.MethodPost, "/runs/import", s.importRuns())
	r.Method(http.MethodGet, "/runs/{id}", s.runPage())
	r.Method(http.MethodGet, "/runs/{id}.json", s.runEvents())   // as `conclab run --json` prints them
	r.Method(http.MethodGet, "/runs/{id}.csv", s.runMetrics())   // key,name,value,unit,p50,p99,min,max,n
	r.Method(http.MethodGet, "/runs/{id}.ndjson", s.runExport()) // as `conclab export` writes it, to import elsewhere
	r.Method(http.MethodGet, "/runs/{id}/trace", s.runTrace())   // the Go execution trace a run carries, for go tool trace
	r.Method(http.MethodGet, "/compare", s.comparePage())
	r.Method(http.MethodGet, "/progress", s.progressPage())
	r.Method(http.MethodGet, "/progress.json", s.progressExport())
	r.Method(http.MethodPost, "/progress/import", s.progressImport())
	r.Method(http.MethodGet, "/glossary", s.glossaryPage())
	r.Method(http.MethodGet, "/class", s.classPage())
	r.Method(http.MethodGet, "/class/predictions.csv", s.classPredictionsCSV())
	r.Method(http.MethodGet, "/class/answers.csv", s.classAnswersCSV())
	r.Method(http.MethodGet, "/healthz", healthz())
	r.Method(http.MethodGet, "/api/experiments", experimentsJSON(s.Course.Registry()))
	r.Method(http.MethodGet, "/api/host", hostJSON(s.Host))
	r.Method(http.MethodGet, "/api/hosts", hostsJSON(s.Runs))
	r.Method(http.MethodGet, "/api/stats", statsJSON(s.Runs))
	r.Method(http.MethodGet, "/ws", s.websocket())
	r.Method(http.MethodGet, "/static/lessons/{slug}/*", s.lessonAssets())
	r.Method(http.MethodGet, "/static/*", http.StripPrefix("/static/", staticFiles(http.FS(static.FS), static.Version())))
	r.NotFound(s.notFound().ServeHTTP)
	return r
}

// securityHeaders sets a strict Content-Security-Policy: scripts, styles,
// images and connections only from this server; no frames, no inline code.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// staticFiles serves the embedded assets; a request carrying the current
// version may be cached for good.
func staticFiles(fsys http.FileSystem, version string) http.Handler {
	files := http.FileServer(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r) // no directory listings
			return
		}
		if v := r.URL.Query().Get("v"); v != "" && v == version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

// writeTimeout bounds how long one websocket message may take to write.
const writeTimeout = 5 * time.Second

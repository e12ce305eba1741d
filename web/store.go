package web

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"conclab/internal/store"
	"conclab/web/ui"
)

// Store is what the web layer needs of the run store (store.Store is the
// real one; tests may hand it a fake).
type Store interface {
	// Health says whether runs are being saved, and why not.
	Health() store.Health
	// Get is a stored run with its result (store.ErrNotFound if none).
	Get(id string) (store.Run, error)
	// Events are a run's events in order, only of these types if any.
	Events(id string, types ...string) ([]store.Event, error)
	// WriteEvents writes a run's events as `conclab run --json` prints them.
	WriteEvents(id string, w io.Writer) error
	// Export writes a run as a file another conclab imports.
	Export(id string, w io.Writer) error
	// Import stores a run from such a file, as learner's.
	Import(r io.Reader, learner string) (store.Imported, error)
	// List selects runs, the learner's apart from the others.
	List(q store.Query) (store.Listing, error)
	// Others are the finished runs of an experiment but id, the learner's first.
	Others(experiment, id, learner string, limit int) ([]store.Run, error)
	// Progress is what a learner has run.
	Progress(learner string) (store.Progress, error)
	// Guesses are a learner's scored guesses, newest first.
	Guesses(learner string) ([]store.Guess, error)
	// ExportProgress writes a learner's progress as one JSON file.
	ExportProgress(learner string, w io.Writer) error
	// ImportProgress merges such a file into a learner's progress.
	ImportProgress(learner string, r io.Reader) (store.ProgressImported, error)
	// Flush waits until every run recorded so far is written, so that a
	// run that has just ended is found.
	Flush()
	// Answer keeps a learner's first answer to a question, and returns the
	// one kept and whether this one was new.
	Answer(a store.Answer) (store.Answer, bool, error)
	// Settle opens an exercise's answer once its runs exist.
	Settle(learner, question string, correct bool, runs []string, explanation string, done time.Time) (store.Answer, error)
	// Answers are a learner's answers by question id.
	Answers(learner string) (map[string]store.Answer, error)
	// AllAnswers are every learner's answers, oldest first.
	AllAnswers(q store.AnswerQuery) ([]store.Answer, error)
	// LearnerRuns are a learner's runs of these experiments that finished
	// ok, with their results, newest first.
	LearnerRuns(learner string, experiments []string, limit int) ([]store.Run, error)
}

// lossShown is how long the pages mention events the disk could not keep
// up with.
const lossShown = 10 * time.Minute

// storeNotice puts on every page, as a banner, why runs are not being
// saved when they are not.
func (s *Server) storeNotice(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if text := noticeOf(s.Store.Health()); text != "" {
			r = r.WithContext(ui.WithNotice(r.Context(), text))
		}
		next.ServeHTTP(w, r)
	})
}

func noticeOf(h store.Health) string {
	switch {
	case h.Reason != "":
		return "Runs are not being saved: " + h.Reason + ". Experiments still run, and their results show here as usual."
	case h.Lost > 0 && time.Since(h.LostAt) < lossShown:
		return fmt.Sprintf("Some events of recent runs (%d) could not be saved: the disk could not keep up. Those runs are stored incomplete, and say so.", h.Lost)
	}
	return ""
}

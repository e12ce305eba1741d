package ui

import (
	"context"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

// Views of stored runs: the history, a run's permalink, two runs side by
// side, a learner's progress.

type noticeKey struct{}

// WithNotice gives the pages rendered with ctx a banner: why runs are not
// being saved.
func WithNotice(ctx context.Context, text string) context.Context {
	return context.WithValue(ctx, noticeKey{}, text)
}

func noticeOf(ctx context.Context) string {
	s, _ := ctx.Value(noticeKey{}).(string)
	return s
}

// RunRow is one stored run in a listing.
type RunRow struct {
	ID           string
	Experiment   string // id
	Title        string // the experiment's title, or its id when this build does not have it
	Lesson       string // slug
	When         time.Time
	Status       string
	Headline     string // the result's first figure, with its name
	Holds        int
	Differs      int
	Inconclusive int
	Who          string // "you", a learner's short name, "terminal", "imported"
	Host         string // the machine, in a few words
}

// URL is the run's permalink.
func (r RunRow) URL() templ.SafeURL { return templ.SafeURL("/runs/" + r.ID) }

// ExpOption is an experiment in a filter.
type ExpOption struct{ ID, Title, Lesson string }

// HistoryPage is /runs.
type HistoryPage struct {
	Host                   probe.Host
	Mine, Others           []RunRow
	MineTotal, OthersTotal int
	Lessons                []Lesson
	Experiments            []ExpOption
	Lesson, Experiment     string // the filter
	Problem                string // why an upload was refused, or a filter is wrong
}

// KV is one named value.
type KV struct{ Name, Value string }

// ChartView is a chart of stored runs: its declaration, the runs it draws
// (the page script fetches their events), and its data as a table for
// readers without JavaScript.
type ChartView struct {
	lab.Chart
	Runs   string // run ids, space-separated
	Labels string // their labels in an overlay ("A B"); "" for one run
	Head   []string
	Rows   [][]string
	More   int // rows not shown
}

// TableView is a live table as the run left it.
type TableView struct {
	lab.Table
	Rows [][]string
}

// StoredRun is a run's permalink page.
type StoredRun struct {
	Host                              probe.Host // the server's
	Run                               RunRow
	Lesson                            *Lesson // nil when this build has no such lesson
	Summary                           string
	Params                            []KV
	Measured                          *probe.Host // the host it was measured on; nil when it never started
	Error                             string
	Source                            string
	Created, Started, Ended, Imported time.Time
	Claims                            []lab.Claim
	Metrics                           []lab.Metric
	Tables                            []TableView
	Charts                            []ChartView
	Log                               []string
	Events, Dropped, Lost             int
	Others                            []RunRow // runs of the same experiment it may be compared with
	Running                           bool
	// Trace is the raw Go execution trace the run carries, for go tool
	// trace: its size in bytes (0: none), and whether it was cut at its
	// bound, which leaves it unreadable.
	Trace    int
	TraceCut bool
}

// Diff is one fact of two runs side by side.
type Diff struct {
	Name, A, B string
	Differs    bool
}

// MetricPair is one metric of two runs, matched by key.
type MetricPair struct {
	Key, Name string
	A, B      string // "" when the run lacks it
	Ratio     string // B / A, when both have it
}

// ClaimPair is one claim of two runs, matched by its statement.
type ClaimPair struct {
	Claim, Expected string
	A, B            *lab.Claim
}

// ComparePage is /compare.
type ComparePage struct {
	Host    probe.Host
	A, B    RunRow
	Title   string
	Params  []Diff
	Facts   []Diff // the hosts
	Metrics []MetricPair
	Claims  []ClaimPair
	Charts  []ChartView
}

// ExpTick is one experiment of a lesson, run by this learner or not.
type ExpTick struct {
	ID, Title string
	Runs      int
	Last      time.Time
	LastRun   string
}

// LessonProgress is one lesson on /progress.
type LessonProgress struct {
	Lesson      Lesson
	Experiments []ExpTick
}

// ProgressPage is /progress.
type ProgressPage struct {
	Host    probe.Host
	Lessons []LessonProgress
	Ran, Of int // experiments run, of all
	Done    int // lessons completed
	Message string
	Problem string
	// Exercises done and self-check questions answered right, of all.
	ExercisesDone, Exercises, QuestionsRight, Questions int

	// Calibration sums up the learner's guesses; Guesses are the newest.
	Calibration GuessSummary
	Guesses     []GuessLine
}

// GuessSummary is how well a learner's guesses matched this machine.
type GuessSummary struct {
	Guesses, Right, Numbers int
	MedianFactor            float64 // how far off a guessed number was, as a factor (the median)
	Worst                   *GuessLine
}

// GuessLine is one scored guess.
type GuessLine struct {
	Experiment, Question, Score, Run string
	Value, Measured                  string // with the unit
	Right, Class                     bool
	At                               time.Time
}

// Complete reports whether every experiment of the lesson has been run.
func (l LessonProgress) Complete() bool {
	for _, e := range l.Experiments {
		if e.Runs == 0 {
			return false
		}
	}
	return len(l.Experiments) > 0
}

func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func statusLabel(s string) string {
	switch s {
	case "ok":
		return "finished"
	case "timeout":
		return "timed out"
	}
	return s
}

func figure(m lab.Metric) string { return format.Figure(m.Value, m.Unit) }

func spread(m lab.Metric) string {
	if m.Min == nil || m.P99 == nil || m.Max == nil {
		return "–"
	}
	return format.Number(*m.Min) + " · " + format.Number(*m.P99) + " · " + format.Number(*m.Max)
}

func count(n int) string {
	if n == 0 {
		return "–"
	}
	return itoa(n)
}

func verdictWord(c *lab.Claim) string {
	if c == nil {
		return "not in this run"
	}
	if c.Verdict == "" {
		return "no verdict"
	}
	return c.Verdict
}

func verdictOf(c *lab.Claim) string {
	if c == nil || c.Verdict == "" {
		return "pending"
	}
	return c.Verdict
}

// glance is a run's verdicts in a few words.
func glance(r RunRow) string {
	var parts []string
	if r.Holds > 0 {
		parts = append(parts, itoa(r.Holds)+" holds")
	}
	if r.Differs > 0 {
		parts = append(parts, itoa(r.Differs)+" differs")
	}
	if r.Inconclusive > 0 {
		parts = append(parts, itoa(r.Inconclusive)+" inconclusive")
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, " · ")
}

func historyURL(exp string) templ.SafeURL {
	return templ.SafeURL("/runs?experiment=" + url.QueryEscape(exp))
}

func plainURL(s string) templ.SafeURL { return templ.SafeURL(s) }

// kib is a size in bytes as the pages print it, in KiB.
func kib(bytes int) string { return format.Figure(float64(bytes)/1024, "KiB") }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func factorText(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) + "×"
}

func boolText(b bool) string { return strconv.FormatBool(b) }

// runTableLabel names a table of the history (mine or others) for the
// keyboard's region.
func runTableLabel(id string) string {
	if id == "mine" {
		return "Your runs"
	}
	return "Other runs on this server"
}

// diffLabel is the heading of the first column of a comparison's table
// (params or hosts).
func diffLabel(id string) string {
	if id == "params" {
		return "Parameter"
	}
	return "Machine fact"
}

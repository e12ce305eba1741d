// Package ui holds the course's shared page components: the layout, the
// host panel and the experiment panel. Components take plain view structs
// and know nothing about HTTP; lesson packages use them to build their
// pages.
package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/static"
)

// Lesson is one entry of the course as pages show it: the index, the
// navigation, the recap. The course (internal/course) makes them from its
// lesson descriptors.
type Lesson struct {
	Number  int // from 1, its place in the course
	Slug    string
	Title   string
	Summary string // one sentence for the index
	Ready   bool   // it has a page; otherwise the index shows it as coming
	// Ran of Of experiments of the lesson this learner has run (Of is 0
	// when the page does not show progress).
	Ran, Of int
	// Done of Exercises exercises this learner has done, and Right of
	// Questions self-check questions answered right.
	Done, Exercises, Right, Questions int
}

// RanWords says how many of the lesson's experiments this learner has
// run, in words that fit one experiment as well as several.
func (l Lesson) RanWords() string {
	switch {
	case l.Of == 1 && l.Ran == 1:
		return "Completed: you have run its experiment."
	case l.Of == 1:
		return "You have not run its experiment yet."
	case l.Ran == l.Of:
		return fmt.Sprintf("Completed: you have run all %d of its experiments.", l.Of)
	case l.Ran == 0:
		return fmt.Sprintf("You have not run any of its %d experiments yet.", l.Of)
	}
	return fmt.Sprintf("You have run %d of its %d experiments.", l.Ran, l.Of)
}

// URL is the lesson's address.
func (l Lesson) URL() templ.SafeURL { return templ.SafeURL("/lessons/" + l.Slug) }

// Page is what a lesson's content gets to render itself.
type Page struct {
	Lesson Lesson
	Host   probe.Host
	Panels map[string]PanelData
	// Latest is, by experiment id, the newest run of each experiment that
	// finished ok here (this process's, else the store's): summary cells
	// and the recap read their figures from it. Nil shows none.
	Latest map[string]Measured
	// Recap is every figure the course's lessons offer to the recap, in
	// course order.
	Recap []RecapFigure
}

// Measured is a finished run as pages read figures from it.
type Measured struct {
	Run     string
	Ended   time.Time
	Metrics []lab.Metric
}

// RecapFigure is one figure a lesson offers to the course's recap: a
// metric of one of its experiments, found by key.
type RecapFigure struct {
	Group      string // the recap's block it goes in, such as RecapSwitches
	Experiment string // experiment id
	Key        string // the metric's key in that experiment's result
	What       string // what the figure is, in the recap's words
	Claim      string // what the course claims about it, briefly
	Lesson     Lesson // the lesson it comes from; the course fills it in
}

// The recap's blocks, in the order the recap shows them.
const (
	RecapSwitches      = "Switch costs"
	RecapCreation      = "Creation costs"
	RecapMemory        = "Memory per unit"
	RecapCommunication = "Communication"
	RecapSpeedups      = "Speed-ups"
)

// RecapGroups is the order of the recap's blocks; a block not listed comes
// after these.
var RecapGroups = []string{RecapSwitches, RecapCreation, RecapMemory, RecapCommunication, RecapSpeedups}

// Panel renders the experiment panel of one of the lesson's experiments.
func (p Page) Panel(id string) templ.Component {
	d, ok := p.Panels[id]
	if !ok {
		return missingPanel(id)
	}
	return Panel(d)
}

// LessonPage is the whole page around a lesson's content.
type LessonPage struct {
	Page
	Content         templ.Component // the lesson's own prose and panels
	Total           int
	Prev, Next      *Lesson
	Styles, Scripts []string // addresses of the lesson's own assets, linked in the head
	// Ticks are the lesson's experiments, each run by this learner or not.
	Ticks []ExpTick
	// Teaching is the lesson's objectives, exercises, self-check and
	// reading, with this learner's answers.
	Teaching Teaching
	// Snippets are the lesson's code snippets by name, cut from its
	// sources at start, for its prose (Page.Code).
	Snippets map[string]Snippet
}

// Meta is what the frame of every page needs.
type Meta struct {
	Title, Description string
	Host               probe.Host
	Lesson             string   // the slug of the lesson shown, if any
	Styles, Scripts    []string // extra stylesheets and module scripts for the head
}

// PanelData is the view of one experiment's panel.
type PanelData struct {
	ID          string
	Title       string
	Summary     string
	Params      []ParamView
	Claims      []lab.Claim
	Predictions []lab.Prediction
	Charts      []lab.Chart
	Tables      []lab.Table
	Limit       string
	// Runs is how many of this learner's runs of it finished ok; the panel
	// links to them.
	Runs int
	// Instructor is true on the instructor's own page: it may run the
	// experiment on every measuring host at once.
	Instructor bool
	// Code is the snippets of its source that do the measuring.
	Code []Snippet

	// Last is the newest of this learner's runs of it that finished ok,
	// which the page shows again when it loads ("" for none).
	Last string
}

// ParamView is one bounded input of a panel's form.
type ParamView struct {
	Name, Label, Help, Unit string
	Kind                    lab.Kind
	Value                   string
	Min, Max, Step          string
	Choices                 []string
	Range                   string
}

// InputID is the element id of the parameter's input inside panel exp.
func (p ParamView) InputID(exp string) string { return exp + "--" + p.Name }

// NewPanel builds the panel view of an experiment.
func NewPanel(e *lab.Experiment) PanelData {
	d := PanelData{ID: e.ID, Title: e.Title, Summary: e.Summary, Claims: e.Claims, Predictions: e.Predictions, Charts: e.Charts, Tables: e.Tables, Limit: e.TimeLimit().String()}
	for _, p := range e.Params {
		v := ParamView{Name: p.Name, Label: p.Label, Help: p.Help, Unit: p.Unit, Kind: p.Kind, Choices: p.Choices, Range: p.Range(), Value: fmt.Sprint(p.Default)}
		switch p.Kind {
		case lab.KindInt:
			v.Min, v.Max, v.Step = num(p.Min), num(p.Max), "1"
		case lab.KindFloat:
			v.Min, v.Max, v.Step = num(p.Min), num(p.Max), "any"
		}
		d.Params = append(d.Params, v)
	}
	return d
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Asset is the versioned address of an embedded static file.
func Asset(path string) string { return static.URL(path) }

// cliCommand is the terminal command that runs the same experiment.
func cliCommand(id string) string { return "go run ./cmd/conclab run " + id }

// hostSummary is one line about the machine for the page header.
func hostSummary(h probe.Host) string {
	parts := []string{
		fmt.Sprintf("%d usable CPU%s", h.EffectiveCPUs(), format.Plural(h.EffectiveCPUs())),
		h.CPUModel,
	}
	if h.Virtual != "none" && h.Virtual != "" {
		parts = append(parts, h.Virtual)
	}
	return strings.Join(parts, " · ")
}

func itoa(n int) string { return strconv.Itoa(n) }

// guessID is the element id of a guess input of panel exp.
func guessID(exp string, claim int) string { return exp + "--guess-" + itoa(claim) }

func guessSliderLabel(p lab.Prediction) string {
	scale := "a linear scale"
	if p.Log {
		scale = "a log scale"
	}
	return "My guess on " + scale + " from " + num(p.Min) + " to " + num(p.Max) + " " + p.Unit
}

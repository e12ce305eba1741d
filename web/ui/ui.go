// Package ui holds the course's shared page components: the layout, the
// host panel and the experiment panel. Components take plain view structs
// and know nothing about HTTP; lesson packages use them to build their
// pages.
package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"conclab/internal/lab"
	"conclab/internal/probe"
	"conclab/static"
)

// Lesson is one entry of the course.
type Lesson struct {
	Number  int
	Slug    string
	Title   string
	Summary string // one sentence for the index
	// Content renders the lesson's prose and panels; nil means the lesson
	// is not written yet and shows as coming.
	Content func(Page) templ.Component
}

// Ready reports whether the lesson has a page.
func (l Lesson) Ready() bool { return l.Content != nil }

// URL is the lesson's address.
func (l Lesson) URL() templ.SafeURL { return templ.SafeURL("/lessons/" + l.Slug) }

// Page is what a lesson's content gets to render itself.
type Page struct {
	Lesson Lesson
	Host   probe.Host
	Panels map[string]PanelData
	// Latest returns the newest run of an experiment that finished ok since
	// the server started (for recaps); nil when there is no scheduler.
	Latest func(experiment string) (lab.Info, bool)
}

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
	Total      int
	Prev, Next *Lesson
}

// PanelData is the view of one experiment's panel.
type PanelData struct {
	ID      string
	Title   string
	Summary string
	Params  []ParamView
	Claims  []lab.Claim
	Charts  []lab.Chart
	Tables  []lab.Table
	Limit   string
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
	d := PanelData{ID: e.ID, Title: e.Title, Summary: e.Summary, Claims: e.Claims, Charts: e.Charts, Tables: e.Tables, Limit: e.TimeLimit().String()}
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
		fmt.Sprintf("%d usable CPU%s", h.EffectiveCPUs(), plural(h.EffectiveCPUs())),
		h.CPUModel,
	}
	if h.Virtual != "none" && h.Virtual != "" {
		parts = append(parts, h.Virtual)
	}
	return strings.Join(parts, " · ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func itoa(n int) string { return strconv.Itoa(n) }

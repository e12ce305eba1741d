package choosing

import (
	"fmt"
	"time"

	"github.com/a-h/templ"

	"conclab/internal/format"
	"conclab/internal/lab"
	"conclab/web/ui"
)

// The recap is a table of what this machine measured across the course.
// Its rows are the figures the lessons offer to it (ui.Page.Recap, in
// course order, each naming an experiment and a metric key), gathered in
// blocks in the order of ui.RecapGroups. Each figure comes from its
// experiment's latest run that finished since the server started, found
// by its key. A figure whose experiment has not run says "no run yet" and
// links to where it runs; one whose last run has no metric with its key
// says so. Nothing here names a lesson or a metric: the lessons do.

// recapLine is a row as the page shows it.
type recapLine struct {
	ui.RecapFigure
	ran    bool      // the experiment has a finished run since the server started
	found  bool      // and its result has a metric with the figure's key
	ended  time.Time // when that run ended
	value  string    // the figure with its unit
	metric string    // the metric's name
	n      int       // samples behind the figure, when it says
}

// recapBlock is a titled block of rows.
type recapBlock struct {
	title string
	lines []recapLine
}

// recapBlocks is the recap of the page's figures and latest runs: blocks
// in the order of ui.RecapGroups, then any group not listed there in the
// order its first figure comes; rows in course order; no empty blocks.
func recapBlocks(p ui.Page) []recapBlock {
	var blocks []recapBlock
	at := map[string]int{}
	for _, g := range ui.RecapGroups {
		at[g] = len(blocks)
		blocks = append(blocks, recapBlock{title: g})
	}
	for _, f := range p.Recap {
		i, ok := at[f.Group]
		if !ok {
			i = len(blocks)
			at[f.Group] = i
			blocks = append(blocks, recapBlock{title: f.Group})
		}
		blocks[i].lines = append(blocks[i].lines, recapLineOf(p, f))
	}
	out := blocks[:0]
	for _, b := range blocks {
		if len(b.lines) > 0 {
			out = append(out, b)
		}
	}
	return out
}

// recapLineOf fills one figure's row from its experiment's latest run
// (none when the page has no runs).
func recapLineOf(p ui.Page, f ui.RecapFigure) recapLine {
	l := recapLine{RecapFigure: f}
	run, ran := p.Latest[f.Experiment]
	if !ran {
		return l
	}
	l.ran, l.ended = true, run.Ended
	if m, ok := lab.FindMetric(run.Metrics, f.Key); ok {
		l.found, l.value, l.metric, l.n = true, format.Figure(m.Value, m.Unit), m.Name, m.N
	}
	return l
}

// link is where the figure's experiment runs.
func (l recapLine) link() templ.SafeURL {
	return templ.SafeURL("/lessons/" + l.Lesson.Slug + "#exp-" + l.Experiment)
}

// lessonName is the figure's lesson as the course numbers it; this
// lesson's own figures say they are measured above.
func (l recapLine) lessonName() string {
	name := l.Lesson.Title
	switch {
	case name == "":
		name = l.Lesson.Slug
	case l.Lesson.Number > 0:
		name = fmt.Sprintf("%d. %s", l.Lesson.Number, name)
	}
	if l.Lesson.Slug == Slug {
		name += " (above)"
	}
	return name
}

func (l recapLine) when() string     { return l.ended.UTC().Format("Jan 2, 15:04:05") + " UTC" }
func (l recapLine) datetime() string { return l.ended.UTC().Format(time.RFC3339) }

// state is a row's data-state: ran (with its figure), missing (ran, but
// no metric with the figure's key) or none (no run yet).
func (l recapLine) state() string {
	switch {
	case l.found:
		return "ran"
	case l.ran:
		return "missing"
	}
	return "none"
}

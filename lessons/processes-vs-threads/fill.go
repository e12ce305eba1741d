package processesvsthreads

import "conclab/web/ui"

// The comparison table at the end of the page shows figures from this
// lesson's runs. The page script fills a cell when a run finishes while
// the page is open; latestFigure fills it when the page is rendered, from
// the newest run since the server started, so a reload keeps the figures.

// latestFigure is the newest run's figure for a cell of the comparison
// table (see ui.Page.LatestFigure).
func latestFigure(p ui.Page, exp, words string) string { return p.LatestFigure(exp, words) }

package protocol

// The names the engine, the store, the web layer and the kit share, each
// defined once here and mirrored once in static/js/names.js (a test checks
// the two agree).

// EventType names an event of a run: the "type" of each JSON line an
// experiment writes, and of each event the server relays.
type EventType = string

// The events of a run. Every run ends with exactly one EventResult (when
// it succeeded) and then exactly one EventDone.
const (
	EventStarted   EventType = "started"    // the child's first event: the experiment, its parameters and the host's facts
	EventProgress  EventType = "progress"   // a phase and how far it has got
	EventLog       EventType = "log"        // a line for the run's log
	EventPoint     EventType = "point"      // one point of a line chart
	EventPoints    EventType = "points"     // many points of a line chart at once
	EventMark      EventType = "mark"       // a labelled vertical line on a line chart
	EventBar       EventType = "bar"        // one bar of a bars chart
	EventHist      EventType = "hist"       // a histogram's bins
	EventSpan      EventType = "span"       // one span on a lanes chart
	EventRow       EventType = "row"        // a row of a live table, upserted by key
	EventGauge     EventType = "gauge"      // a live counter
	EventTracePart EventType = "trace-part" // a piece of a run's raw execution trace (internal/tracefile)
	EventTraceFile EventType = "trace-file" // the raw trace's size and pieces, after its last piece
	EventResult    EventType = "result"     // the figures and the verdicts; the last event but done
	EventDone      EventType = "done"       // how the run ended; always the last event
)

// Status is how a run ended, or where a stored run is in its life.
type Status = string

// The statuses of a run. A done event carries one of the first four; the
// store also keeps the others.
const (
	StatusOK          Status = "ok"
	StatusFailed      Status = "failed"
	StatusCancelled   Status = "cancelled"
	StatusTimeout     Status = "timeout"
	StatusInterrupted Status = "interrupted" // its host or server died, or was cut off, before it finished
	StatusQueued      Status = "queued"      // recorded, not started yet
	StatusRunning     Status = "running"     // started, not finished yet
)

// Verdict is what a claim got when it was held against the machine.
type Verdict = string

// The verdicts (see internal/lab/verdict.go for the one rule).
const (
	Holds        Verdict = "holds"
	Differs      Verdict = "differs"
	Inconclusive Verdict = "inconclusive"
)

// ChartKind is how a chart of an experiment is drawn.
type ChartKind = string

// The kinds of chart static/js/charts.js draws.
const (
	ChartLine  ChartKind = "line"  // series of points (EventPoint, EventPoints, EventMark)
	ChartBars  ChartKind = "bars"  // one bar per label and series, with whiskers (EventBar)
	ChartHist  ChartKind = "hist"  // a histogram per series (EventHist)
	ChartLanes ChartKind = "lanes" // spans on lanes over time (EventSpan)
	ChartSched ChartKind = "sched" // a Go scheduler's Ps, goroutines and threads from its execution trace (EventSpan, EventMark)
)

// ChartKinds lists every chart kind, for checks.
var ChartKinds = []ChartKind{ChartLine, ChartBars, ChartHist, ChartLanes, ChartSched}

// Names is every name above by its Go name, as static/js/names.js must
// mirror it.
var Names = map[string]string{
	"EventStarted": EventStarted, "EventProgress": EventProgress, "EventLog": EventLog, "EventPoint": EventPoint,
	"EventPoints": EventPoints, "EventMark": EventMark, "EventBar": EventBar, "EventHist": EventHist,
	"EventSpan": EventSpan, "EventRow": EventRow, "EventGauge": EventGauge, "EventTracePart": EventTracePart, "EventTraceFile": EventTraceFile, "EventResult": EventResult, "EventDone": EventDone,
	"StatusOK": StatusOK, "StatusFailed": StatusFailed, "StatusCancelled": StatusCancelled, "StatusTimeout": StatusTimeout,
	"StatusInterrupted": StatusInterrupted, "StatusQueued": StatusQueued, "StatusRunning": StatusRunning,
	"Holds": Holds, "Differs": Differs, "Inconclusive": Inconclusive,
	"ChartLine": ChartLine, "ChartBars": ChartBars, "ChartHist": ChartHist, "ChartLanes": ChartLanes, "ChartSched": ChartSched,
}

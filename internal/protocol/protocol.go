// Package protocol is the contract between a lesson's page and the
// server: every message of the websocket (/ws), in this file and in
// answer.go and assign.go, and the names of events, statuses, verdicts and
// chart kinds (names.go), mirrored once in static/js/names.js. It is the
// one definition in code, used by the engine (internal/engine,
// internal/classroom), the store and the web layer (web/ws.go) alike; the
// README's "The websocket, in brief" describes the same for people.
//
// A page holds one websocket and sends requests, each a JSON object that
// names its operation (Request: {"op":"run",...}): run an experiment,
// watch a run, cancel it, guess before a run, answer a question; the
// instructor also pauses students' runs, presents a place in a lesson,
// reveals the class's guesses and assigns. The server sends Messages,
// each with a "type" that says what it is: answers to requests (accepted,
// offer, queued, following, predicted, …), and what happens in the class
// (live, an instructor's run, to the pages that follow them; present;
// reveal; class, the dashboard's view, to the instructor). A request it
// cannot do gets an Error that repeats the request's op, and the
// connection stays usable; an instructor's operation from anyone else is
// such an error.
//
// Besides the messages here, the server sends the events of every run a
// page started or watches, as the experiment emitted them (progress,
// point, row, result, done, …) with two fields added in front: "run",
// the run's id, and "seq", the event's place in the run (1, 2, …), by
// which a page that is sent a replay after it reconnects skips what it
// has already drawn. A run's events end with exactly one result, when it
// succeeded, and then exactly one done.
package protocol

import (
	"bytes"
	"encoding/json"
)

// Operations a page may ask for.
const (
	OpRun    = "run"    // start a run, or join an identical one, and watch it
	OpWatch  = "watch"  // watch a run: every event so far, then the new ones
	OpCancel = "cancel" // withdraw one's request for a run (cancelling it when nobody else asked)
)

// Operations only the instructor may ask for (the instructor's cookie).
const (
	OpPauseStudents  = "pause-students"  // students' runs wait; their new requests get an offer or an error
	OpResumeStudents = "resume-students" // students' runs go on
	OpPresent        = "present"         // bring every follower's page to a lesson and a place on it
	OpReveal         = "reveal"          // show every follower the class's guesses for an experiment
	OpResetGuesses   = "reset-guesses"   // start a new round of guesses for an experiment
)

// OpFollow ticks or unticks "Follow the instructor" for this page:
// {"op":"follow","on":false} stops the instructor's runs and moves
// reaching it, {"op":"follow","on":true} starts them again.
const OpFollow = "follow"

// OpPredict is a learner's guess, before a run, for one of an
// experiment's claims: {"op":"predict","experiment":ID,"claim":N,"value":V}.
const OpPredict = "predict"

// Request is a message from the page: {"op": ..., ...}.
type Request struct {
	AssignTarget // assign: the exercise, question or self-check (assign.go)

	Op         string         `json:"op"`
	Experiment string         `json:"experiment,omitempty"` // run
	Params     map[string]any `json:"params,omitempty"`     // run: the experiment's parameters, checked on the server
	Fresh      bool           `json:"fresh,omitempty"`      // run: measure again rather than be offered a recent identical run
	Run        string         `json:"run,omitempty"`        // watch, cancel
	Lesson     string         `json:"lesson,omitempty"`     // present
	Anchor     string         `json:"anchor,omitempty"`     // present: an element id on the lesson's page
	Claim      *int           `json:"claim,omitempty"`      // predict: the claim's index
	Value      any            `json:"value,omitempty"`      // predict: a number, or the text of a choice
	On         *bool          `json:"on,omitempty"`         // follow: whether to follow the instructor
	Host       string         `json:"host,omitempty"`       // run: the measuring host to run on
	Everywhere bool           `json:"everywhere,omitempty"` // run, the instructor only: one run on every measuring host
}

// A Message is one message the server sends; Type names it.
type Message interface{ Type() string }

// Accepted answers a run request: the run the page now watches, new or
// joined. Its replay follows at once.
type Accepted struct {
	Run        string `json:"run"`
	Experiment string `json:"experiment"`
	Joined     bool   `json:"joined"` // an identical run was already queued or running
	Params     any    `json:"params"` // the validated parameters, defaults filled in
	Viewers    int    `json:"viewers"`
	Host       string `json:"host,omitempty"`     // the host it was asked to run on, if one was named
	RetryOf    string `json:"retry_of,omitempty"` // the run it measures again, whose host went away
}

// Queued is a waiting run's place in the queue, sent whenever it changes.
type Queued struct {
	Run      string  `json:"run"`
	Position int     `json:"position"`         // 1 is next
	ETA      float64 `json:"eta_s"`            // estimated wait, seconds, from this experiment's recent durations
	Paused   bool    `json:"paused,omitempty"` // the instructor has paused students' runs: it waits for them
}

// Live announces a run the instructor started to the pages that follow
// its lesson (/ws?lesson=SLUG), so they can watch it beside their own.
// Students' runs are never announced.
type Live struct {
	Run        string `json:"run"`
	Experiment string `json:"experiment"`
	Params     any    `json:"params"`
	Presenter  bool   `json:"presenter"` // always true: only the instructor's runs are announced
}

// Offer answers a run request with a run already measured, whose replay
// follows at once: an identical run that finished here recently
// ("recent"), or, when the queue is full or the instructor has paused
// students' runs ("queue-full", "paused"), the newest run of that
// experiment. {"op":"run",...,"fresh":true} asks for a new one anyway.
type Offer struct {
	Run        string `json:"run"`
	Experiment string `json:"experiment"`
	Params     any    `json:"params"`
	FinishedAt string `json:"finished_at"` // RFC 3339
	Reason     string `json:"reason"`      // recent, queue-full or paused
}

// Reasons for an Offer.
const (
	OfferRecent    = "recent"
	OfferQueueFull = "queue-full"
	OfferPaused    = "paused"
)

// Present brings a follower's page to a lesson and a place on it, unless
// the learner chose to stop following the instructor.
type Present struct {
	Lesson string `json:"lesson"`
	Anchor string `json:"anchor,omitempty"`
}

// Class is the instructor's view of the class, sent to the instructor's
// pages whenever it changes (at most a few times a second). Learners show
// under short generated names only.
type Class struct {
	Paused   bool          `json:"paused"`
	Queue    []ClassRun    `json:"queue"`   // waiting, in the order they will start
	Running  []ClassRun    `json:"running"` // measuring now
	Lessons  []LessonCount `json:"lessons"` // learners on each lesson page, now
	Learners int           `json:"learners"`
	Guesses  []Guesses     `json:"guesses"` // the rounds of guesses the instructor has opened
	Hosts    []ClassHost   `json:"hosts"`   // the measuring hosts

	// Assignment is what the instructor assigned last, tallied (assign.go).
	Assignment *Assignment `json:"assignment,omitempty"`
}

// ClassHost is a measuring host as the instructor sees it.
type ClassHost struct {
	Name  string `json:"name"`
	State string `json:"state"` // idle, measuring or gone
	Run   string `json:"run,omitempty"`
	Runs  int    `json:"runs"`
	CPUs  int    `json:"cpus"`
	CPU   string `json:"cpu"`
}

// ClassRun is a queued or running run as the instructor sees it.
type ClassRun struct {
	Run        string  `json:"run"`
	Experiment string  `json:"experiment"`
	Learner    string  `json:"learner"` // short name, or "instructor"
	Presenter  bool    `json:"presenter"`
	Position   int     `json:"position,omitempty"`
	ETA        float64 `json:"eta_s,omitempty"`
	Elapsed    float64 `json:"elapsed_s,omitempty"`
	Viewers    int     `json:"viewers"`
	Host       string  `json:"host,omitempty"` // the measuring host, while it runs
}

// Predicted acknowledges a guess: it is kept, and scored against the run
// it is locked to when that run starts — the learner's own next run of the
// experiment, or, while the instructor presents it (Class true), the
// instructor's.
type Predicted struct {
	Experiment string `json:"experiment"`
	Claim      int    `json:"claim"`
	Value      any    `json:"value"`
	Class      bool   `json:"class"`
}

// Scored tells a learner how their guess fared, once the run it was
// locked to has finished.
type Scored struct {
	Experiment string  `json:"experiment"`
	Claim      int     `json:"claim"`
	Run        string  `json:"run"`
	Value      any     `json:"value"`    // the guess
	Measured   any     `json:"measured"` // the figure, or the right choice
	Unit       string  `json:"unit,omitempty"`
	Right      bool    `json:"right"`
	Factor     float64 `json:"factor,omitempty"`
	Score      string  `json:"score"`  // "within 1.3×", "4× too high", "right"
	Lesson     string  `json:"lesson"` // one sentence on what the gap teaches
}

// Guesses is the class's guesses for one claim of an experiment: the
// instructor sees them live; followers only once the instructor reveals
// them (with Yours, their own guess, if they made one).
type Guesses struct {
	Experiment string         `json:"experiment"`
	Claim      int            `json:"claim"`
	Question   string         `json:"question"`
	Kind       string         `json:"kind"` // number or choice
	Unit       string         `json:"unit,omitempty"`
	Log        bool           `json:"log,omitempty"`
	Count      int            `json:"count"`
	Bins       [][3]float64   `json:"bins,omitempty"`   // a number: [lo, hi, guesses] from low to high
	Counts     map[string]int `json:"counts,omitempty"` // a choice: guesses per choice
	Measured   any            `json:"measured,omitempty"`
	Revealed   bool           `json:"revealed"`
	Yours      any            `json:"yours,omitempty"`
}

// Reveal shows followers the class's guesses for an experiment.
type Reveal struct {
	Experiment string    `json:"experiment"`
	Guesses    []Guesses `json:"guesses"`
}

// LessonCount is how many learners are on a lesson's page.
type LessonCount struct {
	Lesson   string `json:"lesson"`
	Learners int    `json:"learners"`
}

// Everywhere answers the instructor's request to run an experiment on
// every measuring host at once ({"op":"run",...,"everywhere":true}): one
// run per host, each of whose events follows. Followers are sent it too.
type Everywhere struct {
	Group      string    `json:"group"`
	Experiment string    `json:"experiment"`
	Params     any       `json:"params"`
	Runs       []HostRun `json:"runs"`
}

// HostRun is one host's run of an Everywhere group.
type HostRun struct {
	Run  string `json:"run"`
	Host string `json:"host"`
}

// Following confirms a follow request: whether the page now follows the
// instructor.
type Following struct {
	On bool `json:"on"`
}

// Left confirms a cancel that did not stop the run: others asked for it
// too, and it goes on for them.
type Left struct {
	Run     string `json:"run"`
	Message string `json:"message"`
}

// Done ends every run: its last event. The runner sends it for a run
// that started, the scheduler for one cancelled before it started.
type Done struct {
	Status string  `json:"status"`          // ok, failed, cancelled or timeout
	Error  string  `json:"error,omitempty"` // for anything but ok: what went wrong, for a person
	T      float64 `json:"t"`               // ms since the run started
	TS     int64   `json:"ts"`              // Unix time, ms
}

// Error answers a request that could not be done; the connection stays
// usable. Op, Experiment and Run repeat the request's, so the page can
// show the error where it belongs.
type Error struct {
	Message    string `json:"message"`
	Op         string `json:"op,omitempty"`
	Experiment string `json:"experiment,omitempty"`
	Run        string `json:"run,omitempty"`
}

func (Accepted) Type() string   { return "accepted" }
func (Offer) Type() string      { return "offer" }
func (Present) Type() string    { return "present" }
func (Class) Type() string      { return "class" }
func (Predicted) Type() string  { return "predicted" }
func (Scored) Type() string     { return "scored" }
func (Reveal) Type() string     { return "reveal" }
func (Queued) Type() string     { return "queued" }
func (Live) Type() string       { return "live" }
func (Left) Type() string       { return "left" }
func (Following) Type() string  { return "following" }
func (Everywhere) Type() string { return "everywhere" }
func (Done) Type() string       { return "done" }
func (Error) Type() string      { return "error" }

// ErrorFor is an Error answering req.
func ErrorFor(req *Request, message string) Error {
	e := Error{Message: message}
	if req != nil {
		e.Op, e.Experiment, e.Run = req.Op, req.Experiment, req.Run
	}
	return e
}

// Encode is the message as it goes on the wire: a JSON object whose first
// field is "type".
func Encode(m Message) []byte {
	body, err := json.Marshal(m)
	if err != nil || len(body) < 2 || body[0] != '{' {
		// Every Message is a struct of plain fields; this cannot happen.
		panic("protocol: cannot encode " + m.Type() + ": " + string(body))
	}
	var b bytes.Buffer
	b.Grow(len(body) + 24)
	b.WriteString(`{"type":`)
	t, _ := json.Marshal(m.Type())
	b.Write(t)
	if len(body) > 2 {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	return b.Bytes()
}

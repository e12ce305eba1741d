// Package runlog is the one home of a run's events: one ordered log per
// run, with one sequence number and one rule for what is dropped. The
// engine's hub fans the log out and replays it to late viewers; the store
// writes it to disk from the same entries; `conclab run` fills one too.
// Nothing else keeps a copy of a run's events.
package runlog

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"conclab/internal/lab"
	"conclab/internal/protocol"
)

// Event is one event of a run: its type and the JSON object itself, as
// the experiment wrote it.
type Event struct {
	Type protocol.EventType
	JSON []byte // a compact JSON object with at least "type"
}

// Outcome is how a run ended.
type Outcome struct {
	Status protocol.Status
	Error  string          // for anything but ok: what went wrong, for a person
	Result json.RawMessage // the result event, when there was one
	Events int
}

// Record is what is known of a run when it is asked for.
type Record struct {
	ID         string
	Experiment string
	Lesson     string
	Params     lab.Params
	Learner    string // the learner who asked first; "" for `conclab run`
	Instructor bool
	Created    time.Time
}

// MaxEvents bounds how many events a log keeps. Experiments stay far
// below it; past it, events are dropped (a result and a done never are)
// and one log event says so, once, in their place.
const MaxEvents = 20_000

// droppedNotice is the event that stands for the dropped ones.
var droppedNotice = Event{Type: protocol.EventLog,
	JSON: []byte(`{"type":"log","message":"This run sent more events than can be kept; the rest of its live data is not shown or stored."}`)}

// Log is a run's events in order. Each kept event is numbered from 1
// (its seq) and stored once, as the message viewers are sent: the
// experiment's JSON object with "run" and "seq" spliced in front.
// Its methods are safe for concurrent use.
type Log struct {
	id     string
	prefix []byte // `{"run":"ID",`

	mu      sync.Mutex
	msgs    [][]byte
	bodyAt  []int // where each message's own fields start (after "seq":N,)
	types   []protocol.EventType
	dropped int
	notify  func() // told after every append; see Notify
}

// New starts the log of run id.
func New(id string) *Log {
	q, _ := json.Marshal(id)
	return &Log{id: id, prefix: append(append([]byte(`{"run":`), q...), ',')}
}

// ID is the run's id.
func (l *Log) ID() string { return l.id }

// Notify sets fn to be called after each append, outside the log's lock:
// the store uses it to wake its writer. It must return at once.
func (l *Log) Notify(fn func()) {
	l.mu.Lock()
	l.notify = fn
	l.mu.Unlock()
}

// Append adds an event, unless the log is full (see MaxEvents). It
// reports whether the event was kept.
func (l *Log) Append(ev Event) bool {
	l.mu.Lock()
	kept := true
	switch {
	case len(l.msgs) < MaxEvents || ev.Type == protocol.EventResult || ev.Type == protocol.EventDone:
		l.appendLocked(ev)
	case l.dropped == 0:
		l.dropped++
		l.appendLocked(droppedNotice)
		kept = false
	default:
		l.dropped++
		kept = false
	}
	notify := l.notify
	l.mu.Unlock()
	if notify != nil {
		notify()
	}
	return kept
}

func (l *Log) appendLocked(ev Event) {
	seq := len(l.msgs) + 1
	msg := make([]byte, 0, len(l.prefix)+len(ev.JSON)+16)
	msg = append(msg, l.prefix...)
	msg = append(msg, `"seq":`...)
	msg = strconv.AppendInt(msg, int64(seq), 10)
	msg = append(msg, ',')
	at := len(msg)
	msg = append(msg, ev.JSON[1:]...)
	l.msgs = append(l.msgs, msg)
	l.bodyAt = append(l.bodyAt, at)
	l.types = append(l.types, ev.Type)
}

// Len is how many events the log holds; the newest has seq Len().
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.msgs)
}

// Dropped is how many events were not kept.
func (l *Log) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Messages are the messages from seq from+1 to the newest, as viewers are
// sent them. The slice is the log's own: read it, never change it.
func (l *Log) Messages(from int) [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from >= len(l.msgs) {
		return nil
	}
	return l.msgs[from:len(l.msgs):len(l.msgs)]
}

// Entry is a kept event as the store writes it: its seq, its type and
// the experiment's JSON object, without "run" and "seq".
type Entry struct {
	Seq  int
	Type protocol.EventType
	Body []byte
}

// Entries are the events from seq from+1 to the newest.
func (l *Log) Entries(from int) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from >= len(l.msgs) {
		return nil
	}
	out := make([]Entry, 0, len(l.msgs)-from)
	for i := from; i < len(l.msgs); i++ {
		body := append([]byte{'{'}, l.msgs[i][l.bodyAt[i]:]...)
		out = append(out, Entry{Seq: i + 1, Type: l.types[i], Body: body})
	}
	return out
}

// Stamp is a stored event as a viewer is sent it: body with "run" and
// "seq" spliced in front, as Log does.
func Stamp(run string, seq int, body []byte) []byte {
	q, _ := json.Marshal(run)
	var b bytes.Buffer
	b.Grow(len(body) + len(q) + 24)
	b.WriteString(`{"run":`)
	b.Write(q)
	b.WriteString(`,"seq":`)
	b.WriteString(strconv.Itoa(seq))
	b.WriteByte(',')
	b.Write(body[1:])
	return b.Bytes()
}

package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

// A run travels between machines as one file of JSON lines: a header
// that says what the run is — the experiment, its parameters, its status
// and times, where it came from — then its events exactly as
// `conclab run --json` prints them. The host it was measured on is in its
// started event, so it goes along. The output of `conclab run --json`
// alone imports too: its started and done events say what it was.

// ExportFormat names the header of an export; FormatVersion is its
// version.
const (
	ExportFormat  = "conclab-run"
	FormatVersion = 1
)

// header is the first line of an export.
type header struct {
	Type       string         `json:"type"` // ExportFormat
	Format     int            `json:"format"`
	ID         string         `json:"id"`
	Experiment string         `json:"experiment"`
	Lesson     string         `json:"lesson"`
	Params     map[string]any `json:"params"`
	Status     string         `json:"status"`
	Error      string         `json:"error,omitempty"`
	Source     string         `json:"source"`
	Created    time.Time      `json:"created"`
	Started    time.Time      `json:"started,omitzero"`
	Ended      time.Time      `json:"ended"`
	Events     int            `json:"events"`
	Dropped    int            `json:"dropped,omitempty"`
	Lost       int            `json:"lost,omitempty"`
	Exported   time.Time      `json:"exported"`
}

// Export writes a run as a file another conclab imports.
func (s *Store) Export(id string, w io.Writer) error {
	r, err := s.Get(id)
	if err != nil {
		return err
	}
	if !r.Finished() {
		return fmt.Errorf("run %s is still %s: export it when it has finished", id, r.Status)
	}
	evs, err := s.Events(id)
	if err != nil {
		return err
	}
	h := header{Type: ExportFormat, Format: FormatVersion, ID: r.ID, Experiment: r.Experiment, Lesson: r.Lesson, Params: r.Params,
		Status: r.Status, Error: r.Error, Source: r.Source, Created: r.Created.UTC(), Started: r.Started.UTC(), Ended: r.Ended.UTC(),
		Events: len(evs), Dropped: r.Dropped, Lost: r.Lost, Exported: time.Now().UTC()}
	bw := bufio.NewWriter(w)
	b, _ := json.Marshal(h)
	bw.Write(append(b, '\n'))
	for _, e := range evs {
		bw.Write(e.JSON)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ImportError says why a file was refused: the line and what is wrong
// with it. Nothing of the file was imported.
type ImportError struct {
	Line   int // 1-based; 0 when the file as a whole is wrong
	Reason string
}

func (e *ImportError) Error() string {
	if e.Line == 0 {
		return e.Reason + "; nothing was imported"
	}
	return fmt.Sprintf("line %d: %s; nothing was imported", e.Line, e.Reason)
}

func refuse(line int, format string, args ...any) error {
	return &ImportError{Line: line, Reason: fmt.Sprintf(format, args...)}
}

// MaxImport bounds the size of a file to import.
const MaxImport = 64 << 20

var expPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,40}$`)

// parsed is a checked file, ready to store.
type parsed struct {
	h      header
	events []runlog.Entry
	result json.RawMessage
	host   json.RawMessage

	hasHeader, sawDone bool
}

// parse reads and checks a whole file before anything is stored.
func (s *Store) parse(rd io.Reader) (parsed, error) {
	var p parsed
	sc := bufio.NewScanner(io.LimitReader(rd, MaxImport+1))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line, size := 0, 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		size += len(sc.Bytes()) + 1
		if size > MaxImport {
			return p, refuse(line, "the file is larger than %d MiB, more than any run this conclab keeps", MaxImport>>20)
		}
		if len(b) == 0 {
			return p, refuse(line, "an empty line; every line must be one JSON object")
		}
		var head struct {
			Type string `json:"type"`
		}
		if b[0] != '{' || json.Unmarshal(b, &head) != nil {
			return p, refuse(line, "this is not a JSON object (the file may be cut short, or not a run)")
		}
		if head.Type == "" {
			return p, refuse(line, `this object has no "type"`)
		}
		if line == 1 && head.Type == ExportFormat {
			if err := json.Unmarshal(b, &p.h); err != nil {
				return p, refuse(line, "the header is malformed: %v", err)
			}
			if err := checkHeader(p.h); err != nil {
				return p, refuse(line, "%v", err)
			}
			p.hasHeader = true
			continue
		}
		if line == 1 && head.Type != protocol.EventStarted {
			return p, refuse(line, "a run file begins with a %q header (conclab export) or a started event (conclab run --json), not a %q", ExportFormat, head.Type)
		}
		if p.sawDone {
			return p, refuse(line, "an event after the run's done event, which must be its last")
		}
		if len(p.events) >= runlog.MaxEvents+2 {
			return p, refuse(line, "more events than the %d this conclab keeps of a run", runlog.MaxEvents)
		}
		if err := p.event(line, head.Type, b); err != nil {
			return p, err
		}
		p.events = append(p.events, runlog.Entry{Seq: len(p.events) + 1, Type: head.Type, Body: bytes.Clone(b)})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return p, refuse(line+1, "a line longer than 1 MiB, longer than any event")
		}
		return p, refuse(line+1, "the file could not be read: %v", err)
	}
	if line == 0 {
		return p, refuse(0, "the file is empty")
	}
	if err := p.complete(line); err != nil {
		return p, err
	}
	if !p.hasHeader {
		if p.h.Ended.IsZero() {
			p.h.Ended = p.h.Started
		}
		if s.o.LessonOf != nil {
			p.h.Lesson = s.o.LessonOf(p.h.Experiment)
		}
	}
	return p, nil
}

// complete checks that the file held a whole run.
func (p *parsed) complete(line int) error {
	if p.hasHeader && len(p.events) != p.h.Events {
		return refuse(line, "the file ends after %d of the run's %d events: it was cut short", len(p.events), p.h.Events)
	}
	if !p.sawDone && p.h.Status != StatusInterrupted {
		return refuse(line, "the file ends before the run's done event: it was cut short")
	}
	if p.h.Status == protocol.StatusOK && p.result == nil {
		return refuse(line, "the run finished ok but the file holds no result event")
	}
	if !expPattern.MatchString(p.h.Experiment) {
		return refuse(1, "%q is not an experiment id", p.h.Experiment)
	}
	return nil
}

// event checks one event of the file, and takes what the run's record
// needs from its started, result and done events.
func (p *parsed) event(line int, typ string, b []byte) error {
	switch typ {
	case protocol.EventStarted:
		var st struct {
			Experiment string          `json:"experiment"`
			Params     map[string]any  `json:"params"`
			TS         float64         `json:"ts"`
			Host       json.RawMessage `json:"host"`
		}
		if err := json.Unmarshal(b, &st); err != nil || st.Experiment == "" {
			return refuse(line, "a started event must name its experiment")
		}
		if p.hasHeader && st.Experiment != p.h.Experiment {
			return refuse(line, "the started event is of %s, but the header says %s", st.Experiment, p.h.Experiment)
		}
		if p.host != nil {
			return refuse(line, "a second started event; a run has one")
		}
		p.host = st.Host
		if !p.hasHeader {
			p.h.Experiment, p.h.Params, p.h.Started, p.h.Created = st.Experiment, st.Params, msTime(st.TS), msTime(st.TS)
		}
	case protocol.EventResult:
		if p.result != nil {
			return refuse(line, "a second result event; a run has at most one")
		}
		if _, err := lab.DecodeResult(b); err != nil {
			return refuse(line, "the result event is malformed: %v", err)
		}
		p.result = json.RawMessage(bytes.Clone(b))
	case protocol.EventDone:
		var d struct {
			Status string  `json:"status"`
			Error  string  `json:"error"`
			TS     float64 `json:"ts"`
		}
		if err := json.Unmarshal(b, &d); err != nil || !finalStatus(d.Status) {
			return refuse(line, "the done event's status must be ok, failed, cancelled, timeout or interrupted")
		}
		if p.hasHeader && d.Status != p.h.Status {
			return refuse(line, "the done event says %s, but the header says %s", d.Status, p.h.Status)
		}
		if !p.hasHeader {
			p.h.Status, p.h.Error, p.h.Ended = d.Status, d.Error, msTime(d.TS)
		}
		p.sawDone = true
	}
	return nil
}

func checkHeader(h header) error {
	switch {
	case h.Format > FormatVersion:
		return fmt.Errorf("this file is of format %d, newer than this conclab knows (%d): upgrade conclab to import it", h.Format, FormatVersion)
	case h.Format < 1:
		return fmt.Errorf("the header has no format version")
	case !expPattern.MatchString(h.Experiment):
		return fmt.Errorf("the header's experiment %q is not an experiment id", h.Experiment)
	case !finalStatus(h.Status):
		return fmt.Errorf("the header's status %q is not one a finished run has (ok, failed, cancelled, timeout, interrupted)", h.Status)
	case h.Created.IsZero():
		return fmt.Errorf("the header has no created time")
	case h.Events < 0:
		return fmt.Errorf("the header's event count is negative")
	}
	return nil
}

func finalStatus(s string) bool {
	switch s {
	case protocol.StatusOK, protocol.StatusFailed, protocol.StatusCancelled, protocol.StatusTimeout, StatusInterrupted:
		return true
	}
	return false
}

// msTime is a time stored as Unix milliseconds (0 for none).
func msTime(v float64) time.Time {
	if v <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(v * 1000))
}

// Imported says what an import did.
type Imported struct {
	ID      string
	Already bool // the run was here already: nothing new was stored
}

// Import stores a run from a file (see Export), as learner's when learner
// is not "". A file that is malformed or cut short is refused whole, with
// an *ImportError naming the line.
func (s *Store) Import(rd io.Reader, learner string) (Imported, error) {
	p, err := s.parse(rd)
	if err != nil {
		return Imported{}, err
	}
	h := p.h
	id := h.ID
	if !ValidID(id) {
		id = engine.NewID()
	}
	if old, err := s.Get(id); err == nil {
		if old.Experiment == h.Experiment && old.Created.UnixMilli() == h.Created.UnixMilli() {
			if learner != "" {
				s.w.Exec(`INSERT OR IGNORE INTO run_learners (run, learner) VALUES (?, ?)`, id, learner)
			}
			return Imported{ID: id, Already: true}, nil
		}
		id = engine.NewID() // another run that happens to have the same id
	}
	params, _ := json.Marshal(h.Params)
	if h.Params == nil {
		params = []byte("{}")
	}
	sum := summarize(p.result)
	tx, err := s.w.Begin()
	if err != nil {
		return Imported{}, describe(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO runs (id, experiment, lesson, params, status, error, learner, source, created_ms, started_ms, ended_ms, imported_ms,
		host, result, headline, holds, differs, inconclusive, events, dropped, lost) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, h.Experiment, h.Lesson, string(params), h.Status, h.Error, learner, SourceImport,
		h.Created.UnixMilli(), unixMilli(h.Started), unixMilli(h.Ended), time.Now().UnixMilli(),
		string(p.host), string(p.result), sum.headline, sum.holds, sum.differs, sum.inconclusive, len(p.events), h.Dropped, h.Lost); err != nil {
		return Imported{}, describe(err)
	}
	ins, err := tx.Prepare(`INSERT INTO events (run, seq, type, body) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return Imported{}, describe(err)
	}
	defer ins.Close()
	for _, e := range p.events {
		if _, err := ins.Exec(id, e.Seq, e.Type, e.Body); err != nil {
			return Imported{}, describe(err)
		}
	}
	if learner != "" {
		if _, err := tx.Exec(`INSERT INTO run_learners (run, learner) VALUES (?, ?)`, id, learner); err != nil {
			return Imported{}, describe(err)
		}
		if h.Status == protocol.StatusOK {
			if err := countProgress(tx, id); err != nil {
				return Imported{}, describe(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return Imported{}, describe(err)
	}
	if err := s.prune(); err != nil {
		s.o.Log.Warn("pruning old runs", "err", describe(err))
	}
	return Imported{ID: id}, nil
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

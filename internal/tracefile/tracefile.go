// Package tracefile carries a Go execution trace inside a run's events, so
// that the run's page can offer it for `go tool trace`: the raw bytes go
// out as numbered parts, each small enough for one event line (and for a
// NATS message), and a closing event says how many parts there are and
// whether the trace was cut. Assemble puts the stored parts back together.
package tracefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"conclab/internal/protocol"
)

// The event types a run carries its trace in.
const (
	PartType = protocol.EventTracePart // {"n": 0, "data": "<base64>"}, in order from 0
	FileType = protocol.EventTraceFile // {"bytes": N, "parts": K, "cut": false}, once, after the last part
)

// PartSize is the most raw bytes one part holds: base64 makes a line of
// about 171 KiB, far below an event line's 1 MiB.
const PartSize = 128 << 10

// MaxBytes bounds the raw trace a run keeps: past it the rest is dropped
// and the file says it was cut.
const MaxBytes = 4 << 20

// Part is one piece of a raw trace, as it travels in a PartType event;
// encoding/json writes Data as base64.
type Part struct {
	N    int    `json:"n"`
	Data []byte `json:"data"`
}

// File is the closing FileType event.
type File struct {
	Bytes int  `json:"bytes"` // raw bytes kept, in all parts
	Parts int  `json:"parts"`
	Cut   bool `json:"cut"` // the trace went on past MaxBytes and its end is missing
}

// Emit sends one event of a run: lab.Emitter.Event fits.
type Emit func(typ string, fields map[string]any)

// Writer splits what is written to it into parts and emits each as it
// fills; Close emits the last part and the file. It keeps at most max
// bytes. A Writer is for one goroutine (the trace's writer).
type Writer struct {
	emit  Emit
	max   int
	buf   []byte
	parts int
	kept  int
	cut   bool
}

// NewWriter returns a Writer that keeps at most max bytes (MaxBytes when
// max is 0 or more than MaxBytes).
func NewWriter(emit Emit, max int) *Writer {
	if max <= 0 || max > MaxBytes {
		max = MaxBytes
	}
	return &Writer{emit: emit, max: max, buf: make([]byte, 0, PartSize)}
}

// Write keeps p, or as much of it as the bound allows; it never fails, so
// that a trace past its bound still reaches whoever else reads it.
func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	if room := w.max - w.kept; len(p) > room {
		p, w.cut = p[:room], true
	}
	w.kept += len(p)
	for len(p) > 0 {
		k := min(len(p), PartSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == PartSize {
			w.flush()
		}
	}
	return n, nil
}

func (w *Writer) flush() {
	if len(w.buf) == 0 {
		return
	}
	w.emit(PartType, map[string]any{"n": w.parts, "data": w.buf})
	w.parts++
	w.buf = w.buf[:0]
}

// Kept is how many bytes the Writer has kept so far.
func (w *Writer) Kept() int { return w.kept }

// Close emits what is left and the file, and returns the file.
func (w *Writer) Close() File {
	w.flush()
	f := File{Bytes: w.kept, Parts: w.parts, Cut: w.cut}
	w.emit(FileType, map[string]any{"bytes": f.Bytes, "parts": f.Parts, "cut": f.Cut})
	return f
}

// ErrNone is Assemble's answer for a run that carries no trace.
var ErrNone = errors.New("this run carries no execution trace")

// Assemble puts a trace back together from a run's PartType and FileType
// events (their JSON, in any order). It refuses a trace with a part
// missing, or one that was cut, since a trace without its end does not
// open.
func Assemble(events [][]byte) ([]byte, error) {
	var parts []Part
	var file *File
	for _, raw := range events {
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("an event of the trace does not decode: %v", err)
		}
		switch head.Type {
		case PartType:
			var p Part
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, fmt.Errorf("a part of the trace does not decode: %v", err)
			}
			parts = append(parts, p)
		case FileType:
			file = new(File)
			if err := json.Unmarshal(raw, file); err != nil {
				return nil, fmt.Errorf("the trace's closing event does not decode: %v", err)
			}
		}
	}
	if len(parts) == 0 && file == nil {
		return nil, ErrNone
	}
	if file == nil {
		return nil, fmt.Errorf("the trace's closing event is missing: the run ended before its trace did, or not all of its events were stored")
	}
	if file.Cut {
		return nil, fmt.Errorf("the trace went past its bound of %d MiB and was cut, so it cannot be opened", MaxBytes>>20)
	}
	slices.SortFunc(parts, func(a, b Part) int { return a.N - b.N })
	out := make([]byte, 0, file.Bytes)
	for i, p := range parts {
		if p.N != i {
			return nil, fmt.Errorf("part %d of the trace is missing (of %d): not all of the run's events were stored", i, file.Parts)
		}
		out = append(out, p.Data...)
	}
	if len(parts) != file.Parts || len(out) != file.Bytes {
		return nil, fmt.Errorf("the trace has %d parts and %d bytes, its closing event says %d and %d: not all of the run's events were stored",
			len(parts), len(out), file.Parts, file.Bytes)
	}
	return out, nil
}

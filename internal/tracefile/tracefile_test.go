package tracefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// record collects what a Writer emits, as event lines would carry it.
type record struct{ events [][]byte }

func (r *record) emit(typ string, fields map[string]any) {
	obj := map[string]any{"type": typ}
	for k, v := range fields {
		obj[k] = v
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	r.events = append(r.events, b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, PartSize - 1, PartSize, PartSize + 1, 3*PartSize + 17} {
		var rec record
		w := NewWriter(rec.emit, 0)
		data := randomBytes(n)
		// Written in uneven pieces, as the runtime's trace writer does.
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1+len(rest)/3)
			w.Write(rest[:k])
			rest = rest[k:]
		}
		f := w.Close()
		if f.Bytes != n || f.Cut || f.Parts != (n+PartSize-1)/PartSize {
			t.Errorf("%d bytes: file %+v", n, f)
		}
		for i, e := range rec.events {
			if len(e) > 200<<10 {
				t.Errorf("%d bytes: event %d is %d bytes long, want well under an event line's 1 MiB", n, i, len(e))
			}
		}
		// The store hands them back in order; Assemble must not care.
		rec.events[0], rec.events[len(rec.events)-1] = rec.events[len(rec.events)-1], rec.events[0]
		got, err := Assemble(rec.events)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: assembled %d bytes, err %v", n, len(got), err)
		}
	}
}

func TestAssembleRefuses(t *testing.T) {
	t.Parallel()
	var rec record
	w := NewWriter(rec.emit, 0)
	w.Write(randomBytes(2*PartSize + 5))
	w.Close()
	parts, file := rec.events[:3], rec.events[3]

	var cutRec record
	cw := NewWriter(cutRec.emit, 100)
	if n, err := cw.Write(randomBytes(150)); n != 150 || err != nil {
		t.Errorf("a write past the bound = %d, %v; want it taken whole, without error", n, err)
	}
	if f := cw.Close(); !f.Cut || f.Bytes != 100 {
		t.Errorf("past the bound: file %+v, want 100 bytes kept and cut", f)
	}

	tests := []struct {
		name   string
		events [][]byte
		want   string
	}{
		{"none", nil, "no execution trace"},
		{"no file", parts, "closing event is missing"},
		{"a part missing", [][]byte{parts[0], parts[2], file}, "part 1 of the trace is missing"},
		{"the last part missing", [][]byte{parts[0], parts[1], file}, "has 2 parts"},
		{"cut", cutRec.events, "was cut"},
		{"not JSON", [][]byte{[]byte("{")}, "does not decode"},
	}
	for _, tt := range tests {
		_, err := Assemble(tt.events)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one saying %q", tt.name, err, tt.want)
		}
	}
	if _, err := Assemble(nil); !errors.Is(err, ErrNone) {
		t.Errorf("no events: err = %v, want ErrNone", err)
	}
}

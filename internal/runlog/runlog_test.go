package runlog

import (
	"encoding/json"
	"fmt"
	"testing"

	"conclab/internal/protocol"
)

func event(typ string, i int) Event {
	return Event{Type: typ, JSON: fmt.Appendf(nil, `{"type":%q,"i":%d}`, typ, i)}
}

// Each kept event gets the next seq, once: viewers are sent it with "run"
// and "seq" in front, and the store writes it as the experiment wrote it.
func TestOneLogOneSeq(t *testing.T) {
	t.Parallel()
	l := New("abc123")
	notified := 0
	l.Notify(func() { notified++ })
	for i := range 3 {
		l.Append(event(protocol.EventPoint, i))
	}
	if l.Len() != 3 || notified != 3 {
		t.Fatalf("len %d, notified %d; want 3, 3", l.Len(), notified)
	}
	for i, m := range l.Messages(0) {
		var got struct {
			Run  string `json:"run"`
			Seq  int    `json:"seq"`
			Type string `json:"type"`
			I    int    `json:"i"`
		}
		if err := json.Unmarshal(m, &got); err != nil || got.Run != "abc123" || got.Seq != i+1 || got.Type != "point" || got.I != i {
			t.Errorf("message %d: %s (%v)", i, m, err)
		}
	}
	es := l.Entries(1)
	if len(es) != 2 || es[0].Seq != 2 || string(es[0].Body) != `{"type":"point","i":1}` {
		t.Errorf("entries from 1: %+v", es)
	}
	if got := string(Stamp("abc123", 2, es[0].Body)); got != string(l.Messages(1)[0]) {
		t.Errorf("Stamp %s, the log's %s", got, l.Messages(1)[0])
	}
	if l.Messages(3) != nil || l.Entries(3) != nil {
		t.Error("nothing past the newest")
	}
}

// Past MaxEvents one notice stands for what is dropped; a result and a
// done are always kept.
func TestTheOneRuleForWhatIsDropped(t *testing.T) {
	t.Parallel()
	l := New("r")
	for i := range MaxEvents + 5 {
		l.Append(event(protocol.EventPoint, i))
	}
	l.Append(event(protocol.EventResult, 0))
	l.Append(event(protocol.EventDone, 0))
	if l.Len() != MaxEvents+3 || l.Dropped() != 5 {
		t.Fatalf("len %d dropped %d; want %d kept (the notice, result, done) and 5 dropped", l.Len(), l.Dropped(), MaxEvents+3)
	}
	es := l.Entries(MaxEvents)
	if es[0].Type != protocol.EventLog || es[1].Type != protocol.EventResult || es[2].Type != protocol.EventDone {
		t.Errorf("the end of a full log: %s, %s, %s", es[0].Type, es[1].Type, es[2].Type)
	}
}

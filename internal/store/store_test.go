package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/protocol"
	"conclab/internal/runlog"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Log == nil {
		o.Log = quiet()
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open(%s): %v", o.Dir, err)
	}
	return s
}

// testRun is a run's log and its tape, as the engine holds them.
type testRun struct {
	log  *runlog.Log
	tape engine.Tape
}

func startRun(s *Store, rec runlog.Record) testRun {
	log := runlog.New(rec.ID)
	return testRun{log: log, tape: s.Record(rec, log)}
}

func (r testRun) Event(ev runlog.Event)  { r.log.Append(ev) }
func (r testRun) Asked(learner string)   { r.tape.Asked(learner) }
func (r testRun) End(out runlog.Outcome) { r.tape.End(out) }

func ev(s string) runlog.Event {
	typ := s[len(`{"type":"`):]
	typ = typ[:strings.IndexByte(typ, '"')]
	return runlog.Event{Type: typ, JSON: []byte(s)}
}

const testResult = `{"type":"result","metrics":[{"key":"hold.time","name":"Time held","value":4.2,"unit":"µs","p50":4.2,"p99":5,"min":4,"max":6,"n":9}],"claims":[{"claim":"It holds","expected":"about 4","measured":"4.2","verdict":"holds"},{"claim":"It differs","expected":"1","measured":"4.2","verdict":"differs","why":"because"}],"t":12,"ts":1700000000012}`

// record makes a run of experiment exp with n points, ending with status.
func record(s *Store, id, exp, learner string, n int, status string) {
	tape := startRun(s, runlog.Record{ID: id, Experiment: exp, Lesson: "test-lesson", Params: lab.Params{"n": n}, Learner: learner, Created: time.Now()})
	tape.Event(ev(`{"type":"started","experiment":"` + exp + `","params":{"n":` + fmt.Sprint(n) + `},"pid":42,"host":{"cpu_model":"Test CPU","logical_cpus":2,"usable_cpus":2,"kernel":"6.1","go_version":"go1.26","virtualization":"VM"},"t":0,"ts":1700000000000.5}`))
	for i := range n {
		tape.Event(ev(fmt.Sprintf(`{"type":"point","chart":"c","series":"s","x":%d,"y":%d,"t":%d,"ts":1700000000001}`, i, i*i, i)))
	}
	out := runlog.Outcome{Status: status, Error: ""}
	if status == protocol.StatusOK {
		tape.Event(ev(testResult))
		out.Result = []byte(testResult)
	} else {
		out.Error = "it " + status
	}
	tape.Event(ev(`{"type":"done","status":"` + status + `","t":13,"ts":1700000000013}`))
	tape.End(out)
}

func TestRestartKeepsRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Dir: dir, Serve: true})
	record(s, "aaaaaaaaaaa1", "hold", "learner-1", 5, protocol.StatusOK)
	record(s, "aaaaaaaaaaa2", "hold", "", 2, protocol.StatusFailed)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, Options{Dir: dir, Serve: true})
	defer s.Close()
	r, err := s.Get("aaaaaaaaaaa1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != protocol.StatusOK || r.Events != 8 || r.Host == nil || r.Host.CPUModel != "Test CPU" || r.Headline == nil || r.Headline.Key != "hold.time" || r.Holds != 1 || r.Differs != 1 {
		t.Errorf("after a restart the run is %+v", r)
	}
	if r.Started.UnixMilli() != 1700000000000 || r.Ended.IsZero() || r.Learner != "learner-1" || r.Params["n"] != float64(5) {
		t.Errorf("times, learner or params lost: %+v", r)
	}
	evs, err := s.Events("aaaaaaaaaaa1")
	if err != nil || len(evs) != 8 || evs[0].Type != "started" || evs[7].Type != "done" || evs[6].Type != "result" {
		t.Fatalf("events after a restart: %d, %v", len(evs), err)
	}
	if f, _ := s.Get("aaaaaaaaaaa2"); f.Status != protocol.StatusFailed || f.Error != "it failed" {
		t.Errorf("failed run: %+v", f)
	}
	var mode string
	s.r.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal mode %q, want wal", mode)
	}
}

// A run whose recording process died before it ended is interrupted when
// the store is opened again; the runs before it are intact.
func TestUnfinishedRunsAreInterrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Dir: dir, Source: SourceCLI})
	record(s, "bbbbbbbbbbb1", "hold", "", 3, protocol.StatusOK)
	tape := startRun(s, runlog.Record{ID: "bbbbbbbbbbb2", Experiment: "hold", Lesson: "l", Created: time.Now()})
	tape.Event(ev(`{"type":"started","experiment":"hold","ts":1700000000000}`))
	s.Flush()
	// The process that recorded it is gone: a process that has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	s.w.Exec(`UPDATE runs SET pid = ? WHERE id = ?`, dead.Process.Pid, "bbbbbbbbbbb2")
	s.closeDBs() // no Close: as if the process had been killed
	s = open(t, Options{Dir: dir, Source: SourceCLI})
	defer s.Close()
	if r, _ := s.Get("bbbbbbbbbbb2"); r.Status != StatusInterrupted || !strings.Contains(r.Error, "stopped before it finished") || r.Events != 2 {
		t.Errorf("the unfinished run is %s (%q) with %d events", r.Status, r.Error, r.Events)
	}
	// Its event, then a done that says why, for a page that watches it again.
	if evs, _ := s.Events("bbbbbbbbbbb2"); len(evs) != 2 || evs[1].Type != "done" || !strings.Contains(string(evs[1].JSON), `"status":"interrupted"`) {
		t.Errorf("the interrupted run's events: %d, last %+v; want its 1 and a done saying interrupted", len(evs), evs)
	}
	if r, _ := s.Get("bbbbbbbbbbb1"); r.Status != protocol.StatusOK || r.Events != 6 {
		t.Errorf("the earlier run is %+v", r)
	}
}

func TestSecondServerOnOneDirIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Dir: dir, Serve: true})
	defer s.Close()
	if _, err := Open(Options{Dir: dir, Serve: true, Log: quiet()}); err == nil || !strings.Contains(err.Error(), "another conclab serve is using") {
		t.Errorf("a second server: %v", err)
	}
	// `conclab run` and history may use it at the same time.
	c := open(t, Options{Dir: dir, Source: SourceCLI})
	c.Close()
}

func tables(t *testing.T, db *sql.DB) string {
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

func TestMigrateFromEmpty(t *testing.T) {
	t.Parallel()
	s := open(t, Options{Dir: t.TempDir()})
	defer s.Close()
	var v int
	s.w.QueryRow("PRAGMA user_version").Scan(&v)
	if v != Version() || v < 2 {
		t.Errorf("user_version %d, want %d", v, Version())
	}
	if got, want := tables(t, s.w), "answers,events,guesses,progress,run_learners,runs,settings"; got != want {
		t.Errorf("tables %s, want %s", got, want)
	}
}

// A database of the previous schema (1: runs and events only) is brought
// up to date with its runs kept, and the learners and progress that
// version 2 adds are filled in from them.
func TestMigrateFromPreviousSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(db, 1); err != nil {
		t.Fatal(err)
	}
	for i, st := range []string{protocol.StatusOK, protocol.StatusOK, protocol.StatusFailed} {
		if _, err := db.Exec(`INSERT INTO runs (id, experiment, lesson, params, status, learner, source, created_ms, ended_ms) VALUES (?, 'hold', 'l', '{}', ?, 'ann', 'server', ?, ?)`,
			fmt.Sprintf("cccccccccc%02d", i), st, 1000+i, 2000+i); err != nil {
			t.Fatal(err)
		}
		db.Exec(`INSERT INTO events (run, seq, type, body) VALUES (?, 1, 'done', '{"type":"done"}')`, fmt.Sprintf("cccccccccc%02d", i))
	}
	db.Close()

	s := open(t, Options{Dir: dir})
	defer s.Close()
	l, err := s.List(Query{Learner: "ann"})
	if err != nil || len(l.Mine) != 3 || len(l.Others) != 0 {
		t.Fatalf("ann's runs after the migration: %d mine, %d others, %v", len(l.Mine), len(l.Others), err)
	}
	p, _ := s.Progress("ann")
	if d := p["hold"]; d.Runs != 2 || d.LastRun != "cccccccccc01" || d.First.UnixMilli() != 2000 {
		t.Errorf("progress made from the old runs: %+v", d)
	}
	if evs, _ := s.Events("cccccccccc02"); len(evs) != 1 {
		t.Errorf("events lost in the migration")
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, _ := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	db.Exec(`PRAGMA user_version = 99`)
	db.Close()
	if _, err := Open(Options{Dir: dir, Log: quiet()}); err == nil || !strings.Contains(err.Error(), "newer conclab") {
		t.Errorf("a database of schema 99: %v", err)
	}
}

// readOnlyDir makes dir unwritable, even for root (who ignores the mode):
// as root it is made immutable, where the file system allows it.
func readOnlyDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if os.Geteuid() != 0 {
		return
	}
	if err := setImmutable(dir, true); err != nil {
		t.Skipf("running as root, and cannot make %s immutable (%v): no way to make a read-only directory here", dir, err)
	}
	t.Cleanup(func() { setImmutable(dir, false) })
	if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
		f.Close()
		t.Skip("the directory is still writable: no way to make a read-only directory here")
	}
}

func TestReadOnlyDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	os.Mkdir(dir, 0o755)
	readOnlyDir(t, dir)
	_, err := Open(Options{Dir: dir, Serve: true, Log: quiet()})
	if err == nil {
		t.Fatal("a store opened in a read-only directory")
	}
	// The server goes on in memory and says why nothing is saved.
	s := NotSaving(Options{Dir: dir, Log: quiet()}, err)
	defer s.Close()
	h := s.Health()
	if h.Saving || !strings.Contains(h.Reason, dir) || !strings.Contains(h.Reason, "kept in memory") {
		t.Errorf("health %+v", h)
	}
	record(s, "dddddddddd01", "hold", "x", 2, protocol.StatusOK)
	s.Flush()
	if r, err := s.Get("dddddddddd01"); err != nil || r.Status != protocol.StatusOK {
		t.Errorf("the run was not kept in memory: %v", err)
	}
	if h := s.Health(); h.Saving || !strings.Contains(h.Reason, dir) {
		t.Errorf("after a run, health is %+v: it must still say why nothing is saved", h)
	}
}

// A database locked by another program: writes fail, the runs go on,
// Health says why, and once the lock goes the store saves again —
// including the end of a run that finished meanwhile.
func TestLockedDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, Options{Dir: dir, Serve: true, BusyTimeout: 50 * time.Millisecond})
	defer s.Close()
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?_txlock=exclusive")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO progress VALUES ('z', 'z', 1, 1, 1, 'z')`); err != nil {
		t.Fatal(err)
	}
	record(s, "eeeeeeeeee01", "hold", "x", 3, protocol.StatusOK)
	s.Flush()
	if h := s.Health(); h.Saving || !strings.Contains(h.Reason, "locked by another program") {
		t.Errorf("while locked, health is %+v", h)
	}
	tx.Rollback()
	deadline := time.Now().Add(10 * time.Second)
	for s.Health().Reason != "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.Flush()
	if h := s.Health(); !h.Saving || h.Lost != 0 {
		t.Errorf("after the lock went, health is %+v (want saving, nothing lost)", h)
	}
	// Its events were written from the run's log once the disk came back.
	r, err := s.Get("eeeeeeeeee01")
	if err != nil || r.Status != protocol.StatusOK || r.Lost != 0 || r.Events != 6 {
		t.Errorf("the run that ended while locked: %+v, %v (want ok, its 6 events, none lost)", r, err)
	}
}

func TestKeepPrunesTheOldest(t *testing.T) {
	t.Parallel()
	s := open(t, Options{Dir: t.TempDir(), Keep: 3})
	defer s.Close()
	for i := range 5 {
		record(s, fmt.Sprintf("ffffffffff%02d", i), "hold", "ann", 2, protocol.StatusOK)
		s.Flush()
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	if n, _ := s.Count(); n != 3 {
		t.Errorf("%d runs kept, want 3", n)
	}
	if _, err := s.Get("ffffffffff00"); err != ErrNotFound {
		t.Errorf("the oldest run was kept: %v", err)
	}
	var events int
	s.r.QueryRow(`SELECT count(*) FROM events WHERE run = 'ffffffffff00'`).Scan(&events)
	if events != 0 {
		t.Errorf("the pruned run's %d events were kept", events)
	}
	if p, _ := s.Progress("ann"); p["hold"].Runs != 5 {
		t.Errorf("progress counts %d runs, want 5: it outlives pruning", p["hold"].Runs)
	}
}

// A run whose log dropped events past runlog.MaxEvents is stored as its
// log holds it: the events kept, the notice in place of the rest, the
// result and done, and how many were dropped.
func TestTheLogsCapIsTheStores(t *testing.T) {
	t.Parallel()
	s := Memory(Options{Log: quiet()})
	defer s.Close()
	const over = 7
	record(s, "0000000000a1", "hold", "", runlog.MaxEvents+over, protocol.StatusOK)
	s.Flush()
	r, _ := s.Get("0000000000a1")
	// started and MaxEvents-1 points fill the log; the notice stands for
	// the over+1 points dropped; then result and done.
	if want := runlog.MaxEvents + 3; r.Events != want || r.Dropped != over+1 || r.Status != protocol.StatusOK {
		t.Errorf("capped run: %d events stored, %d dropped, %s; want %d, %d, ok", r.Events, r.Dropped, r.Status, want, over+1)
	}
	evs, _ := s.Events("0000000000a1", "log", "result", "done")
	if len(evs) != 3 || !strings.Contains(string(evs[0].JSON), "more events than can be kept") {
		t.Errorf("stored notice, result and done: %d events, first %s", len(evs), evs[0].JSON)
	}
}

func TestListMineFirst(t *testing.T) {
	t.Parallel()
	s := Memory(Options{Log: quiet()})
	defer s.Close()
	record(s, "111111111111", "hold", "ann", 1, protocol.StatusOK)
	record(s, "222222222222", "hold", "bob", 1, protocol.StatusOK)
	record(s, "333333333333", "other", "ann", 1, protocol.StatusFailed)
	tape := startRun(s, runlog.Record{ID: "444444444444", Experiment: "hold", Lesson: "test-lesson", Learner: "bob"})
	tape.Asked("ann")
	tape.End(runlog.Outcome{Status: protocol.StatusCancelled})
	s.Flush()
	ids := func(rs []Run) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID[:1])
		}
		return strings.Join(out, "")
	}
	tests := []struct {
		q              Query
		mine, others   string
		mineN, othersN int
	}{
		{Query{Learner: "ann"}, "431", "2", 3, 1},
		{Query{Learner: "ann", Experiment: "hold"}, "41", "2", 2, 1},
		{Query{Learner: "ann", Limit: 1}, "4", "2", 3, 1},
		{Query{}, "", "4321", 0, 4},
		{Query{Lesson: "nope"}, "", "", 0, 0},
	}
	for _, tt := range tests {
		l, err := s.List(tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if ids(l.Mine) != tt.mine || ids(l.Others) != tt.others || l.MineTotal != tt.mineN || l.OthersTotal != tt.othersN {
			t.Errorf("List(%+v) = mine %s (%d), others %s (%d); want %s (%d), %s (%d)", tt.q, ids(l.Mine), l.MineTotal, ids(l.Others), l.OthersTotal, tt.mine, tt.mineN, tt.others, tt.othersN)
		}
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	a := open(t, Options{Dir: t.TempDir()})
	defer a.Close()
	record(a, "5555555555aa", "hold", "ann", 4, protocol.StatusOK)
	a.Flush()
	var file bytes.Buffer
	if err := a.Export("5555555555aa", &file); err != nil {
		t.Fatal(err)
	}
	b := open(t, Options{Dir: t.TempDir()})
	defer b.Close()
	imp, err := b.Import(bytes.NewReader(file.Bytes()), "carl")
	if err != nil || imp.ID != "5555555555aa" || imp.Already {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	src, _ := a.Get("5555555555aa")
	got, _ := b.Get("5555555555aa")
	fields := []struct {
		name     string
		src, got any
	}{
		{"experiment", src.Experiment, got.Experiment},
		{"lesson", src.Lesson, got.Lesson},
		{"params", fmt.Sprint(src.Params), fmt.Sprint(got.Params)},
		{"status", src.Status, got.Status},
		{"error", src.Error, got.Error},
		{"created", src.Created.UnixMilli(), got.Created.UnixMilli()},
		{"started", src.Started.UnixMilli(), got.Started.UnixMilli()},
		{"ended", src.Ended.UnixMilli(), got.Ended.UnixMilli()},
		{"host", fmt.Sprint(*src.Host), fmt.Sprint(*got.Host)},
		{"result", string(src.Result), string(got.Result)},
		{"headline", jsonOf(src.Headline), jsonOf(got.Headline)},
		{"verdicts", [3]int{src.Holds, src.Differs, src.Inconclusive}, [3]int{got.Holds, got.Differs, got.Inconclusive}},
		{"events", src.Events, got.Events},
		{"dropped", src.Dropped, got.Dropped},
		{"lost", src.Lost, got.Lost},
	}
	for _, f := range fields {
		if f.src != f.got {
			t.Errorf("%s: exported %v, imported %v", f.name, f.src, f.got)
		}
	}
	if got.Source != SourceImport || got.Imported.IsZero() || got.Learner != "carl" {
		t.Errorf("the imported run's source %q, imported %v, learner %q", got.Source, got.Imported, got.Learner)
	}
	var ea, eb bytes.Buffer
	a.WriteEvents("5555555555aa", &ea)
	b.WriteEvents("5555555555aa", &eb)
	if ea.String() != eb.String() || ea.Len() == 0 {
		t.Errorf("events differ after the round trip:\n%s\n%s", ea.String(), eb.String())
	}
	if p, _ := b.Progress("carl"); p["hold"].Runs != 1 {
		t.Errorf("the importer's progress: %+v", p)
	}
	// Once more: it is there already.
	if again, err := b.Import(bytes.NewReader(file.Bytes()), "carl"); err != nil || !again.Already {
		t.Errorf("importing twice: %+v, %v", again, err)
	}
	// The events alone, as `conclab run --json` prints them, import too.
	plain, err := b.Import(strings.NewReader(ea.String()), "")
	if err != nil || plain.ID == "5555555555aa" {
		t.Fatalf("importing run --json output: %+v, %v", plain, err)
	}
	if r, _ := b.Get(plain.ID); r.Experiment != "hold" || r.Status != protocol.StatusOK || r.Host == nil || r.Events != src.Events {
		t.Errorf("run --json import: %+v", r)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestImportRefusesBadFiles(t *testing.T) {
	t.Parallel()
	a := Memory(Options{Log: quiet()})
	defer a.Close()
	record(a, "666666666666", "hold", "", 3, protocol.StatusOK)
	a.Flush()
	var buf bytes.Buffer
	a.Export("666666666666", &buf)
	good := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") // header, started, 3 points, result, done
	join := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	tests := []struct {
		name, file string
		line       int
		reason     string
	}{
		{"empty", "", 0, "the file is empty"},
		{"not json", "hello\n", 1, "not a JSON object"},
		{"cut mid-line", join(good[:4]...) + good[4][:20], 5, "not a JSON object"},
		{"cut at a line", join(good[:5]...), 5, "ends after 4 of the run's 6 events"},
		{"no type", join(good[0], `{"x":1}`), 2, `no "type"`},
		{"neither", join(`{"type":"point"}`), 1, "begins with a"},
		{"newer format", join(strings.Replace(good[0], `"format":1`, `"format":7`, 1)), 1, "format 7, newer"},
		{"bad status", join(strings.Replace(good[0], `"status":"ok"`, `"status":"running"`, 1)), 1, `status "running"`},
		{"wrong experiment", join(good[0], strings.Replace(good[1], `"experiment":"hold"`, `"experiment":"other"`, 1)), 2, "header says hold"},
		{"two results", join(good[0], good[1], good[5], good[5]), 4, "second result"},
		{"after done", join(append(good[:], good[2])...), 8, "after the run's done"},
		{"empty line", join(good[0], "", good[1]), 2, "empty line"},
		{"no done", join(good[1], good[2]), 2, "before the run's done event"},
		{"bad result", join(good[0], good[1], `{"type":"result","metrics":"many"}`), 3, "result event is malformed"},
		{"long line", join(good[0], `{"type":"log","message":"`+strings.Repeat("x", 1<<20)+`"}`), 2, "longer than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Memory(Options{Log: quiet()})
			defer s.Close()
			_, err := s.Import(strings.NewReader(tt.file), "ann")
			ie, ok := err.(*ImportError)
			if !ok {
				t.Fatalf("got %v, want an ImportError", err)
			}
			if ie.Line != tt.line || !strings.Contains(ie.Reason, tt.reason) || !strings.Contains(ie.Error(), "nothing was imported") {
				t.Errorf("got line %d %q, want line %d %q", ie.Line, ie.Reason, tt.line, tt.reason)
			}
			if n, _ := s.Count(); n != 0 {
				t.Errorf("%d runs imported from a refused file", n)
			}
		})
	}
}

func TestProgressMovesAndMergesOnce(t *testing.T) {
	t.Parallel()
	a := Memory(Options{Log: quiet()})
	defer a.Close()
	record(a, "777777777777", "hold", "ann", 1, protocol.StatusOK)
	record(a, "888888888888", "hold", "ann", 1, protocol.StatusOK)
	record(a, "999999999999", "other", "ann", 1, protocol.StatusFailed)
	a.Flush()
	var file bytes.Buffer
	if err := a.ExportProgress("ann", &file); err != nil {
		t.Fatal(err)
	}
	// Into another browser on the same server: the progress and the runs.
	for range 2 {
		res, err := a.ImportProgress("bea", bytes.NewReader(file.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := a.Progress("bea")
		if len(p) != 1 || p["hold"].Runs != 2 || p["hold"].LastRun != "888888888888" || res.Experiments != 1 {
			t.Errorf("bea's progress %+v (%+v)", p, res)
		}
	}
	if l, _ := a.List(Query{Learner: "bea"}); l.MineTotal != 3 {
		t.Errorf("bea has %d of ann's runs, want 3", l.MineTotal)
	}
	// Into another server: the progress, and no runs it does not have.
	b := Memory(Options{Log: quiet()})
	defer b.Close()
	res, err := b.ImportProgress("cy", bytes.NewReader(file.Bytes()))
	if p, _ := b.Progress("cy"); err != nil || p["hold"].Runs != 2 || res.Runs != 0 {
		t.Errorf("on another server: %+v %+v %v", p, res, err)
	}
	for _, bad := range []string{"", "{", `{"type":"conclab-run"}`, `{"type":"conclab-progress","format":9}`, `{"type":"conclab-progress","format":1,"experiments":[{"experiment":"X!"}]}`} {
		if _, err := b.ImportProgress("cy", strings.NewReader(bad)); err == nil {
			t.Errorf("progress file %q was taken", bad)
		}
	}
}

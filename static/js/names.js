// The names the server and the page share — event types, run statuses,
// verdicts and chart kinds — mirrored once from internal/protocol/names.go
// (a test checks that the two agree).

/** Event types of a run. */
export const Event = Object.freeze({
  Started: 'started', Progress: 'progress', Log: 'log', Point: 'point', Points: 'points', Mark: 'mark',
  Bar: 'bar', Hist: 'hist', Span: 'span', Row: 'row', Gauge: 'gauge', TracePart: 'trace-part', TraceFile: 'trace-file',
  Result: 'result', Done: 'done',
});

/** Statuses of a run. */
export const Status = Object.freeze({
  OK: 'ok', Failed: 'failed', Cancelled: 'cancelled', Timeout: 'timeout', Interrupted: 'interrupted',
  Queued: 'queued', Running: 'running',
});

/** Verdicts of a claim. */
export const Verdict = Object.freeze({ Holds: 'holds', Differs: 'differs', Inconclusive: 'inconclusive' });

/** Kinds of chart. */
export const Chart = Object.freeze({ Line: 'line', Bars: 'bars', Hist: 'hist', Lanes: 'lanes', Sched: 'sched' });

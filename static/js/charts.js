// Live SVG charts drawn from a run's events. Each chart keeps its data,
// redraws at most a few times a second while a run streams in (a browser
// on the serving machine competes with the run for its CPUs), and fills
// the table beside it with the same numbers for people who cannot see it.
import { fmt, el } from './format.js';
import { Chart as Kind, Event } from './names.js';

const NS = 'http://www.w3.org/2000/svg';
const WIDE = 640, NARROW = 400, H = 300;
const M = { top: 16, right: 16, bottom: 44, left: 64 };
const MAX_ROWS = 400; // table rows shown; the rest are summarised
const MAX_LABELS = 200; // labels drawn inside a lanes chart's spans
const LIVE_ROWS = 30; // table rows shown while a run goes
// Least ms between two redraws of a chart, and between two refills of its
// table, while a run streams in; a run's end draws both whole (flush).
export const REDRAW_GAP = 250;
const TABLE_GAP = 1000;

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A scale maps data values to pixels, linear or logarithmic. */
function scale(lo, hi, a, b, log) {
  if (log) {
    lo = Math.max(lo, 1e-12);
    hi = Math.max(hi, lo * 10);
    const l0 = Math.log10(lo), l1 = Math.log10(hi);
    const f = (v) => a + ((Math.log10(Math.max(v, 1e-12)) - l0) / (l1 - l0)) * (b - a);
    f.ticks = () => logTicks(lo, hi);
    return f;
  }
  if (hi === lo) hi = lo + 1;
  const f = (v) => a + ((v - lo) / (hi - lo)) * (b - a);
  f.ticks = () => linTicks(lo, hi);
  return f;
}

function linTicks(lo, hi) {
  const span = hi - lo, raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= 6);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function logTicks(lo, hi) {
  const out = [];
  const decades = Math.log10(hi / lo);
  for (let p = Math.floor(Math.log10(lo)); p <= Math.ceil(Math.log10(hi)); p++) {
    for (const m of decades < 3 ? [1, 2, 5] : [1]) {
      const v = m * 10 ** p;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

/** Extent of values, padded a little for linear axes. */
function extent(values, log, zero) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (log && v <= 0)) continue;
    lo = Math.min(lo, v); hi = Math.max(hi, v);
  }
  if (lo === Infinity) return [log ? 1 : 0, log ? 10 : 1];
  if (log) return [lo / 1.3, hi * 1.3];
  if (zero) lo = Math.min(0, lo);
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.1 || 1;
  return [zero && lo === 0 ? 0 : lo - pad, hi + pad];
}

class Chart {
  constructor(fig) {
    this.fig = fig;
    this.kind = fig.dataset.kind;
    this.xLabel = fig.dataset.x || '';
    this.yLabel = fig.dataset.y || '';
    this.logX = fig.hasAttribute('data-logx');
    this.logY = fig.hasAttribute('data-logy');
    this.plot = fig.querySelector('.plot');
    this.thead = fig.querySelector('thead');
    this.tbody = fig.querySelector('tbody');
    this.series = new Map(); // name -> colour index, in order of arrival
    this.pending = false;
    // The width is read on resize, never while drawing (a forced layout).
    this.w = WIDE;
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver((entries) => {
        const w = entries[entries.length - 1].contentRect.width;
        const want = (w || WIDE) < 520 ? NARROW : WIDE;
        if (want !== this.w) { this.w = want; if (this.drawn) this.changed(); }
      }).observe(this.plot);
    }
    this.reset();
  }

  seriesIndex(name) {
    if (!this.series.has(name)) this.series.set(name, this.series.size % 8);
    return this.series.get(name);
  }

  /** changed schedules a redraw: at most one every REDRAW_GAP ms, in an
   *  animation frame, however fast events come. */
  changed() {
    if (this.pending) return;
    this.pending = true;
    const wait = Math.max(0, (this.lastDraw ?? -Infinity) + REDRAW_GAP - performance.now());
    this.timer = setTimeout(() => { this.raf = requestAnimationFrame(() => this.redraw(false)); }, wait);
  }

  redraw(final = true) {
    this.pending = false;
    this.lastDraw = performance.now();
    this.draw();
    if (final || !(this.lastFill > this.lastDraw - TABLE_GAP)) {
      this.lastFill = this.lastDraw;
      if (final) this.ended = true; // a redraw after the end (a click) keeps the whole table
      this.whole = this.ended; // while a run goes, the table holds its newest rows only
      this.fill();
      this.stale = !final;
    } else this.stale = true;
  }

  /** flush draws now what waits for the next frame: when a run ends, its
   *  chart and the table beside it are complete at once, however slowly a
   *  busy browser draws frames. final = false is a redraw while the run
   *  goes on, which refills the table only every TABLE_GAP ms. */
  flush(final = true) {
    if (!this.pending) {
      if (final) this.ended = true;
      if (final && this.stale) { this.whole = true; this.fill(); this.stale = false; }
      return;
    }
    clearTimeout(this.timer);
    cancelAnimationFrame(this.raf);
    this.redraw(final);
  }

  /** blank puts the placeholder back after a reset. */
  blank() {
    if (!this.drawn) return;
    this.drawn = false;
    this.plot.replaceChildren(el('p', { class: 'empty', text: 'Waiting for data…' }));
  }

  /** W is the drawing's width in SVG units: narrower on a small screen so
   *  that its text stays readable when the SVG is scaled down. */
  get W() { return this.w ?? WIDE; }

  frame() {
    this.drawn = true;
    const root = svg('svg', { viewBox: `0 0 ${this.W} ${H}`, class: `chart-svg kind-${this.kind}`, 'aria-hidden': 'true' });
    this.plot.replaceChildren(root);
    return root;
  }

  axes(root, x, y, { xTicks, yTicks } = {}) {
    const g = svg('g', { class: 'axes' });
    for (const t of yTicks ?? y.ticks()) {
      const py = y(t);
      g.append(svg('line', { x1: M.left, x2: this.W - M.right, y1: py, y2: py, class: 'grid' }));
      g.append(svg('text', { x: M.left - 6, y: py + 4, class: 'tick', 'text-anchor': 'end' }, fmt(t)));
    }
    for (const t of xTicks ?? (x ? x.ticks() : [])) {
      const px = x(t);
      g.append(svg('line', { x1: px, x2: px, y1: H - M.bottom, y2: H - M.bottom + 4, class: 'axis' }));
      g.append(svg('text', { x: px, y: H - M.bottom + 16, class: 'tick', 'text-anchor': 'middle' }, fmt(t)));
    }
    g.append(svg('line', { x1: M.left, x2: this.W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: 'axis' }));
    g.append(svg('line', { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: 'axis' }));
    g.append(svg('text', { x: (M.left + this.W - M.right) / 2, y: H - 6, class: 'label', 'text-anchor': 'middle' }, this.xLabel + (this.logX ? ' (log scale)' : '')));
    g.append(svg('text', { x: 14, y: (M.top + H - M.bottom) / 2, class: 'label', 'text-anchor': 'middle', transform: `rotate(-90 14 ${(M.top + H - M.bottom) / 2})` }, this.yLabel + (this.logY ? ' (log)' : '')));
    root.append(g);
  }

  legend() {
    if (this.series.size < 2 && this.kind !== Kind.Hist) return;
    const ul = el('ul', { class: 'legend' });
    for (const [name, i] of this.series) ul.append(el('li', { class: `s${i}` }, el('span', { class: 'swatch' }), name));
    this.plot.append(ul);
  }

  table(headers, rows, total) {
    this.thead.replaceChildren(el('tr', {}, ...headers.map((h) => el('th', { scope: 'col', text: h }))));
    const n = total ?? rows.length;
    const row = (r) => el('tr', {}, ...r.map((c) => el('td', { text: typeof c === 'number' ? fmt(c) : c })));
    let body;
    if (this.whole === false && n > LIVE_ROWS) {
      // While the run goes: its newest rows, so the page stays light;
      // the whole table comes when it ends.
      body = rows.slice(-LIVE_ROWS).map(row);
      body.unshift(el('tr', {}, el('td', { colspan: headers.length, class: 'empty', text: `The newest ${LIVE_ROWS} of ${n} rows while the run goes; all of them when it ends.` })));
    } else {
      body = rows.slice(0, MAX_ROWS).map(row);
      if (n > MAX_ROWS) {
        body.push(el('tr', {}, el('td', { colspan: headers.length, class: 'empty', text: `…and ${n - MAX_ROWS} more rows, the first ${MAX_ROWS} shown.` })));
      }
    }
    if (body.length === 0) body.push(el('tr', {}, el('td', { class: 'empty', text: 'No data yet.' })));
    this.tbody.replaceChildren(...body);
  }
}

/** Line chart: points appended per series; optional vertical marks. */
class LineChart extends Chart {
  reset() { this.ended = false; this.data = new Map(); this.marks = []; this.series = new Map(); this.changed(); }
  handle(ev) {
    if (ev.type === Event.Mark) { this.marks.push(ev); this.changed(); return; }
    const xs = ev.type === Event.Points ? ev.x : [ev.x];
    const ys = ev.type === Event.Points ? ev.y : [ev.y];
    this.seriesIndex(ev.series);
    const pts = this.data.get(ev.series) ?? [];
    for (let i = 0; i < xs.length; i++) pts.push([xs[i], ys[i]]);
    this.data.set(ev.series, pts);
    this.changed();
  }
  draw() {
    if (this.data.size === 0) return this.blank();
    const all = [...this.data.values()].flat();
    const [x0, x1] = extent(all.map((p) => p[0]).concat(this.marks.map((m) => m.x)), this.logX, false);
    const [y0, y1] = extent(all.map((p) => p[1]), this.logY, true);
    const x = scale(x0, x1, M.left, this.W - M.right, this.logX);
    const y = scale(y0, y1, H - M.bottom, M.top, this.logY);
    const root = this.frame();
    this.axes(root, x, y);
    for (const m of this.marks) {
      const px = x(m.x);
      root.append(svg('line', { x1: px, x2: px, y1: M.top, y2: H - M.bottom, class: 'mark' }));
      root.append(svg('text', { x: px + 4, y: M.top + 12, class: 'mark-label' }, m.label));
    }
    for (const [name, pts] of this.data) {
      const i = this.series.get(name);
      const sorted = pts.filter((p) => !(this.logX && p[0] <= 0) && !(this.logY && p[1] <= 0));
      const d = sorted.map((p, k) => `${k ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
      root.append(svg('path', { d, class: `line s${i}` }));
      if (sorted.length <= 60) for (const p of sorted) root.append(svg('circle', { cx: x(p[0]), cy: y(p[1]), r: 3, class: `dot s${i}` }));
    }
    this.legend();
  }
  fill() {
    const rows = [];
    for (const [name, pts] of this.data) for (const p of pts) rows.push([name, p[0], p[1]]);
    this.table(['Series', this.xLabel || 'x', this.yLabel || 'y'], rows);
  }
}

/** Bar chart: one bar per label (and series), with lo–hi whiskers. */
class BarChart extends Chart {
  reset() { this.ended = false; this.bars = new Map(); this.series = new Map(); this.changed(); }
  handle(ev) {
    this.seriesIndex(ev.series || ev.label);
    this.bars.set(`${ev.label}\u0000${ev.series || ''}`, ev);
    this.changed();
  }
  draw() {
    if (this.bars.size === 0) return this.blank();
    const bars = [...this.bars.values()];
    const labels = [...new Set(bars.map((b) => b.label))];
    const [y0, y1] = extent(bars.flatMap((b) => [b.value, b.lo, b.hi]), this.logY, true);
    const y = scale(this.logY ? y0 : Math.min(0, y0), y1, H - M.bottom, M.top, this.logY);
    const root = this.frame();
    this.axes(root, null, y, { xTicks: [] });
    const band = (this.W - M.left - M.right) / labels.length;
    const perLabel = Math.max(...labels.map((l) => bars.filter((b) => b.label === l).length));
    const bw = Math.min(60, (band * 0.7) / perLabel);
    labels.forEach((label, li) => {
      const group = bars.filter((b) => b.label === label);
      group.forEach((b, k) => {
        const cx = M.left + band * (li + 0.5) + (k - (group.length - 1) / 2) * bw;
        const base = this.logY ? H - M.bottom : y(0);
        const top = y(b.value);
        const i = this.series.get(b.series || b.label);
        root.append(svg('rect', { x: cx - bw / 2 + 2, y: Math.min(top, base), width: bw - 4, height: Math.abs(base - top), class: `bar s${i}` }));
        if (b.lo !== b.hi) {
          root.append(svg('line', { x1: cx, x2: cx, y1: y(b.lo), y2: y(b.hi), class: 'whisker' }));
          for (const v of [b.lo, b.hi]) root.append(svg('line', { x1: cx - 6, x2: cx + 6, y1: y(v), y2: y(v), class: 'whisker' }));
        }
        root.append(svg('text', { x: cx, y: Math.min(top, y(b.hi)) - 5, class: 'value', 'text-anchor': 'middle' }, fmt(b.value)));
      });
      const words = label.split(/,\s*/);
      words.forEach((w, wi) => root.append(svg('text', { x: M.left + band * (li + 0.5), y: H - M.bottom + 15 + wi * 12, class: 'tick', 'text-anchor': 'middle' }, w)));
    });
  }
  fill() {
    const rows = [...this.bars.values()].map((b) => [b.series ? `${b.label} (${b.series})` : b.label, b.value, b.lo === b.hi ? '–' : `${fmt(b.lo)} – ${fmt(b.hi)}`]);
    this.table([this.xLabel || 'What', this.yLabel || 'Value', 'Spread'], rows);
  }
}

/** Histogram: each series is a set of bins [lo, hi, count]. */
class HistChart extends Chart {
  reset() { this.ended = false; this.hists = new Map(); this.series = new Map(); this.changed(); }
  handle(ev) { this.seriesIndex(ev.series); this.hists.set(ev.series, ev.bins); this.changed(); }
  draw() {
    if (this.hists.size === 0) return this.blank();
    const used = [...this.hists.values()].flat().filter((b) => b[2] > 0);
    if (used.length === 0) return this.blank();
    const [x0, x1] = extent(used.flatMap((b) => [b[0], b[1]]), this.logX, false);
    const x = scale(x0, x1, M.left, this.W - M.right, this.logX);
    const y = scale(0, Math.max(...used.map((b) => b[2])) * 1.1, H - M.bottom, M.top, false);
    const root = this.frame();
    this.axes(root, x, y);
    for (const [name, bins] of this.hists) {
      const i = this.series.get(name);
      for (const [lo, hi, n] of bins) {
        if (n <= 0 || hi < x0 || lo > x1) continue;
        root.append(svg('rect', { x: x(lo), y: y(n), width: Math.max(1, x(hi) - x(lo) - 1), height: H - M.bottom - y(n), class: `hbar s${i}` }));
      }
    }
    this.legend();
  }
  fill() {
    const rows = [];
    for (const [name, bins] of this.hists) for (const [lo, hi, n] of bins) if (n > 0) rows.push([name, `${fmt(lo)} – ${fmt(hi)}`, n]);
    this.table(['Series', this.xLabel || 'Range', this.yLabel || 'Count'], rows);
  }
}

/** Lanes: spans on a time axis, one row per lane, coloured by label. */
class LaneChart extends Chart {
  reset() { this.ended = false; this.spans = []; this.lanes = []; this.series = new Map(); this.changed(); }
  handle(ev) {
    if (!this.lanes.includes(ev.lane)) this.lanes.push(ev.lane);
    this.seriesIndex(ev.label);
    this.spans.push(ev);
    this.changed();
  }
  draw() {
    if (this.spans.length === 0) return this.blank();
    const t0 = Math.min(...this.spans.map((s) => s.start));
    const t1 = Math.max(...this.spans.map((s) => s.end));
    const x = scale(t0, t1 > t0 ? t1 : t0 + 1, M.left + 40, this.W - M.right, false);
    const lh = Math.min(36, (H - M.top - M.bottom) / this.lanes.length);
    const root = this.frame();
    // A few lanes need little height: fit the drawing to them.
    root.setAttribute('viewBox', `0 0 ${this.W} ${Math.ceil(M.top + lh * this.lanes.length + 44)}`);
    const g = svg('g', { class: 'axes' });
    for (const t of x.ticks()) {
      g.append(svg('line', { x1: x(t), x2: x(t), y1: M.top, y2: M.top + lh * this.lanes.length, class: 'grid' }));
      g.append(svg('text', { x: x(t), y: M.top + lh * this.lanes.length + 16, class: 'tick', 'text-anchor': 'middle' }, fmt(t)));
    }
    g.append(svg('text', { x: (M.left + this.W) / 2, y: M.top + lh * this.lanes.length + 34, class: 'label', 'text-anchor': 'middle' }, this.xLabel || 'ms'));
    this.lanes.forEach((lane, li) => g.append(svg('text', { x: M.left + 34, y: M.top + lh * li + lh / 2 + 4, class: 'tick', 'text-anchor': 'end' }, lane)));
    root.append(g);
    // One path per series, not an element per span: a run sends thousands
    // of spans, and a page of thousands of elements costs the browser a
    // long layout every time it is drawn.
    const paths = new Map();
    const labels = [];
    for (const s of this.spans) {
      const li = this.lanes.indexOf(s.lane);
      const px = x(s.start), w = Math.max(1, x(s.end) - px), top = M.top + lh * li + 3;
      const i = this.series.get(s.label);
      paths.set(i, (paths.get(i) ?? '') + `M${px.toFixed(1)},${top.toFixed(1)}h${w.toFixed(1)}v${(lh - 6).toFixed(1)}h${(-w).toFixed(1)}z`);
      // Only a label that fits inside its bar: a wider one would spill over its neighbours and the lane names.
      if (w > s.label.length * 6.5 + 8 && labels.length < MAX_LABELS) labels.push(svg('text', { x: px + w / 2, y: M.top + lh * li + lh / 2 + 4, class: 'span-label', 'text-anchor': 'middle' }, s.label));
    }
    for (const [i, d] of paths) root.append(svg('path', { d, class: `span s${i}` }));
    root.append(...labels);
    this.legend();
  }
  fill() {
    const rows = this.spans.map((s) => [s.lane, s.label, s.start, s.end, s.end - s.start]);
    this.table(['Lane', 'What', 'Start (ms)', 'End (ms)', 'Length (ms)'], rows);
  }
}

const kinds = { [Kind.Line]: LineChart, [Kind.Bars]: BarChart, [Kind.Hist]: HistChart, [Kind.Lanes]: LaneChart };

/** LazyChart stands in for a chart whose module is loaded only by the
 *  pages that have one (a scheduler's lanes: sched.js), so the others do
 *  not carry it: it keeps every call until the chart exists, then plays
 *  them to it in order. */
class LazyChart {
  constructor(fig, load) {
    this.calls = [];
    /** ready settles once the chart exists and has had every call. */
    this.ready = load().then((K) => {
      this.chart = new K(fig);
      for (const [name, args] of this.calls.splice(0)) this.chart[name](...args);
    });
  }
  call(name, args) { if (this.chart) this.chart[name](...args); else this.calls.push([name, args]); }
  handle(...a) { this.call('handle', a); }
  flush(...a) { this.call('flush', a); }
  reset(...a) { this.call('reset', a); }
}

let sched;
const lazy = {
  [Kind.Sched]: () => (sched ??= import('./sched.js').then((m) => m.schedKind({ Chart, svg, scale, M, H }))),
};

/** makeChart returns the live chart for a <figure data-kind>. */
export function makeChart(fig) {
  const K = kinds[fig.dataset.kind];
  if (K) return new K(fig);
  const load = lazy[fig.dataset.kind];
  return load ? new LazyChart(fig, load) : null;
}

// Live SVG charts drawn from a run's events. Each chart keeps its data,
// redraws at most a few times a second while a run streams in (a browser
// on the serving machine competes with the run for its CPUs), and fills
// the table beside it with the same numbers for people who cannot see it.
import { fmt, el } from './format.js';
import { Chart as Kind, Event } from './names.js';

const NS = 'http://www.w3.org/2000/svg';
// A drawing is as wide, in SVG units, as its box is in CSS pixels (at
// least MIN_W): its text is drawn at the size the stylesheet gives it,
// however wide the screen.
const WIDE = 640, MIN_W = 280, H = 300;
const M = { top: 16, right: 16, bottom: 44, left: 64 };
// Colours s0…s11 in site.css: every series of a chart gets its own.
export const PALETTE = 12;
const TICK = 11, LABEL = 12; // px: the sizes of .tick and .label text in site.css
const MAX_ROWS = 400; // table rows shown; the rest are summarised
const MAX_LABELS = 200; // labels drawn inside a lanes chart's spans
const MAX_DOTS = 120; // a line chart of more points has no dots on its lines
const LIVE_ROWS = 10; // table rows shown while a run goes
// Least ms between two redraws of a chart, and between two refills of its
// table, while a run streams in; a run's end draws both whole (flush). A
// chart of a panel whose run is under way is not drawn on its own timer:
// the panel draws it, with everything else, at its own bounded rate.
const REDRAW_GAP = 250;
const TABLE_GAP = 1000;

// The width of every character the charts have drawn, at 100 px, as the
// page's own font draws it in an SVG (a canvas may pick another font for
// the same family names). Each is measured once: all of ASCII (and the
// other characters the lessons use) in one layout when the first is asked
// for, any other character when it comes.
const ruled = new Map(); // weight + character -> width at 100 px
let ruler;
const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '–—−‑…×÷±≈≤≥→←↑↓·°µ’“”';

function rule(chars, weight) {
  const todo = [...new Set(chars)].filter((c) => !ruled.has(weight + c));
  if (todo.length === 0) return;
  if (!ruler) {
    ruler = svg('svg', { class: 'chart-svg chart-ruler', 'aria-hidden': 'true' });
    document.body.append(ruler);
  }
  const ts = todo.map((c) => ruler.appendChild(svg('text', { 'font-size': 100, 'font-weight': weight }, c === ' ' ? '\u00a0' : c)));
  ts.forEach((t, i) => ruled.set(weight + todo[i], t.getComputedTextLength()));
  ruler.replaceChildren();
}

/** textWidth is how wide text is drawn at size px (and weight), a little
 *  more rather than less. */
export function textWidth(text, size = TICK, weight = 400) {
  const s = String(text);
  if (ruled.size === 0) { rule(ASCII, 400); rule(ASCII, 600); }
  rule(s, weight);
  let w = 0;
  for (const c of s) w += ruled.get(weight + c);
  return w * size / 100 * 1.03;
}

/** thin keeps the ticks whose labels fit side by side along an axis: at
 *  pos(t), extent(t) long, with gap px between two. */
function thin(ticks, pos, extent, gap = 6) {
  const out = [];
  let end = -Infinity;
  for (const t of [...ticks].sort((a, b) => pos(a) - pos(b))) {
    const p = pos(t), half = extent(t) / 2;
    if (p - half < end + gap) continue;
    out.push(t);
    end = p + half;
  }
  return out;
}

/** wrap breaks a label into lines at most width px wide: at its commas
 *  first, then between words. */
function wrap(label, width) {
  const lines = [];
  for (const part of String(label).split(/,\s*/)) {
    let line = '';
    for (const word of part.split(' ')) {
      const next = line ? `${line} ${word}` : word;
      if (line && textWidth(next) > width) { lines.push(line); line = word; } else line = next;
    }
    lines.push(line);
  }
  return lines;
}

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
  /** held, when given, says whether the chart's drawing is left to its
   *  owner's flush for now. */
  constructor(fig, { held } = {}) {
    this.fig = fig;
    this.held = held;
    this.kind = fig.dataset.kind;
    this.xLabel = fig.dataset.x || '';
    this.yLabel = fig.dataset.y || '';
    this.logX = fig.hasAttribute('data-logx');
    this.logY = fig.hasAttribute('data-logy');
    this.plot = fig.querySelector('.plot');
    this.thead = fig.querySelector('thead');
    this.tbody = fig.querySelector('tbody');
    this.series = new Map(); // name -> colour index, in order of arrival
    // Two runs overlaid (/compare): a series of A's and the same of B's
    // share a colour, B's drawn dashed or hollow.
    this.pair = 'labels' in fig.dataset;
    this.pending = false;
    this.emptyText = this.plot.querySelector('.empty')?.textContent ?? '';
    // The width is read on resize, never while drawing (a forced layout).
    this.w = WIDE;
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver((entries) => {
        const w = entries[entries.length - 1].contentRect.width;
        const want = Math.max(MIN_W, Math.round(w || WIDE));
        if (want !== this.w) { this.w = want; if (this.drawn) this.changed(); }
      }).observe(this.plot);
    }
    this.reset();
  }

  seriesIndex(name) {
    if (this.series.size === 0) this.bases = new Map(); // after a reset
    if (!this.series.has(name)) {
      const base = this.pair ? String(name).replace(/^[AB]: /, '') : name;
      if (!this.bases.has(base)) this.bases.set(base, this.bases.size);
      this.series.set(name, this.bases.get(base) % PALETTE);
    }
    return this.series.get(name);
  }

  /** cls is the class of a series' marks: its colour, and run-b for the
   *  second of two runs overlaid. */
  cls(name) {
    const i = this.seriesIndex(name);
    return this.pair && /^B: /.test(name) ? `s${i} run-b` : `s${i}`;
  }

  /** changed schedules a redraw: at most one every REDRAW_GAP ms, in an
   *  animation frame, however fast events come; or, held, at its owner's
   *  next flush. */
  changed() {
    if (this.pending) return;
    this.pending = true;
    if (this.held?.()) return;
    const wait = Math.max(0, (this.lastDraw ?? -Infinity) + REDRAW_GAP - performance.now());
    this.timer = setTimeout(() => { this.raf = requestAnimationFrame(() => this.redraw(false)); }, wait);
  }

  redraw(final = true) {
    this.pending = false;
    this.lastDraw = performance.now();
    this.live = !final && !this.ended; // a drawing while the run goes leaves out what only reading needs
    this.draw();
    // A table that says "No data yet." beside a drawn chart is filled at once.
    if (final || this.tableEmpty || !(this.lastFill > this.lastDraw - TABLE_GAP)) {
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

  /** placeholder sets what the chart says while it has nothing to draw,
   *  and says it now if it has nothing drawn. */
  placeholder(text) {
    this.emptyText = text;
    if (!this.drawn) this.showEmpty();
  }

  showEmpty() {
    const p = this.plot.querySelector(':scope > p.empty');
    if (p && p.textContent === this.emptyText && this.plot.childElementCount === 1) return;
    this.plot.replaceChildren(el('p', { class: 'empty', text: this.emptyText }));
  }

  /** blank puts the placeholder back after a reset. */
  blank() {
    if (!this.drawn) return;
    this.drawn = false;
    this.showEmpty();
  }

  /** W is the drawing's width in SVG units, the width of its box. */
  get W() { return this.w ?? WIDE; }

  frame(height = H) {
    this.drawn = true;
    const root = svg('svg', { viewBox: `0 0 ${this.W} ${height}`, class: `chart-svg kind-${this.kind}`, 'aria-hidden': 'true', 'data-w': this.W, 'data-series': (this.bases ?? this.series).size });
    this.plot.replaceChildren(root);
    return root;
  }

  /** yTicks are the ticks of a vertical scale whose labels fit. */
  yTicks(y) { return thin(y.ticks(), y, () => TICK + 3, 1); }

  /** xTicks are the ticks of a horizontal scale whose labels fit. */
  xTicks(x) { return thin(x.ticks(), x, (t) => textWidth(fmt(t)), 8); }

  /** left is the margin that holds the y axis's label and tick labels. */
  left(ticks) {
    return Math.ceil(LABEL + 14 + Math.max(16, ...ticks.map((t) => textWidth(fmt(t)))));
  }

  /** xTick draws a tick label under px, kept inside the drawing. */
  xTick(g, px, y, text) {
    const half = textWidth(text) / 2;
    const at = Math.min(Math.max(px, half + 1), this.W - half - 1);
    g.append(svg('text', { x: at, y, class: 'tick', 'text-anchor': 'middle' }, text));
  }

  axes(root, x, y, { left, yTicks }) {
    const g = svg('g', { class: 'axes' });
    for (const t of yTicks) {
      const py = y(t);
      g.append(svg('line', { x1: left, x2: this.W - M.right, y1: py, y2: py, class: 'grid' }));
      g.append(svg('text', { x: left - 6, y: py + 4, class: 'tick', 'text-anchor': 'end' }, fmt(t)));
    }
    for (const t of this.xTicks(x)) {
      const px = x(t);
      g.append(svg('line', { x1: px, x2: px, y1: H - M.bottom, y2: H - M.bottom + 4, class: 'axis' }));
      this.xTick(g, px, H - M.bottom + 16, fmt(t));
    }
    g.append(svg('line', { x1: left, x2: this.W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: 'axis' }));
    g.append(svg('line', { x1: left, x2: left, y1: M.top, y2: H - M.bottom, class: 'axis' }));
    const xl = this.xLabel + (this.logX ? ' (log scale)' : '');
    if (xl) g.append(svg('text', { x: (left + this.W - M.right) / 2, y: H - 6, class: 'label', 'text-anchor': 'middle' }, xl));
    const yl = this.yLabel + (this.logY ? ' (log)' : ''), mid = (M.top + H - M.bottom) / 2;
    if (yl) g.append(svg('text', { x: LABEL, y: mid, class: 'label', 'text-anchor': 'middle', transform: `rotate(-90 ${LABEL} ${mid})` }, yl));
    root.append(g);
  }

  legend() {
    if (this.series.size < 2 && this.kind !== Kind.Hist) return;
    const ul = el('ul', { class: 'legend' });
    for (const name of this.series.keys()) ul.append(el('li', { class: this.cls(name) }, el('span', { class: 'swatch' }), name));
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
    this.tableEmpty = body.length === 0;
    if (this.tableEmpty) body.push(el('tr', {}, el('td', { class: 'empty', text: 'No data yet.' })));
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
    const y = scale(y0, y1, H - M.bottom, M.top, this.logY);
    const yTicks = this.yTicks(y), left = this.left(yTicks);
    const x = scale(x0, x1, left, this.W - M.right, this.logX);
    const root = this.frame();
    this.axes(root, x, y, { left, yTicks });
    this.drawMarks(root, x);
    // Dots only on a sparse chart that is not live (they are costly).
    const dots = !this.live && all.length <= MAX_DOTS;
    for (const [name, pts] of this.data) {
      const c = this.cls(name);
      const sorted = pts.filter((p) => !(this.logX && p[0] <= 0) && !(this.logY && p[1] <= 0));
      const d = sorted.map((p, k) => `${k ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
      root.append(svg('path', { d, class: `line ${c}` }));
      if (dots) for (const p of sorted) root.append(svg('circle', { cx: x(p[0]), cy: y(p[1]), r: 3, class: `dot ${c}` }));
    }
    this.legend();
  }
  /** drawMarks draws the vertical marks, their labels in as many rows as
   *  keep them apart, each inside the drawing. */
  drawMarks(root, x) {
    const ends = []; // per row, where its last label ends
    for (const m of [...this.marks].sort((a, b) => a.x - b.x)) {
      const px = x(m.x), w = textWidth(m.label);
      root.append(svg('line', { x1: px, x2: px, y1: M.top, y2: H - M.bottom, class: 'mark' }));
      const at = Math.min(px + 4, this.W - w - 1);
      let row = ends.findIndex((end) => at > end + 6);
      if (row < 0) { row = ends.length; ends.push(0); }
      ends[row] = at + w;
      root.append(svg('text', { x: at, y: M.top + 12 + row * 13, class: 'mark-label' }, m.label));
    }
  }

  fill() {
    const rows = [];
    for (const [name, pts] of this.data) for (const p of pts) rows.push([name, p[0], p[1]]);
    this.table(['Series', this.xLabel || 'x', this.yLabel || 'y'], rows);
  }
}

/** Bar chart: one bar per label (and series), with lo–hi whiskers. The
 *  bars lie, one row each, so that however many there are and however
 *  narrow the screen, their labels wrap on the axis to their left and
 *  their values follow them, never over each other. */
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
    const groups = [...new Set(bars.map((b) => b.label))].map((l) => bars.filter((b) => b.label === l));
    const [v0, v1] = extent(bars.flatMap((b) => [b.value, b.lo, b.hi]), this.logY, true);
    const lo = this.logY ? v0 : Math.min(0, v0);
    this.lying(groups, lo, v1);
    if (bars.some((b) => b.series)) this.legend();
  }
  colour(b) { return `bar ${this.cls(b.series || b.label)}`; }
  /** lying draws a row per bar, grouped by label, as long as it needs. */
  lying(groups, v0, v1) {
    const row = 16, line = TICK + 3, gap = 8;
    const most = Math.round(this.W * 0.42);
    const labels = groups.map((g) => wrap(g[0].label, most - 8));
    const left = Math.min(most, Math.ceil(Math.max(...labels.flat().map((l) => textWidth(l)))) + 10);
    const right = Math.ceil(Math.max(...groups.flat().map((b) => textWidth(fmt(b.value), TICK, 600)))) + 8 + M.right;
    const x = scale(v0, v1, left, this.W - right, this.logY);
    const heights = groups.map((g, i) => Math.max(g.length * row, labels[i].length * line) + gap);
    const bottom = M.top + heights.reduce((a, b) => a + b, 0);
    const root = this.frame(bottom + 44);
    const g = svg('g', { class: 'axes' });
    const ticks = this.xTicks(x);
    for (const t of ticks) {
      g.append(svg('line', { x1: x(t), x2: x(t), y1: M.top, y2: bottom, class: 'grid' }));
      this.xTick(g, x(t), bottom + 16, fmt(t));
    }
    g.append(svg('line', { x1: left, x2: left, y1: M.top, y2: bottom, class: 'axis' }));
    const yl = this.yLabel + (this.logY ? ' (log scale)' : '');
    if (yl) g.append(svg('text', { x: (left + this.W - right) / 2, y: bottom + 36, class: 'label', 'text-anchor': 'middle' }, yl));
    root.append(g);
    const base = this.logY ? left : x(0);
    let top = M.top;
    groups.forEach((group, gi) => {
      const h = heights[gi] - gap, mid = top + h / 2;
      labels[gi].forEach((l, li) => root.append(svg('text', { x: left - 6, y: mid + (li - (labels[gi].length - 1) / 2) * line + 4, class: 'tick', 'text-anchor': 'end' }, l)));
      group.forEach((b, k) => {
        const cy = mid + (k - (group.length - 1) / 2) * row, end = x(b.value);
        if (this.logY && !(b.value > 0)) {
          // No bar on a log scale for nothing or less (a growth that came
          // out negative): its figure at the axis, said as it is.
          root.append(svg('text', { x: left + 6, y: cy + 4, class: 'value' }, `${fmt(b.value)} (no bar on a log scale)`));
          return;
        }
        root.append(svg('rect', { x: Math.min(base, end), y: cy - row / 2 + 2, width: Math.max(1, Math.abs(end - base)), height: row - 4, class: this.colour(b) }));
        if (b.lo !== b.hi) {
          root.append(svg('line', { x1: x(b.lo), x2: x(b.hi), y1: cy, y2: cy, class: 'whisker' }));
          for (const v of [b.lo, b.hi]) root.append(svg('line', { x1: x(v), x2: x(v), y1: cy - 5, y2: cy + 5, class: 'whisker' }));
        }
        root.append(svg('text', { x: Math.max(end, x(b.hi)) + 6, y: cy + 4, class: 'value' }, fmt(b.value)));
      });
      top += heights[gi];
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
    const y = scale(0, Math.max(...used.map((b) => b[2])) * 1.1, H - M.bottom, M.top, false);
    const yTicks = this.yTicks(y), left = this.left(yTicks);
    const x = scale(x0, x1, left, this.W - M.right, this.logX);
    const root = this.frame();
    this.axes(root, x, y, { left, yTicks });
    for (const [name, bins] of this.hists) {
      const c = this.cls(name);
      for (const [lo, hi, n] of bins) {
        if (n <= 0 || hi < x0 || lo > x1) continue;
        root.append(svg('rect', { x: x(lo), y: y(n), width: Math.max(1, x(hi) - x(lo) - 1), height: H - M.bottom - y(n), class: `hbar ${c}` }));
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
    // The lanes' names fit on their left; a few lanes need little height,
    // many get at least a line each.
    const left = Math.min(Math.round(this.W * 0.4), Math.ceil(Math.max(...this.lanes.map((l) => textWidth(l)))) + 12);
    const x = scale(t0, t1 > t0 ? t1 : t0 + 1, left, this.W - M.right, false);
    const lh = Math.max(TICK + 5, Math.min(36, (H - M.top - M.bottom) / this.lanes.length));
    const bottom = M.top + lh * this.lanes.length;
    const root = this.frame(Math.ceil(bottom + 44));
    const g = svg('g', { class: 'axes' });
    for (const t of this.xTicks(x)) {
      g.append(svg('line', { x1: x(t), x2: x(t), y1: M.top, y2: bottom, class: 'grid' }));
      this.xTick(g, x(t), bottom + 16, fmt(t));
    }
    g.append(svg('text', { x: (left + this.W - M.right) / 2, y: bottom + 34, class: 'label', 'text-anchor': 'middle' }, this.xLabel || 'ms'));
    this.lanes.forEach((lane, li) => g.append(svg('text', { x: left - 6, y: M.top + lh * li + lh / 2 + 4, class: 'tick', 'text-anchor': 'end' }, lane)));
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
      // Only a label that fits inside its bar, and none live (hundreds of
      // labels were most of a drawing's cost).
      if (!this.live && w > textWidth(s.label, TICK, 600) + 8 && lh >= 18 && labels.length < MAX_LABELS) labels.push(svg('text', { x: px + w / 2, y: M.top + lh * li + lh / 2 + 4, class: 'span-label', 'text-anchor': 'middle' }, s.label));
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
  constructor(fig, load, opts) {
    this.calls = [];
    /** ready settles once the chart exists and has had every call. */
    this.ready = load().then((K) => {
      this.chart = new K(fig, opts);
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
export function makeChart(fig, opts) {
  const K = kinds[fig.dataset.kind];
  if (K) return new K(fig, opts);
  const load = lazy[fig.dataset.kind];
  return load ? new LazyChart(fig, load, opts) : null;
}

/** warm runs each kind of chart's drawing once, on made-up figures, in
 *  figures never put in the page: a browser compiles a function to fast
 *  code once it has run a good deal, which a first run's first drawing
 *  paid for while it measured (0.35 s for threading-models). */
function warm() {
  const wave = (i, k) => 1 + Math.abs(Math.sin(i * 0.37 + k)) * 100.5;
  const n = (k, f) => Array.from({ length: k }, (_, i) => f(i));
  const feeds = {
    [Kind.Line]: (c) => {
      for (let k = 0; k < 12; k++) c.handle({ type: Event.Points, series: `s${k}`, x: n(150, (i) => i * 1.5), y: n(150, (i) => wave(i, k)) });
      c.handle({ type: Event.Mark, x: 10.5, label: 'mark' });
    },
    [Kind.Bars]: (c) => { for (let i = 0; i < 12; i++) c.handle({ label: `bar ${i}`, series: '', value: wave(i, 0), lo: wave(i, 1), hi: wave(i, 2) }); },
    [Kind.Hist]: (c) => { for (let k = 0; k < 3; k++) c.handle({ series: `s${k}`, bins: n(30, (i) => [i, i + 1, Math.round(wave(i, k))]) }); },
    [Kind.Lanes]: (c) => { for (let i = 0; i < 400; i++) c.handle({ lane: `lane ${i % 8}`, label: `task ${i % 5}`, start: i * 2.5, end: i * 2.5 + 2 }); },
  };
  for (const [kind, feed] of Object.entries(feeds)) {
    const c = new kinds[kind](el('figure', { 'data-kind': kind }, el('div', { class: 'plot' }), el('table', {}, el('thead'), el('tbody'))), { held: () => true });
    for (const last of [false, true]) { feed(c); c.flush(last); }
  }
}

// While the page is idle after loading, the ruler measures ASCII (a
// forced layout of the whole page, costliest in a run's first drawing)
// and the drawing code is warmed.
if (typeof requestIdleCallback === 'function') requestIdleCallback(() => { textWidth('0'); warm(); }, { timeout: 3000 });

// The "sched" chart: a scheduler's lanes, as Go's execution trace saw
// them. One lane per P; each span is a goroutine holding that P, coloured
// by its role, and under it a strip shows which OS thread carried the P
// (it changes when the runtime hands the P to another thread). Marks show
// what the runtime did — a goroutine entering and leaving read(), a P
// handed over, a preemption, a goroutine parked and woken — and the
// learner steps through them with the keyboard: each is said in plain
// words in a live region, and the chart zooms to it. The table beside it
// lists spans and marks in time order.
import { fmt, el } from './format.js';
import { PALETTE, textWidth } from './charts.js';

/** roles keep one colour each, whatever order they arrive in. */
const ROLES = ['computing', 'spinner', 'blocking', 'waiting', 'lab', 'other'];
const ROLE_COLOUR = { computing: 0, spinner: 1, blocking: 2, waiting: 3, lab: 4, other: 6 };

/** kinds of mark, in the order the filter offers them, with their words. */
const KINDS = {
  syscall: 'entered read()',
  handoff: 'P handed to another thread',
  return: 'read() returned',
  preempted: 'preempted',
  park: 'parked',
  wake: 'woken',
};

/** ZOOM is the width of the window the chart shows around a mark, in ms. */
const ZOOM = 80;

/** clips numbers each chart's clip path: ids must be unique on a page
 *  that shows two runs side by side. */
let clips = 0;

/** laneOrder sorts lanes by their P's number ("P10" after "P9"). */
function laneOrder(a, b) {
  const n = (s) => parseInt(s.replace(/^.*P/, ''), 10);
  return a.replace(/P\d+$/, '').localeCompare(b.replace(/P\d+$/, '')) || n(a) - n(b);
}

/** schedKind makes the chart class from the shared chart pieces. */
export function schedKind({ Chart, svg, scale, M, H }) {
  return class SchedChart extends Chart {
    constructor(fig, opts) {
      super(fig, opts);
      this.clip = `sched-clip-${++clips}`;
      this.stepper = this.makeStepper();
      this.paintStep();
    }

    reset() {
      this.ended = false;
      this.spans = [];
      this.marks = [];
      this.lanes = [];
      this.series = new Map(ROLES.map((r) => [r, ROLE_COLOUR[r]]));
      this.sorted = null; // the marks in time order, made when needed
      this.current = -1; // index into shown(), -1: none chosen
      this.changed();
      if (this.stepper) this.paintStep();
    }

    handle(ev) {
      if (ev.type !== 'span' && ev.type !== 'mark') return;
      if (!this.lanes.includes(ev.lane)) this.lanes.push(ev.lane);
      if (ev.type === 'span') {
        if (!this.series.has(ev.label)) this.series.set(ev.label, this.series.size % PALETTE);
        this.spans.push(ev);
      } else {
        this.marks.push(ev);
        this.sorted = null;
      }
      this.changed();
    }

    /** shown are the marks the filter lets through, in time order. */
    shown() {
      if (!this.sorted) this.sorted = [...this.marks].sort((a, b) => a.x - b.x);
      const kind = this.filter?.value ?? '';
      return kind ? this.sorted.filter((m) => m.label === kind) : this.sorted;
    }

    makeStepper() {
      const prev = el('button', { type: 'button', class: 'sched-prev', text: '◀ Previous' });
      const next = el('button', { type: 'button', class: 'sched-next', text: 'Next ▶' });
      const whole = el('button', { type: 'button', class: 'sched-whole', text: 'Whole run' });
      this.filter = el('select', { class: 'sched-filter', 'aria-label': 'Which marks to step through' },
        el('option', { value: '', text: 'every mark' }),
        ...Object.entries(KINDS).map(([k, words]) => el('option', { value: k, text: words })));
      this.say = el('p', { class: 'sched-say', 'aria-live': 'polite', 'data-testid': 'sched-say' });
      const box = el('div', { class: 'sched-steps', role: 'group', 'aria-label': 'Step through what the runtime did', 'data-testid': 'sched-steps' },
        prev, next, whole, el('label', {}, 'Show ', this.filter), this.say);
      prev.addEventListener('click', () => this.step(-1));
      next.addEventListener('click', () => this.step(1));
      whole.addEventListener('click', () => { this.current = -1; this.paintStep(); this.changed(); });
      this.filter.addEventListener('change', () => { this.current = -1; this.step(1); });
      box.addEventListener('keydown', (e) => {
        const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -Infinity, End: Infinity };
        if (!(e.key in moves) || e.target === this.filter) return;
        e.preventDefault();
        this.step(moves[e.key]);
      });
      this.fig.querySelector('.chart-body').before(box);
      return box;
    }

    /** step moves to another mark: by one, or to the first or last. */
    step(by) {
      const marks = this.shown();
      if (marks.length === 0) { this.paintStep(); return; }
      if (by === -Infinity) this.current = 0;
      else if (by === Infinity) this.current = marks.length - 1;
      else if (this.current < 0) this.current = by > 0 ? 0 : marks.length - 1;
      else this.current = Math.max(0, Math.min(marks.length - 1, this.current + by));
      this.paintStep();
      this.changed();
    }

    paintStep() {
      const marks = this.shown();
      const m = marks[this.current];
      for (const b of this.stepper.querySelectorAll('button')) b.disabled = marks.length === 0;
      let text = `${this.current + 1} of ${marks.length}, at ${fmt(m?.x)} ms on ${m?.lane}: ${m?.text}`;
      if (!m) {
        text = marks.length === 0
          ? 'When the run draws its marks, step through them here: what the runtime did, one moment at a time.'
          : `${marks.length} moment${marks.length === 1 ? '' : 's'} to step through: press Next, or the arrow keys.`;
      }
      // Only a change is written: the region is read aloud on every write.
      if (this.say.textContent !== text) this.say.textContent = text;
    }

    /** view is the stretch of time drawn: around the chosen mark, or all. */
    view() {
      let t1 = 0;
      for (const s of this.spans) t1 = Math.max(t1, s.end);
      for (const m of this.marks) t1 = Math.max(t1, m.x);
      const m = this.shown()[this.current];
      if (!m) return [0, Math.max(t1, 1)];
      const from = Math.max(0, m.x - ZOOM / 2);
      return [from, from + ZOOM];
    }

    draw() {
      if (this.spans.length === 0 && this.marks.length === 0) return this.blank();
      this.lanes.sort(laneOrder);
      const [t0, t1] = this.view();
      const x = scale(t0, t1, M.left + 30, this.W - M.right, false);
      const lh = Math.max(22, Math.min(40, (H - M.top - M.bottom) / this.lanes.length));
      const bottom = M.top + lh * this.lanes.length;
      const root = this.frame();
      root.setAttribute('viewBox', `0 0 ${this.W} ${Math.ceil(bottom + 44)}`);
      // Spans and marks are clipped to the time axis: zoomed in, the
      // ones that reach past its ends must not cover the lane names.
      const clip = this.clip;
      const clipPath = svg('clipPath', { id: clip });
      clipPath.append(svg('rect', { x: M.left + 30, y: 0, width: this.W - M.right - M.left - 30, height: bottom }));
      const defs = svg('defs');
      defs.append(clipPath);
      root.append(defs);
      const g = svg('g', { class: 'axes' });
      for (const t of this.xTicks(x)) {
        g.append(svg('line', { x1: x(t), x2: x(t), y1: M.top, y2: bottom, class: 'grid' }));
        this.xTick(g, x(t), bottom + 16, fmt(t));
      }
      g.append(svg('text', { x: (M.left + this.W) / 2, y: bottom + 34, class: 'label', 'text-anchor': 'middle' }, this.xLabel || 'ms'));
      this.lanes.forEach((lane, li) => g.append(svg('text', { x: M.left + 24, y: M.top + lh * li + lh * 0.4, class: 'tick', 'text-anchor': 'end' }, lane)));
      root.append(g);
      const body = svg('g', { 'clip-path': `url(#${clip})` });
      root.append(body);
      this.drawSpans(body, x, lh, t0, t1);
      this.drawMarks(body, x, lh, t0, t1);
      this.legendOf();
    }

    drawSpans(body, x, lh, t0, t1) {
      const threads = new Map(); // lane -> [{m, from, to}]
      for (const s of this.spans) {
        if (s.end < t0 || s.start > t1) continue;
        const li = this.lanes.indexOf(s.lane);
        const px = x(s.start), w = Math.max(1, x(s.end) - px);
        const y = M.top + lh * li + 2;
        body.append(svg('rect', { x: px, y, width: w, height: lh * 0.55, class: `span s${this.series.get(s.label)}` }));
        const text = `G${s.g}`;
        if (w > textWidth(text, 11, 600) + 6) body.append(svg('text', { x: px + w / 2, y: y + lh * 0.38, class: 'span-label', 'text-anchor': 'middle' }, text));
        const strip = threads.get(s.lane) ?? [];
        const last = strip[strip.length - 1];
        if (last && last.m === s.m) last.to = Math.max(last.to, s.end);
        else strip.push({ m: s.m, from: s.start, to: s.end });
        threads.set(s.lane, strip);
      }
      for (const [lane, strip] of threads) {
        const li = this.lanes.indexOf(lane);
        const y = M.top + lh * li + lh * 0.6;
        strip.forEach((seg, k) => {
          const px = x(Math.max(seg.from, t0)), w = Math.max(1, x(Math.min(seg.to, t1)) - px);
          body.append(svg('rect', { x: px, y, width: w, height: lh * 0.3, class: `thread t${k % 2}` }));
          const text = `M${seg.m}`;
          if (w > textWidth(text) + 6 && lh * 0.3 >= 11) body.append(svg('text', { x: px + 3, y: y + lh * 0.24, class: 'thread-label' }, text));
        });
      }
    }

    drawMarks(body, x, lh, t0, t1) {
      const chosen = this.shown()[this.current];
      for (const m of this.marks) {
        if (m.x < t0 || m.x > t1) continue;
        const li = this.lanes.indexOf(m.lane);
        const px = x(m.x), y = M.top + lh * li + 1;
        body.append(svg('path', { d: `M${px - 4},${y} L${px + 4},${y} L${px},${y + 7} Z`, class: `mk mk-${m.label}` }));
        if (m === chosen) {
          body.append(svg('line', { x1: px, x2: px, y1: M.top, y2: M.top + lh * this.lanes.length, class: 'mk-now' }));
          body.append(svg('circle', { cx: px, cy: y + 3, r: 7, class: 'mk-ring' }));
        }
      }
    }

    legendOf() {
      const ul = el('ul', { class: 'legend' });
      for (const [name, i] of this.series) {
        if (this.spans.some((s) => s.label === name)) ul.append(el('li', { class: `s${i}` }, el('span', { class: 'swatch' }), name));
      }
      for (const [k, words] of Object.entries(KINDS)) {
        if (this.marks.some((m) => m.label === k)) ul.append(el('li', { class: `mk-${k}` }, el('span', { class: 'swatch mk-swatch' }), words));
      }
      ul.append(el('li', {}, el('span', { class: 'swatch thread-swatch' }), 'thread (M) carrying the P'));
      this.plot.append(ul);
    }

    fill() {
      const rows = [];
      for (const s of this.spans) {
        rows.push([s.start, s.lane, `G${s.g} (${s.label})`, String(s.m), `ran ${fmt(s.end - s.start)} ms, until ${s.why}`]);
      }
      for (const m of this.marks) rows.push([m.x, m.lane, m.g > 0 ? `G${m.g}` : '–', String(m.m), m.text]);
      rows.sort((a, b) => a[0] - b[0]);
      this.table(['Time (ms)', 'P', 'Goroutine', 'Thread', 'What happened'], rows);
      if (this.stepper) this.paintStep();
    }
  };
}

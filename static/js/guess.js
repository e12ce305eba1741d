// A learner's guesses before a run: a number (a field with a slider on
// the prediction's scale beside it) or a choice. A guess goes to the
// server as it is made, is locked when the run starts, and stands beside
// the measurement once it is scored. In class, the instructor can reveal
// everyone's guesses: a histogram with the measurement marked, and its
// table for screen readers.
import { fmt, el } from './format.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Scale maps a slider position (0–1000) to a value and back. */
function scale(min, max, log) {
  return log
    ? { value: (p) => min * (max / min) ** (p / 1000), pos: (v) => 1000 * Math.log(v / min) / Math.log(max / min) }
    : { value: (p) => min + (max - min) * p / 1000, pos: (v) => 1000 * (v - min) / (max - min) };
}

/** round3 keeps three significant digits, as a person would type. */
const round3 = (v) => +v.toPrecision(3);

export class Guess {
  constructor(fs, panel) {
    this.fs = fs;
    this.panel = panel;
    this.claim = +fs.dataset.claim;
    this.kind = fs.dataset.kind;
    this.unit = fs.dataset.unit || '';
    this.state = fs.querySelector('.guess-state');
    this.result = fs.querySelector('.guess-result');
    this.classBox = fs.querySelector('.guess-class');
    this.inputs = fs.querySelector('.guess-inputs');
    this.value = null;
    this.locked = false;
    this.timer = 0;
    if (this.kind === 'number') {
      const min = +fs.dataset.min, max = +fs.dataset.max;
      this.scale = scale(min, max, fs.hasAttribute('data-log'));
      this.number = fs.querySelector('.guess-number');
      this.slider = fs.querySelector('.guess-slider');
      this.slider.addEventListener('input', () => {
        this.number.value = round3(this.scale.value(+this.slider.value));
        this.changed();
      });
      this.number.addEventListener('input', () => {
        const v = this.number.valueAsNumber;
        if (v >= min && v <= max) this.slider.value = Math.round(this.scale.pos(v));
        this.changed();
      });
    } else {
      for (const r of fs.querySelectorAll('input[type="radio"]')) r.addEventListener('change', () => this.changed());
    }
    fs.querySelector('.guess-skip').addEventListener('click', () => this.skip());
  }

  current() {
    if (this.kind === 'number') {
      const v = this.number.valueAsNumber;
      return Number.isNaN(v) ? null : v;
    }
    return this.fs.querySelector('input[type="radio"]:checked')?.value ?? null;
  }

  /** changed sends the guess a moment after the learner stops moving it. */
  changed() {
    if (this.locked) return;
    clearTimeout(this.timer);
    const v = this.current();
    if (v === null) return;
    this.timer = setTimeout(() => {
      this.panel.conn.send({ op: 'predict', experiment: this.panel.id, claim: this.claim, value: v });
    }, 250);
  }

  skip() {
    clearTimeout(this.timer);
    this.inputs.hidden = true;
    this.state.replaceChildren('Skipped. ', el('button', { type: 'button', class: 'guess-again', text: 'Make a guess' }));
    this.state.querySelector('button').addEventListener('click', () => this.reopen());
  }

  reopen() {
    this.inputs.hidden = false;
    this.locked = false;
    this.setDisabled(false);
    this.result.hidden = true;
    this.state.textContent = this.value === null ? '' : `Your guess: ${this.show(this.value)}.`;
  }

  setDisabled(off) {
    for (const i of this.inputs.querySelectorAll('input')) i.disabled = off;
  }

  show(v) { return typeof v === 'number' ? `${fmt(v)}${this.unit ? ' ' + this.unit : ''}` : String(v); }

  /** lock is called as a run of the learner's starts: no editing after seeing the number. */
  lock() {
    if (this.locked || this.inputs.hidden) return;
    clearTimeout(this.timer);
    this.locked = true;
    this.setDisabled(true);
    this.state.textContent = this.value === null
      ? 'No guess this time.'
      : `Locked in: ${this.show(this.value)}. It is scored when the run ends.`;
  }

  /** handle takes the server's answers about this guess. */
  handle(m) {
    switch (m.type) {
      case 'predicted':
        this.value = m.value;
        this.state.textContent = `Your guess: ${this.show(m.value)}.${m.class ? ' It counts with your class’s: your instructor is presenting this.' : ''}`;
        break;
      case 'scored':
        this.locked = true;
        this.setDisabled(true);
        this.result.hidden = false;
        this.result.replaceChildren(
          el('p', { class: 'guess-score', 'data-right': String(m.right) },
            el('strong', { text: m.score }), ` — you guessed ${this.show(m.value)}; this machine measured ${this.show(m.measured)}.`),
          el('p', { class: 'guess-lesson', text: m.lesson || '' }),
          el('button', { type: 'button', class: 'guess-again', text: 'Guess again for the next run' }));
        this.result.querySelector('button').addEventListener('click', () => this.reopen());
        this.state.textContent = '';
        break;
      case 'error':
        this.state.textContent = m.message;
        break;
    }
  }

  /** reveal shows the class's guesses for this claim. */
  reveal(g) {
    this.classBox.hidden = false;
    this.classBox.replaceChildren(el('h5', { text: `Your class guessed (${g.count} guesses)` }), ...guessesFigure(g, this.unit));
  }
}

/** guessesFigure draws a round of guesses: bars, the measurement marked,
 *  the viewer's own guess highlighted, and the same as a table. */
export function guessesFigure(g, unit = g.unit || '') {
  const show = (v) => (typeof v === 'number' ? `${fmt(v)}${unit ? ' ' + unit : ''}` : String(v));
  let rows; // [label, count, isYours, isMeasured]
  if (g.kind === 'choice') {
    rows = Object.entries(g.counts || {}).map(([c, n]) => [c, n, g.yours === c, g.measured === c]);
  } else {
    rows = (g.bins || []).map(([lo, hi, n], i, all) => {
      const inBin = (v) => typeof v === 'number' && v >= lo && (v < hi || (i === all.length - 1 && v <= hi));
      return [`${fmt(lo)} – ${fmt(hi)}`, n, inBin(g.yours), inBin(g.measured)];
    });
  }
  const W = 480, H = 150, top = 12, bottom = 34, left = 8;
  const maxN = Math.max(1, ...rows.map((r) => r[1]));
  const bw = (W - 2 * left) / Math.max(1, rows.length);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'guess-svg', 'aria-hidden': 'true' });
  rows.forEach(([label, n, yours, measured], i) => {
    const h = (H - top - bottom) * n / maxN;
    const x = left + i * bw;
    root.append(svg('rect', { x: x + 2, y: H - bottom - h, width: Math.max(1, bw - 4), height: h, class: `guess-bar${yours ? ' yours' : ''}` }));
    if (n > 0) root.append(svg('text', { x: x + bw / 2, y: H - bottom - h - 3, class: 'value', 'text-anchor': 'middle' }, String(n)));
    if (measured) root.append(svg('line', { x1: x + bw / 2, x2: x + bw / 2, y1: top, y2: H - bottom, class: 'guess-measured' }));
    if (g.kind === 'choice' || i % 2 === 0) root.append(svg('text', { x: x + bw / 2, y: H - bottom + 14, class: 'tick', 'text-anchor': 'middle' }, g.kind === 'choice' ? label : fmt((g.bins[i] || [0])[0])));
  });
  const table = el('table', {},
    el('caption', { class: 'sr-only', text: 'The class’s guesses' }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: g.kind === 'choice' ? 'Answer' : `Guess${unit ? ' (' + unit + ')' : ''}` }),
      el('th', { scope: 'col', text: 'Guesses' }), el('th', { scope: 'col', text: 'Note' }))),
    el('tbody', {}, ...rows.map(([label, n, yours, measured]) => el('tr', { 'data-yours': yours ? 'true' : null },
      el('td', { text: label }), el('td', { text: String(n) }),
      el('td', { text: [yours ? 'your guess' : '', measured ? 'measured here' : ''].filter(Boolean).join(', ') }))))); 
  const notes = [];
  if (g.measured !== undefined && g.measured !== null) notes.push(`Measured here: ${show(g.measured)}.`);
  if (g.yours !== undefined && g.yours !== null) notes.push(`Your guess: ${show(g.yours)}.`);
  return [el('div', { class: 'guess-plot' }, root), el('p', { class: 'guess-notes', text: notes.join(' ') }),
    el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'The class’s guesses as a table' }, table)];
}

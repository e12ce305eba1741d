// The class's guesses for a claim, as the instructor's dashboard and, once
// revealed, every follower's page show them: a histogram with the
// measurement marked and the viewer's own guess highlighted, and the same
// as a table for screen readers.
import { fmt, el } from './format.js';

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
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

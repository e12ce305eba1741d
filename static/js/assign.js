// The dashboard's Assign block: pick one of a lesson's exercises, one of
// its self-check questions or its whole self-check, and assign it
// ({"op":"assign",...}); every following page goes to it. The class view
// carries the tally of the class's answers, drawn here as it changes
// (the same markup web/ui/assign.templ renders at first).
import { el, fmt } from './format.js';

const $ = (sel) => document.querySelector(sel);

const KINDS = { exercise: 'Exercise', question: 'Question', 'self-check': 'Self-check' };
const SVG = 'http://www.w3.org/2000/svg';

export class AssignPanel {
  /** dash is the dashboard: it sends messages (dash.send). */
  constructor(dash) {
    this.dash = dash;
    this.form = $('form.assign');
    this.lesson = $('#assign-lesson');
    this.what = $('#assign-what');
    this.status = $('[data-testid="assign-status"]');
    this.box = $('[data-testid="assignment"]');
    this.last = '';
    if (!this.form) return;
    this.lesson.addEventListener('change', () => this.options());
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.assign(); });
    this.options();
  }

  /** options shows only what the chosen lesson has to assign. */
  options() {
    const lesson = this.lesson.value;
    for (const o of this.what.options) o.hidden = o.dataset.lesson !== lesson;
    const chosen = this.what.options[this.what.selectedIndex];
    if (!chosen || chosen.hidden) this.what.selectedIndex = [...this.what.options].findIndex((o) => !o.hidden);
  }

  assign() {
    const [kind, id] = this.what.value.split(':');
    const msg = { op: 'assign', lesson: this.lesson.value };
    if (kind === 'self-check') msg.self_check = true;
    else msg[kind] = id;
    this.status.textContent = 'Assigning…';
    this.dash.send(msg, this.status);
  }

  /** assigned takes the server's confirmation. */
  assigned(m) {
    this.status.textContent = `Assigned: ${KINDS[m.kind]?.toLowerCase() ?? 'question'} “${m.title}”. Every follower is there now.`;
  }

  /** refused takes the server's error for an assign request. */
  refused(m) {
    this.status.textContent = m.message;
  }

  /** render draws the assignment of a class view, when it changed. */
  render(a) {
    const key = JSON.stringify(a ?? null);
    if (!this.box || key === this.last) return;
    this.last = key;
    if (!a) {
      this.box.replaceChildren(el('p', { class: 'empty', text: 'Nothing assigned yet.' }));
      return;
    }
    this.box.replaceChildren(
      el('h3', { text: `${KINDS[a.kind] ?? 'Question'}: ${a.title}` }),
      el('p', { class: 'assignment-learners', text: `${a.learners} learner${a.learners === 1 ? '' : 's'} on its lesson's page now.` }),
      ...a.questions.map((q) => tally(q, a.kind === 'self-check')));
  }
}

/** tally is one question's answers: a line, and a table of the spread. */
function tally(q, titled) {
  const div = el('div', { class: 'tally', 'data-question': q.question });
  if (titled) div.append(el('h4', { text: q.text }));
  div.append(el('p', { class: 'tally-line', 'data-answered': String(q.answered), text: tallyLine(q) }));
  const rows = tallyRows(q);
  if (rows.length === 0) return div;
  const unit = q.unit ? ` (${q.unit})` : '';
  div.append(el('table', { class: 'dash-table tally-table' },
    el('caption', { class: 'sr-only', text: `The class's answers to: ${q.text}` }),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col', text: `Answer${unit}` }), el('th', { scope: 'col', text: 'Learners' }),
      el('th', { scope: 'col' }, el('span', { class: 'sr-only', text: 'Share' })))),
    el('tbody', {}, ...rows.map((r) => el('tr', { 'data-right': r.right },
      el('th', { scope: 'row' }, r.label, ...(r.right ? [' ', el('span', { class: 'tally-right', text: '(right)' })] : [])),
      el('td', { text: String(r.n) }),
      el('td', { class: 'tally-bar-cell' }, bar(r.width)))))));
  return div;
}

/** tallyLine says how the class answered, as web/ui's tallyLine does. */
function tallyLine(q) {
  let s = `${q.answered} answered`;
  if (q.done !== undefined) s += `; ${q.done} done (their runs are in), ${q.right} of them right`;
  else s += `, ${q.right} right`;
  if (q.min !== undefined) s += `. Lowest ${fmt(q.min)}, median ${fmt(q.median)}, highest ${fmt(q.max)}${q.unit ? ' ' + q.unit : ''}`;
  if (q.key && !q.choices) s += `. The right answer: ${q.key}`; // a choice's is marked in its table
  return s + '.';
}

/** tallyRows: one row per choice, or per bin of the numbers answered. */
function tallyRows(q) {
  const rows = (q.choices || []).map((c, i) => ({ label: c, n: q.counts[i], right: q.key === c }));
  for (const [lo, hi, n] of q.bins || []) {
    rows.push({ label: lo === hi ? fmt(lo) : `${fmt(lo)} – ${fmt(hi)}`, n, right: false });
  }
  const most = Math.max(1, ...rows.map((r) => r.n));
  for (const r of rows) r.width = Math.floor(100 * r.n / most);
  return rows;
}

function bar(width) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'tally-bar');
  svg.setAttribute('viewBox', '0 0 100 10');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  const rect = document.createElementNS(SVG, 'rect');
  rect.setAttribute('width', String(width));
  rect.setAttribute('height', '10');
  svg.append(rect);
  return svg;
}

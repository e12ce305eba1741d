// The instructor's run of one experiment on every measuring host at once,
// laid out host beside host in its panel: the headline figure and each
// claim's verdict per machine, then the spread across them. The server
// sends an "everywhere" message naming each host's run, then every run's
// events; the instructor's page and every following page get them.
import { fmt, el } from './format.js';
import { Event, Status } from './names.js';

export class Everywhere {
  constructor(panel, conn) {
    this.panel = panel;
    this.conn = conn;
    this.root = panel.root.querySelector('section.everywhere');
    this.rows = new Map(); // run → its row's state
    const btn = panel.root.querySelector('button.run-everywhere');
    if (btn) {
      this.btn = btn;
      btn.addEventListener('click', () => this.ask());
    }
  }

  /** ready enables the instructor's button once the socket is open. */
  ready(open) { if (this.btn) this.btn.disabled = !open; }

  ask() {
    let params;
    try { params = this.panel.params(); } catch (e) { this.panel.showError(e.message); return; }
    this.conn.send({ op: 'run', experiment: this.panel.id, params, everywhere: true });
    this.note('Asked every measuring host to run it…');
  }

  note(text) { this.root.querySelector('.everywhere-note').textContent = text; }

  /** start lays out a new group: one row per host. */
  start(m) {
    if (!this.root) return;
    for (const run of this.rows.keys()) this.conn.forget(run, this);
    this.rows.clear();
    const body = this.root.querySelector('tbody');
    body.replaceChildren();
    this.root.querySelector('tfoot').replaceChildren();
    const claims = this.root.querySelectorAll('thead th').length - 4;
    for (const r of m.runs) {
      const cells = {
        cpus: el('td', { text: '–' }), state: el('td', { text: 'queued' }), figure: el('td', { text: '–' }),
        claims: Array.from({ length: claims }, () => el('td', { text: '–' })),
      };
      body.append(el('tr', { 'data-run': r.run }, el('th', { scope: 'row', text: r.host }), cells.cpus, cells.state, cells.figure, ...cells.claims));
      this.rows.set(r.run, { host: r.host, cells, seq: 0, metric: null, verdicts: [], done: false });
      this.conn.bind(r.run, this);
    }
    this.root.hidden = false;
    this.note(`${m.runs.length} host${m.runs.length === 1 ? '' : 's'} measure this run, each on its own.`);
  }

  /** handle takes an event of one of the group's runs. */
  handle(m) {
    const row = this.rows.get(m.run);
    if (!row || (m.seq && m.seq <= row.seq)) return; // a replay of what is drawn
    if (m.seq) row.seq = m.seq;
    switch (m.type) {
      case Event.Started:
        row.cells.state.textContent = 'measuring';
        row.cells.cpus.textContent = String(m.host?.usable_cpus ?? '–');
        break;
      case Event.Result: {
        row.metric = m.metrics?.[0] ?? null;
        if (row.metric) {
          row.cells.figure.textContent = `${fmt(row.metric.value)} ${row.metric.unit}`;
          this.root.querySelector('th.ew-figure').textContent = row.metric.name;
        }
        row.verdicts = (m.claims ?? []).map((c) => c.verdict);
        row.verdicts.forEach((v, i) => {
          const td = row.cells.claims[i];
          if (td) { td.textContent = v; td.dataset.verdict = v; }
        });
        break;
      }
      case Event.Done:
        row.done = true;
        row.cells.state.textContent = m.status === Status.OK ? 'finished' : m.status;
        this.spread();
        break;
    }
  }

  /** spread sums the hosts up once every run has ended. */
  spread() {
    const rows = [...this.rows.values()];
    if (!rows.every((r) => r.done)) return;
    const values = rows.filter((r) => r.metric).map((r) => r.metric.value);
    const foot = this.root.querySelector('tfoot');
    const cells = [el('th', { scope: 'row', text: 'Spread' }), el('td'), el('td')];
    if (values.length > 0) {
      const lo = Math.min(...values), hi = Math.max(...values);
      cells.push(el('td', { text: values.length > 1 && lo > 0 ? `${fmt(lo)} – ${fmt(hi)} (${fmt(hi / lo)}×)` : fmt(lo) }));
    } else cells.push(el('td', { text: '–' }));
    const n = this.root.querySelectorAll('thead th').length - 4;
    for (let i = 0; i < n; i++) {
      const counts = new Map();
      for (const r of rows) if (r.verdicts[i]) counts.set(r.verdicts[i], (counts.get(r.verdicts[i]) ?? 0) + 1);
      const text = counts.size === 1 ? `${[...counts.keys()][0]} on every host` : [...counts].map(([v, c]) => `${v} on ${c}`).join(', ') || '–';
      cells.push(el('td', { text }));
    }
    foot.replaceChildren(el('tr', {}, ...cells));
    this.note('Every host has finished. The spread row says how far apart the machines came out.');
  }
}

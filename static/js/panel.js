// One experiment panel: its form, its live status, charts, tables and
// verdicts, all driven by the events of the run it shows.
import { fmt, el, byKey } from './format.js';
import { makeChart } from './charts.js';

const ACTIVE = new Set(['submitting', 'queued', 'running']);

export class Panel {
  constructor(root, conn) {
    this.root = root;
    this.conn = conn;
    this.id = root.dataset.experiment;
    this.form = root.querySelector('form.params');
    this.runBtn = root.querySelector('button.run');
    this.cancelBtn = root.querySelector('button.cancel');
    this.status = root.querySelector('.status');
    this.formError = root.querySelector('.form-error');
    this.live = root.querySelector('.live');
    this.progress = root.querySelector('progress');
    this.progressLabel = root.querySelector('.progress-label');
    this.gauges = root.querySelector('.gauges');
    this.results = root.querySelector('.results');
    this.metrics = root.querySelector('table.metrics tbody');
    this.log = root.querySelector('ol.log');
    this.charts = new Map();
    for (const fig of root.querySelectorAll('figure.chart')) {
      const c = makeChart(fig);
      if (c) this.charts.set(fig.dataset.chart, c);
    }
    this.tables = new Map();
    for (const t of root.querySelectorAll('.live-table')) this.tables.set(t.dataset.table, t);
    this.state = 'idle';
    this.run = null;
    this.seq = 0;
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.start(); });
    this.cancelBtn.addEventListener('click', () => this.cancel());
    this.setState('idle', 'Ready. Press Run to measure this machine.');
  }

  setState(state, text) {
    this.state = state;
    this.status.dataset.state = state;
    this.status.textContent = text;
    const active = ACTIVE.has(state);
    this.runBtn.disabled = active || !this.conn.open;
    this.cancelBtn.disabled = !active || state === 'submitting';
    this.root.toggleAttribute('data-busy', active);
  }

  active() { return ACTIVE.has(this.state); }

  /** connection reports the websocket going up or down. */
  connection(open) {
    if (open && this.run && this.active()) {
      this.conn.send({ op: 'watch', run: this.run });
      this.setState(this.state, 'Reconnected; catching up with the run…');
    } else if (!open && this.active()) {
      this.status.textContent = 'Connection lost; reconnecting…';
    } else if (open && this.state === 'idle') {
      this.setState('idle', 'Ready. Press Run to measure this machine.');
    } else if (!open && this.state === 'idle') {
      this.setState('idle', 'Connecting to the server…');
    }
    this.runBtn.disabled = this.active() || !open;
  }

  params() {
    const out = {};
    for (const input of this.form.querySelectorAll('input, select')) {
      if (input.type === 'checkbox') out[input.name] = input.checked;
      else if (input.type === 'number') {
        const v = input.valueAsNumber;
        const label = this.form.querySelector(`label[for="${input.id}"]`)?.textContent.trim() ?? input.name;
        if (Number.isNaN(v) || v < +input.min || v > +input.max || (input.step === '1' && !Number.isInteger(v))) {
          input.setAttribute('aria-invalid', 'true');
          input.focus();
          throw new Error(`${label} must be ${input.step === '1' ? 'a whole number' : 'a number'} from ${input.min} to ${input.max}.`);
        }
        input.removeAttribute('aria-invalid');
        out[input.name] = v;
      } else out[input.name] = input.value;
    }
    return out;
  }

  start() {
    this.formError.hidden = true;
    let params;
    try { params = this.params(); } catch (e) { this.showError(e.message); return; }
    this.reset(null);
    this.root.dataset.origin = 'self';
    this.setState('submitting', 'Sending the request…');
    this.conn.send({ op: 'run', experiment: this.id, params });
  }

  cancel() {
    if (this.run) this.conn.send({ op: 'cancel', run: this.run });
    this.cancelBtn.disabled = true;
    this.status.textContent = 'Cancelling…';
  }

  /** watchLive follows a run someone else started, if this panel is free. */
  watchLive(msg) {
    if (this.active() || msg.run === this.run) return;
    this.reset(msg.run);
    this.root.dataset.origin = 'other';
    this.setState('queued', 'Watching a run someone else started…');
    this.conn.send({ op: 'watch', run: msg.run });
  }

  reset(run) {
    if (this.run) this.conn.forget(this.run, this);
    this.run = run;
    this.seq = 0;
    if (run) this.conn.bind(run, this);
    for (const c of this.charts.values()) c.reset();
    for (const t of this.tables.values()) t.querySelector('tbody').replaceChildren();
    this.gauges.replaceChildren();
    this.metrics.replaceChildren();
    this.results.hidden = true;
    this.log.replaceChildren();
    this.progress.value = 0;
    this.progressLabel.textContent = '';
    this.live.hidden = false;
    for (const li of this.root.querySelectorAll('.claim')) {
      const v = li.querySelector('.verdict');
      v.dataset.verdict = 'pending';
      v.textContent = 'measuring…';
      li.querySelector('.claim-measured').hidden = true;
      li.querySelector('.claim-why').hidden = true;
    }
  }

  showError(text) {
    this.formError.textContent = text;
    this.formError.hidden = false;
  }

  /** handle takes one message of this panel's run. */
  handle(m) {
    if (m.seq) {
      if (m.seq <= this.seq) return; // already seen (replayed after a reconnect)
      this.seq = m.seq;
    }
    switch (m.type) {
      case 'accepted':
        this.reset(m.run);
        this.setState('queued', m.joined
          ? `Joined an identical run already under way (${m.viewers} watching).`
          : 'Accepted; waiting for its turn…');
        this.logLine(m.joined ? 'Someone asked for the same run a moment ago, so you are watching theirs.' : 'Run accepted.');
        break;
      case 'queued':
        this.setState('queued', m.position === 1 ? 'Queued: next in line.' : `Queued: position ${m.position}.`);
        break;
      case 'started':
        this.setState('running', this.runningText());
        this.logLine(`Started in process ${m.pid}; GOMAXPROCS ${m.child?.gomaxprocs}${m.child?.cpus?.length ? `, pinned to CPUs ${m.child.cpus.join(', ')}` : ''}.`);
        break;
      case 'progress':
        this.progress.max = Math.max(1, m.total);
        this.progress.value = m.done;
        this.progressLabel.textContent = `${m.phase} (${m.done}/${m.total})`;
        if (this.state !== 'running') this.setState('running', this.runningText());
        break;
      case 'log':
        this.logLine(m.message);
        break;
      case 'gauge': this.gauge(m); break;
      case 'row': this.row(m); break;
      case 'point': case 'points': case 'bar': case 'hist': case 'span': case 'mark':
        this.charts.get(m.chart)?.handle(m);
        break;
      case 'result': this.result(m); break;
      case 'done': this.done(m); break;
      case 'left':
        this.setState('cancelled', m.message);
        break;
      case 'error':
        this.showError(m.message);
        if (this.state === 'submitting' || (m.op === 'watch' && m.run === this.run)) this.setState('failed', 'Not started.');
        break;
    }
  }

  runningText() {
    return this.root.dataset.origin === 'other' ? 'Running: a run someone else started, shown live here.' : 'Running on the server…';
  }

  logLine(text) {
    this.log.append(el('li', { text }));
  }

  gauge(m) {
    let dd = this.gauges.querySelector(`dd[data-name="${CSS.escape(m.name)}"]`);
    if (!dd) {
      this.gauges.append(el('dt', { text: m.name }));
      dd = el('dd', { 'data-name': m.name });
      this.gauges.append(dd);
    }
    dd.textContent = `${fmt(m.value)}${m.unit ? ' ' + m.unit : ''}`;
  }

  row(m) {
    const t = this.tables.get(m.table);
    if (!t) return;
    const keys = [...t.querySelectorAll('th')].map((th) => th.dataset.key);
    let tr = t.querySelector(`tr[data-key="${CSS.escape(m.key)}"]`);
    if (!tr) {
      tr = el('tr', { 'data-key': m.key });
      t.querySelector('tbody').append(tr);
    }
    tr.replaceChildren(...keys.map((k) => el('td', { text: m.cells[k] === undefined ? '' : fmt(m.cells[k]) })));
    if (m.cells.state) tr.dataset.state = m.cells.state;
  }

  result(m) {
    this.results.hidden = false;
    this.metrics.replaceChildren(...m.metrics.map((x) => {
      const spread = x.min !== undefined ? `${fmt(x.min)} · ${fmt(x.p99)} · ${fmt(x.max)}` : '–';
      const name = el('th', { scope: 'row', text: x.name });
      if (x.note) name.append(el('small', { text: x.note }));
      return el('tr', {}, name, el('td', { text: `${fmt(x.value)} ${x.unit}` }), el('td', { text: spread }), el('td', { text: x.n ? String(x.n) : '–' }));
    }));
    // Other parts of the page (a lesson's summary table) may show figures
    // from this result: elements with data-fill="<experiment>" and
    // data-key="<metric key>" get its value.
    for (const cell of document.querySelectorAll(`[data-fill="${CSS.escape(this.id)}"]`)) {
      const x = byKey(m.metrics, cell.dataset.key);
      if (x) { cell.textContent = `${fmt(x.value)} ${x.unit}`; cell.dataset.filled = 'true'; }
      else { cell.textContent = 'not measured here'; cell.dataset.filled = 'missing'; } // a figure this host cannot give
    }
    document.dispatchEvent(new CustomEvent('lab:result', { detail: { experiment: this.id, run: this.run, metrics: m.metrics, claims: m.claims } }));
    const items = [...this.root.querySelectorAll('.claim')];
    for (const c of m.claims) {
      let li = items.find((x) => x.dataset.claim === c.claim);
      if (!li) continue;
      const v = li.querySelector('.verdict');
      v.dataset.verdict = c.verdict;
      v.textContent = c.verdict;
      const measured = li.querySelector('.claim-measured');
      measured.textContent = `Measured here: ${c.measured}`;
      measured.hidden = false;
      const why = li.querySelector('.claim-why');
      why.textContent = c.why || '';
      why.hidden = !c.why;
    }
  }

  done(m) {
    for (const c of this.charts.values()) c.flush();
    const labels = { ok: 'Finished.', failed: 'Failed: ', cancelled: 'Cancelled.', timeout: 'Stopped at its time limit.' };
    const state = m.status === 'ok' ? 'finished' : m.status;
    let text = labels[m.status] ?? m.status;
    if (m.status === 'failed') text += m.error;
    else if (m.error && m.status !== 'ok') this.logLine(m.error);
    if (m.status === 'ok') this.progress.value = this.progress.max;
    this.setState(state, text);
    for (const li of this.root.querySelectorAll('.claim .verdict[data-verdict="pending"]')) li.textContent = 'no verdict';
  }
}

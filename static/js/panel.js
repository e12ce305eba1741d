// One experiment panel: its form, its live status, charts, tables and
// verdicts, all drawn from the events of the run it shows. A panel holds
// up to two runs — the learner's own, and the one the instructor is
// presenting — and shows one at a time; the learner switches between
// them, and neither ever replaces the other.
import { fmt, el, byKey } from './format.js';
import { makeChart } from './charts.js';
import { Guess } from './guess.js';
import { Event, Status } from './names.js';
import { Everywhere } from './everywhere.js';

const ACTIVE = new Set(['submitting', 'queued', 'running']);
// While a run goes, the page draws what it was sent at most once every
// DRAW_GAP ms, and less often when a drawing costs more: the main thread's
// part of a drawing (measured, from the start of the drain to the end of
// the frame it is laid out and painted in) may take at most DRAW_SHARE of
// the time, and about as much again goes to rastering and compositing it
// on other threads; but the page draws at least once every MAX_GAP ms. A
// browser on the serving machine competes with the run for its CPUs; the
// run's end is drawn whole at once.
const DRAW_GAP = 1000, DRAW_SHARE = 0.01, MAX_GAP = 2000;

/** A source is one of the runs a panel holds, with everything it was sent. */
class Source {
  constructor(kind) {
    this.kind = kind; // 'own' or 'presenter'
    this.reset(null);
  }

  reset(run) {
    this.run = run;
    this.events = []; // what to replay when the panel switches to it
    this.seq = 0;
    this.state = 'idle';
    this.text = '';
    this.offer = null; // the offer message, when this run was offered
    this.restored = false; // a run of the learner's from before the page was loaded
  }

  active() { return ACTIVE.has(this.state); }

  /** take keeps a message, unless it was seen already; false means skip. */
  take(m) {
    if (m.seq) {
      if (m.seq <= this.seq) return false; // replayed after a reconnect
      this.seq = m.seq;
    }
    this.events.push(m);
    return true;
  }
}

export class Panel {
  constructor(root, conn) {
    this.root = root;
    this.conn = conn;
    this.id = root.dataset.experiment;
    this.form = root.querySelector('form.params');
    this.runBtn = root.querySelector('button.run');
    this.cancelBtn = root.querySelector('button.cancel');
    this.everywhere = new Everywhere(this, conn);
    this.status = root.querySelector('.status');
    this.formError = root.querySelector('.form-error');
    this.offerBox = root.querySelector('.offer');
    this.views = root.querySelector('.views');
    this.live = root.querySelector('.live');
    this.progress = root.querySelector('progress');
    this.progressLabel = root.querySelector('.progress-label');
    this.gauges = root.querySelector('.gauges');
    this.results = root.querySelector('.results');
    this.metrics = root.querySelector('table.metrics tbody');
    this.log = root.querySelector('ol.log');
    this.queue = []; // messages of the shown run waiting for the next drain
    this.charts = new Map();
    // A chart is drawn by the panel's drains while its run goes.
    const held = () => this.shown?.active() ?? false;
    for (const fig of root.querySelectorAll('figure.chart')) {
      const c = makeChart(fig, { held });
      if (c) this.charts.set(fig.dataset.chart, c);
    }
    // While a run goes, a chart out of sight is drawn only as it comes
    // near the screen, and whole at the end.
    this.unseen = new Set();
    if (typeof IntersectionObserver === 'function') {
      const seen = new IntersectionObserver((entries) => {
        for (const e of entries) {
          const id = e.target.dataset.chart;
          if (!e.isIntersecting) { this.unseen.add(id); continue; }
          if (this.unseen.delete(id) && held()) requestAnimationFrame(() => this.charts.get(id)?.flush(false));
        }
      }, { rootMargin: '200px 0px' });
      for (const fig of root.querySelectorAll('figure.chart')) seen.observe(fig);
    }
    this.tables = new Map();
    for (const t of root.querySelectorAll('.live-table')) this.tables.set(t.dataset.table, t);
    this.guesses = [...root.querySelectorAll('.guess-item')].map((fs) => new Guess(fs, this));
    const block = root.querySelector('.guess');
    if (block) {
      block.hidden = false;
      block.querySelector('button.guess-skip-all')?.addEventListener('click', () => this.skipGuesses(block));
    }
    // The learner's newest run of this experiment that finished here, shown
    // again once the page connects: a reload keeps the learner's place.
    this.last = root.dataset.last || null;
    this.own = new Source('own');
    this.presenter = new Source('presenter');
    this.shown = this.own;
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.start(false); });
    this.cancelBtn.addEventListener('click', () => this.cancel());
    this.offerBox.querySelector('button.fresh').addEventListener('click', () => this.start(true));
    for (const b of this.views.querySelectorAll('button.view')) {
      b.addEventListener('click', () => this.show(b.dataset.view === 'presenter' ? this.presenter : this.own));
    }
    this.setState(this.own, 'idle', 'Ready. Press Run to measure this machine.');
  }

  /** run is the id of the run this panel shows. */
  get run() { return this.shown.run; }

  /** state is the state of the run this panel shows. */
  get state() { return this.shown.state; }

  active() { return this.own.active(); }

  sources() { return [this.own, this.presenter]; }

  /** isRestored reports whether run is the learner's run from before the
   *  page was loaded, shown again. */
  isRestored(run) { return this.own.restored && this.own.run === run; }

  /** skipGuesses skips every guess of the panel at once and takes the
   *  keyboard to the experiment; "Guess after all" brings them back. */
  skipGuesses(block) {
    const line = block.querySelector('.guess-all');
    const items = block.querySelectorAll('.guess-item');
    for (const g of this.guesses) g.skip();
    for (const fs of items) fs.hidden = true;
    const again = el('button', { type: 'button', class: 'guess-again', text: 'Guess after all' });
    const before = [...line.childNodes];
    line.replaceChildren('You skipped the guesses. ', again);
    again.addEventListener('click', () => {
      for (const fs of items) fs.hidden = false;
      for (const g of this.guesses) g.reopen();
      line.replaceChildren(...before);
      line.querySelector('button')?.focus();
    });
    (this.runBtn.disabled ? again : this.runBtn).focus();
  }

  /** setState records a source's state, and shows it if it is on screen
   *  (unless it is one of the run's own messages, drawn at the next drain). */
  setState(src, state, text) {
    src.state = state;
    src.text = text;
    if (src === this.shown && !this.deferring) this.paintStatus();
  }

  /** paintStatus shows the shown source's state, writing only what changed
   *  (it runs for every message; a write is a change, even of the same text). */
  paintStatus() {
    const src = this.shown;
    const set = (node, key, value) => { if (node[key] !== value) node[key] = value; };
    const data = (node, key, value) => { if (node.dataset[key] !== value) node.dataset[key] = value; };
    data(this.status, 'state', src.state);
    set(this.status, 'textContent', src.text);
    data(this.root, 'showing', src.kind);
    this.buttons(src);
    const words = chartWords(src);
    if (words !== this.said) {
      this.said = words;
      for (const c of this.charts.values()) c.placeholder?.(words); // (a chart still loading has none yet)
    }
    if (this.root.hasAttribute('data-busy') !== src.active()) this.root.toggleAttribute('data-busy', src.active());
    data(this.root, 'origin', src === this.presenter ? 'other' : 'self');
    const offer = src.offer;
    set(this.offerBox, 'hidden', !offer);
    if (offer) set(this.offerBox.querySelector('.offer-text'), 'textContent', offerText(offer));
  }

  /** buttons enables Run and Cancel for the run shown, and keeps the
   *  keyboard's focus on whichever of the two can be pressed: from Run to
   *  Cancel as a run starts, back to Run as it ends. */
  buttons(src) {
    const busy = this.own.active();
    const runOff = busy || !this.conn.open;
    const cancelOff = src !== this.own || !busy || this.cancelling;
    const at = document.activeElement;
    const had = at === this.runBtn || at === this.cancelBtn || (this.refocus && (at === document.body || at === null));
    // The one that comes on takes the focus before the other goes off, so
    // that it never falls between them (and shows a ring only if it did).
    if (!cancelOff) this.cancelBtn.disabled = false;
    if (!runOff) this.runBtn.disabled = false;
    const to = !runOff ? this.runBtn : !cancelOff ? this.cancelBtn : null;
    // A ring shows on it only if one showed where the focus was (keyboard, not mouse).
    if (had && to && document.activeElement !== to) to.focus({ focusVisible: at !== document.body && at?.matches(':focus-visible') });
    if (this.runBtn.disabled !== runOff) this.runBtn.disabled = runOff;
    if (this.cancelBtn.disabled !== cancelOff) this.cancelBtn.disabled = cancelOff;
    this.refocus = had && !to; // neither can be pressed now: the next that can gets it
  }

  /** restore shows the learner's last run again, from the server's store. */
  restore() {
    const run = this.last;
    this.last = null;
    this.bindSource(this.own, run);
    this.own.restored = true;
    this.setState(this.own, 'restoring', 'Showing your last run of this experiment…');
    this.conn.send({ op: 'watch', run });
  }

  /** connection reports the websocket going up or down. */
  connection(open) {
    this.everywhere.ready(open);
    // The learner's own run is watched again; the instructor's runs are
    // announced again by the server to a page that follows.
    const watching = this.own.active() || this.own.state === 'restoring';
    if (open && this.own.run && watching) this.conn.send({ op: 'watch', run: this.own.run });
    if (open && this.last && this.own.run === null && this.own.state === 'idle') this.restore();
    const src = this.own;
    if (open && src.active()) this.setState(src, src.state, 'Reconnected; catching up with the run…');
    else if (!open && src.active()) this.setState(src, src.state, 'Connection lost; reconnecting…');
    else if (open && src.state === 'idle') this.setState(src, 'idle', 'Ready. Press Run to measure this machine.');
    else if (!open && src.state === 'idle') this.setState(src, 'idle', 'Connecting to the server…');
    this.paintStatus();
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

  /** start asks for a run of the learner's own; fresh refuses an offer. */
  start(fresh) {
    this.formError.hidden = true;
    let params;
    try { params = this.params(); } catch (e) { this.showError(e.message); return; }
    this.bindSource(this.own, null);
    this.cancelling = false;
    this.show(this.own);
    this.setState(this.own, 'submitting', 'Sending the request…');
    const msg = { op: 'run', experiment: this.id, params };
    if (fresh) msg.fresh = true;
    // The request goes once the page has drawn its answer to the click
    // (the last run's results cleared away), so that this drawing is not
    // done while the run measures.
    afterPaint(() => this.conn.send(msg));
  }

  /** cancel withdraws the learner's run; one not yet accepted is
   *  withdrawn as soon as it is. */
  cancel() {
    if (this.own.run) this.conn.send({ op: 'cancel', run: this.own.run });
    this.cancelling = true;
    this.setState(this.own, this.own.state, 'Cancelling…');
  }

  /** presenterLive shows beside the learner's own results a run the
   *  instructor started: at once when the panel holds nothing of the
   *  learner's, otherwise behind the "Live from the instructor" switch. */
  presenterLive(msg) {
    if (msg.run === this.presenter.run) return;
    this.bindSource(this.presenter, msg.run);
    this.setState(this.presenter, 'queued', 'Live from the instructor: waiting for it to start…');
    this.views.hidden = false;
    if (this.own.state === 'idle' && this.own.run === null) this.show(this.presenter);
    else this.markNews();
  }

  /** guessMessage takes the server's answers about this panel's guesses. */
  guessMessage(m) {
    if (m.type === 'reveal') {
      for (const g of m.guesses) this.guesses.find((x) => x.claim === g.claim)?.reveal(g);
      return;
    }
    const g = m.claim === undefined ? this.guesses[0] : this.guesses.find((x) => x.claim === m.claim);
    g?.handle(m);
  }

  /** stopFollowing hides the instructor's run; the learner's own stays. */
  stopFollowing() {
    if (this.presenter.run) this.conn.forget(this.presenter.run, this);
    this.presenter.reset(null);
    this.views.hidden = true;
    if (this.shown === this.presenter) this.show(this.own);
  }

  markNews() {
    const b = this.views.querySelector('[data-view="presenter"]');
    if (this.shown !== this.presenter) b.dataset.news = 'true';
  }

  /** bindSource makes src hold run (null: nothing yet), forgetting what it held. */
  bindSource(src, run) {
    const other = src === this.own ? this.presenter : this.own;
    if (src.run && src.run !== other.run) this.conn.forget(src.run, this);
    src.reset(run);
    if (run) this.conn.bind(run, this);
    if (src === this.shown) this.clear();
  }

  /** show puts one source on screen, redrawn from everything it was sent. */
  show(src) {
    for (const b of this.views.querySelectorAll('button.view')) {
      const on = (b.dataset.view === 'presenter') === (src === this.presenter);
      b.setAttribute('aria-pressed', String(on));
      if (on) delete b.dataset.news;
    }
    if (src === this.shown && src.events.length === 0) { this.paintStatus(); return; }
    this.shown = src;
    this.clear();
    for (const m of src.events) this.draw(m, src);
    for (const c of this.charts.values()) c.flush();
    this.paintStatus();
  }

  /** clear empties what the panel draws (nothing to do when it is empty:
   *  a run asked for is cleared for at the click, and again when accepted). */
  clear() {
    clearTimeout(this.drainTimer);
    cancelAnimationFrame(this.drainFrame);
    this.drainTimer = null;
    this.queue = [];
    this.lastDrain = performance.now(); // a new run is first drawn a gap after it was asked for
    if (this.empty) return;
    this.empty = true;
    for (const c of this.charts.values()) { c.reset(); c.flush(false); }
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

  /** handle takes one message of one of this panel's runs. */
  handle(m) {
    if (m.type === 'accepted' || m.type === 'offer') {
      // The answer to the learner's own request: the run it will show.
      this.bindSource(this.own, m.run);
      this.own.offer = m.type === 'offer' ? m : null;
      if (this.cancelling) {
        if (m.type === 'accepted') this.conn.send({ op: 'cancel', run: m.run });
        this.cancelling = false;
      }
      this.own.take(m);
      // Drawn at the next drain, as the run's messages are: the run may
      // start measuring as soon as it is accepted.
      this.deferring = this.shown === this.own;
      this.state_(this.own, m);
      this.deferring = false;
      if (this.shown === this.own) this.enqueue(m, this.own);
      else this.paintStatus();
      return;
    }
    if (m.type === 'error' && m.op === 'predict') {
      this.guessMessage(m);
      return;
    }
    if (m.type === 'error' && m.op === 'watch' && this.isRestored(m.run)) {
      // The last run is no longer kept here: the panel starts afresh.
      this.bindSource(this.own, null);
      this.setState(this.own, 'idle', 'Ready. Press Run to measure this machine.');
      return;
    }
    if (m.type === 'error') {
      this.showError(m.message);
      if (this.own.state === 'submitting' || (m.op === 'watch' && m.run === this.own.run)) this.setState(this.own, 'failed', 'Not started.');
      return;
    }
    for (const src of this.sources()) {
      if (src.run !== m.run || !src.take(m)) continue;
      // The shown run's status changes with the rest of its drawing, at
      // the next drain: while it measures, nothing is drawn in between.
      this.deferring = src === this.shown;
      this.state_(src, m);
      this.deferring = false;
      if (src === this.shown) this.enqueue(m, src);
      else if (src === this.presenter) this.markNews();
    }
    if (!this.drainTimer && this.queue.length === 0) this.paintStatus();
  }

  /** state_ follows a source's life from its messages, shown or not. */
  state_(src, m) {
    const who = src === this.presenter ? 'Live from the instructor: ' : '';
    if (src.restored) {
      // Replayed from the store: it is over, whatever its events say.
      if (m.type === Event.Done) {
        const at = m.ts ? ` on ${new Date(m.ts).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}` : '';
        this.setState(src, m.status === Status.OK ? 'finished' : m.status, `Your last run of it here, measured${at}. Press Run to measure again.`);
      }
      return;
    }
    switch (m.type) {
      case 'accepted':
        this.setState(src, 'queued', m.joined
          ? `Joined an identical run already under way (${m.viewers} watching).`
          : 'Accepted; waiting for its turn…');
        break;
      case 'offer':
        this.setState(src, 'finished', 'Showing a run measured earlier (see below).');
        break;
      case 'queued':
        this.setState(src, 'queued', who + queuedText(m));
        break;
      case Event.Started: case Event.Progress:
        if (src.state !== 'running') this.setState(src, 'running', src === this.presenter ? 'Live from the instructor: running on the server…' : 'Running on the server…');
        break;
      case 'left':
        this.setState(src, 'cancelled', m.message);
        break;
      case Event.Done: {
        const labels = {
          [Status.OK]: 'Finished.', [Status.Failed]: 'Failed: ', [Status.Cancelled]: 'Cancelled.',
          [Status.Timeout]: 'Stopped at its time limit.', [Status.Interrupted]: 'Interrupted: ',
        };
        let text = labels[m.status] ?? m.status;
        if (m.status === Status.Failed || m.status === Status.Interrupted) text += m.error;
        if (src.offer) text = 'Showing a run measured earlier (see below).';
        else if (src === this.presenter) text = who + text;
        if (src === this.own) this.cancelling = false;
        this.setState(src, m.status === Status.OK ? 'finished' : m.status, text);
        break;
      }
    }
  }

  /** draw puts one message of the shown run on the page. */
  draw(m, src) {
    this.empty = false;
    switch (m.type) {
      case 'accepted':
        this.logLine(m.joined ? 'Someone asked for the same run a moment ago, so you are watching theirs.' : 'Run accepted.');
        break;
      case 'offer':
        this.logLine(offerText(m));
        break;
      case Event.Started:
        this.logLine(`Started in process ${m.pid}; GOMAXPROCS ${m.child?.gomaxprocs}${m.child?.cpus?.length ? `, pinned to CPUs ${m.child.cpus.join(', ')}` : ''}.`);
        if (src === this.own) for (const g of this.guesses) g.lock(); // no editing once the numbers show
        break;
      case Event.Progress:
        this.progress.max = Math.max(1, m.total);
        this.progress.value = m.done;
        this.progressLabel.textContent = `${m.phase} (${m.done}/${m.total})`;
        break;
      case Event.Log:
        this.logLine(m.message);
        break;
      case Event.Gauge: this.gauge(m); break;
      case Event.Row: this.row(m); break;
      case Event.Point: case Event.Points: case Event.Bar: case Event.Hist: case Event.Span: case Event.Mark:
        this.charts.get(m.chart)?.handle(m);
        break;
      case Event.Result: this.result(m, src); break;
      case Event.Done: this.done(m); break;
    }
  }

  /** enqueue keeps a message of the shown run for the next drain: the
   *  panel draws all messages at once, so the page is laid out once per
   *  drain, not per event, at a bounded rate (DRAW_GAP, DRAW_SHARE). A
   *  result, an end, or the learner's leaving a run drains now. */
  enqueue(m, src) {
    this.queue.push([m, src]);
    if (m.type === 'result' || m.type === 'done' || m.type === 'left') { this.drain(); return; }
    if (this.drainTimer) return;
    const gap = Math.min(MAX_GAP, Math.max(DRAW_GAP, (this.drawCost ?? 0) / DRAW_SHARE));
    const wait = Math.max(0, (this.lastDrain ?? -Infinity) + gap - performance.now());
    this.drainTimer = setTimeout(() => { this.drainFrame = requestAnimationFrame(() => this.drain()); }, wait);
  }

  /** drain draws every queued message, then every chart that changed, and
   *  measures what that cost: its script, and the style, layout and paint
   *  of the frame it is in (a task posted now runs after that frame). */
  drain() {
    clearTimeout(this.drainTimer);
    cancelAnimationFrame(this.drainFrame);
    this.drainTimer = null;
    const t0 = performance.now();
    this.lastDrain = t0;
    const q = this.queue;
    this.queue = [];
    for (const [m, src] of q) this.draw(m, src);
    for (const [id, c] of this.charts) if (!this.unseen.has(id)) c.flush(false);
    this.paintStatus();
    afterFrame(() => { this.drawCost = performance.now() - t0; });
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

  result(m, src) {
    this.results.hidden = false;
    this.metrics.replaceChildren(...m.metrics.map((x) => {
      const spread = x.min !== undefined ? `${fmt(x.min)} · ${fmt(x.p99)} · ${fmt(x.max)}` : '–';
      const name = el('th', { scope: 'row', text: x.name });
      if (x.note) name.append(el('small', { text: x.note }));
      return el('tr', { 'data-metric-key': x.key }, name, el('td', { text: `${fmt(x.value)} ${x.unit}` }), el('td', { text: spread }), el('td', { text: x.n ? String(x.n) : '–' }));
    }));
    // Other parts of the page (a lesson's summary table) may show figures
    // from this result: elements with data-fill="<experiment>" and
    // data-key="<metric key>" get its value.
    for (const cell of document.querySelectorAll(`[data-fill="${CSS.escape(this.id)}"]`)) {
      const x = byKey(m.metrics, cell.dataset.key);
      if (x) { cell.textContent = `${fmt(x.value)} ${x.unit}`; cell.dataset.filled = 'true'; }
      else { cell.textContent = 'not measured here'; cell.dataset.filled = 'missing'; } // a figure this host cannot give
    }
    document.dispatchEvent(new CustomEvent('lab:result', { detail: { experiment: this.id, run: src.run, source: src.kind, restored: src.restored, metrics: m.metrics, claims: m.claims } }));
    const items = [...this.root.querySelectorAll('.claim')];
    for (const c of m.claims) {
      const li = items.find((x) => x.querySelector('.claim-text')?.textContent === c.claim);
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
    if (m.error && m.status !== Status.OK && m.status !== Status.Failed) this.logLine(m.error);
    if (m.status === Status.OK) this.progress.value = this.progress.max;
    for (const li of this.root.querySelectorAll('.claim .verdict[data-verdict="pending"]')) li.textContent = 'no verdict';
  }
}

/** afterFrame calls fn in a task of its own, after the current one: after
 *  the style, layout and paint of a frame, when called in an animation
 *  frame's callback. */
function afterFrame(fn) {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => { ch.port1.close(); fn(); };
  ch.port2.postMessage(0);
}

/** RASTER_MS is time to raster a drawn frame, of which the page is not
 *  told (after a Run click, in software: 45 ms, after the second frame). */
const RASTER_MS = 120;

/** afterPaint calls fn RASTER_MS after the page has drawn its next frame
 *  and begun the one after; or after 300 ms if it draws no frames. */
function afterPaint(fn) {
  let done = false;
  const once = () => { if (!done) { done = true; fn(); } };
  requestAnimationFrame(() => requestAnimationFrame(() => afterFrame(() => setTimeout(once, RASTER_MS))));
  setTimeout(once, 300);
}

/** chartWords is what a chart with nothing drawn says about the run shown. */
function chartWords(src) {
  switch (src.state) {
    case 'idle': return 'Run the experiment to draw this chart.';
    case 'submitting': case 'queued': return 'Waiting for the run to start…';
    case 'running': return 'Drawn as its measurements arrive: none yet.';
    case 'restoring': return 'Loading your last run…';
    default: return 'This run has no data for this chart.';
  }
}

/** queuedText says where a waiting run is and how long it may wait. */
function queuedText(m) {
  if (m.paused) return 'Waiting: the instructor has paused students’ runs for now.';
  const where = m.position === 1 ? 'next in line' : `position ${m.position}`;
  const wait = m.eta_s > 0 ? `, about ${m.eta_s < 60 ? Math.round(m.eta_s) + ' s' : Math.round(m.eta_s / 60) + ' min'}` : '';
  return `Queued: ${where}${wait}.`;
}

/** offerText says what an offered run is and when it was measured. */
function offerText(m) {
  const at = new Date(m.finished_at);
  const mins = Math.max(0, Math.round((Date.now() - at.getTime()) / 60000));
  const when = `measured here at ${at.toLocaleTimeString()}${mins > 0 ? ` (${mins} min ago)` : ' (just now)'}`;
  const why = {
    recent: 'An identical run finished a moment ago, so you are seeing it',
    'queue-full': 'The queue is full, so you are seeing the newest run of this experiment',
    paused: 'The instructor has paused students’ runs, so you are seeing the newest run of this experiment',
  }[m.reason] ?? 'You are seeing an earlier run';
  return `${why}, ${when}.`;
}

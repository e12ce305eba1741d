// The instructor's dashboard: one websocket (/ws?class) that receives the
// class view as it changes and sends the instructor's operations.
import { el } from './format.js';
import { guessesFigure } from './guess-figure.js';
import { AssignPanel } from './assign.js';

const $ = (sel) => document.querySelector(sel);

function seconds(s) {
  return s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

class Dashboard {
  constructor() {
    this.open = false;
    this.delay = 500;
    this.status = $('[data-testid="present-status"]');
    $('form.present').addEventListener('submit', (e) => { e.preventDefault(); this.present(); });
    $('#present-lesson').addEventListener('change', () => this.anchors());
    this.anchors();
    this.assign = new AssignPanel(this);
    for (const b of document.querySelectorAll('button[data-op]')) {
      b.addEventListener('click', () => this.send({ op: b.dataset.op }));
    }
    document.addEventListener('click', (e) => {
      const run = e.target.closest('button[data-cancel]')?.dataset.cancel;
      if (run) this.send({ op: 'cancel', run });
      const round = e.target.closest('button[data-round-op]');
      if (round) this.send({ op: round.dataset.roundOp, experiment: round.dataset.experiment });
    });
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws?class`);
    this.ws = ws;
    ws.addEventListener('open', () => { this.open = true; this.delay = 500; });
    ws.addEventListener('message', (e) => this.dispatch(JSON.parse(e.data)));
    ws.addEventListener('close', () => {
      this.open = false;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 8000);
    });
  }

  send(msg, status = this.status) {
    if (this.open) this.ws.send(JSON.stringify(msg));
    else status.textContent = 'Not connected yet; try again in a moment.';
  }

  /** anchors shows only the places of the chosen lesson. */
  anchors() {
    const lesson = $('#present-lesson').value;
    const sel = $('#present-anchor');
    for (const o of sel.options) o.hidden = o.dataset.lesson !== lesson;
    const chosen = sel.options[sel.selectedIndex];
    if (!chosen || chosen.hidden) sel.selectedIndex = [...sel.options].findIndex((o) => !o.hidden);
  }

  present() {
    const lesson = $('#present-lesson').value;
    const anchor = $('#present-anchor').value;
    this.send({ op: 'present', lesson, anchor });
  }

  dispatch(m) {
    switch (m.type) {
      case 'class': this.render(m); break;
      case 'present': this.status.textContent = `Sent: every follower is on ${m.lesson}${m.anchor ? ' at ' + m.anchor : ''}.`; break;
      case 'assigned': this.assign.assigned(m); break;
      case 'error':
        if (m.op === 'assign') this.assign.refused(m);
        else this.status.textContent = m.message;
        break;
    }
  }

  render(c) {
    const state = $('[data-testid="paused-state"]');
    state.dataset.paused = String(c.paused);
    state.textContent = c.paused
      ? 'Paused: students’ runs wait, and a new request is offered an earlier run.'
      : 'Running: students’ runs are taken in turn, after yours.';
    this.pauseButtons(c.paused);
    this.runs('running', c.running, false);
    this.runs('queue', c.queue, true);
    $('[data-testid="learners"]').textContent = String(c.learners);
    $('[data-testid="hosts-table"] tbody').replaceChildren(...(c.hosts || []).map((h) =>
      el('tr', { 'data-host': h.name, 'data-state': h.state }, el('th', { scope: 'row', text: h.name }), el('td', { text: h.state }),
        el('td', { text: String(h.cpus) }), el('td', { text: h.cpu }), el('td', { text: String(h.runs) }))));
    this.rounds(c.guesses || []);
    this.assign.render(c.assignment);
    const titles = new Map([...$('#present-lesson').options].map((o) => [o.value, o.textContent]));
    $('[data-testid="lessons-table"] tbody').replaceChildren(...c.lessons.map((l) =>
      el('tr', {}, el('th', { scope: 'row', text: titles.get(l.lesson) ?? l.lesson }), el('td', { text: String(l.learners) }))));
  }

  /** pauseButtons enables the one of Pause and Resume that would change
   *  something; the keyboard's focus goes with it. */
  pauseButtons(paused) {
    const pause = $('[data-testid="pause"]'), resume = $('[data-testid="resume"]');
    const off = paused ? pause : resume, on = paused ? resume : pause;
    const had = document.activeElement === off;
    on.disabled = false;
    off.disabled = true;
    if (had) on.focus();
  }

  /**
   * rounds shows each round of guesses: what was asked, how many guessed, the
   * spread. A round's element is kept and updated in place, so its buttons stay
   * put, and keep the keyboard's focus, while the class's guesses come in.
   */
  rounds(guesses) {
    const box = $('[data-testid="rounds"]');
    if (guesses.length === 0) {
      box.replaceChildren(el('p', { class: 'empty', text: 'No round of guesses yet: present an experiment that asks for one.' }));
      return;
    }
    box.querySelector(':scope > p.empty')?.remove();
    const keep = new Set();
    let prev = null;
    for (const g of guesses) {
      const key = `${g.experiment}/${g.claim}`;
      keep.add(key);
      let div = [...box.children].find((c) => c.dataset.key === key);
      if (!div) {
        div = el('div', { class: 'round', 'data-key': key, 'data-experiment': g.experiment, 'data-claim': String(g.claim) },
          el('h3', {}, g.question, ' ', el('small', {}, el('code', { text: g.experiment }))),
          el('p', { class: 'round-count' }),
          el('div', { class: 'round-figure' }),
          el('p', { class: 'actions' },
            el('button', { type: 'button', 'data-round-op': 'reveal', 'data-experiment': g.experiment, text: 'Reveal to the class' }),
            el('button', { type: 'button', class: 'cancel', 'data-round-op': 'reset-guesses', 'data-experiment': g.experiment, text: 'New round' })));
      }
      div.dataset.count = String(g.count);
      div.querySelector('[data-round-op="reveal"]').disabled = g.count === 0; // nothing to reveal yet
      div.querySelector('.round-count').textContent = `${g.count} guess${g.count === 1 ? '' : 'es'}${g.revealed ? ', revealed to the class' : ', hidden from the students'}${g.measured !== undefined && g.measured !== null ? '; measured' : ''}.`;
      div.querySelector('.round-figure').replaceChildren(...(g.count > 0 ? guessesFigure(g) : []));
      const at = prev ? prev.nextElementSibling : box.firstElementChild;
      if (at !== div) box.insertBefore(div, at);
      prev = div;
    }
    for (const c of [...box.children]) {
      if (!keep.has(c.dataset.key)) c.remove();
    }
  }

  /**
   * runs shows the runs measuring now or queued, a row each. A run's row is
   * kept and updated in place, so its Cancel button stays put, and keeps the
   * keyboard's focus, while the table refreshes.
   */
  runs(id, runs, queued) {
    const body = $(`[data-runs="${id}"] tbody`);
    if (runs.length === 0) {
      body.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: '6', text: 'Nothing.' })));
      return;
    }
    body.querySelector(':scope > tr.empty')?.remove();
    const keep = new Set();
    let prev = null;
    for (const r of runs) {
      keep.add(r.run);
      let tr = [...body.rows].find((row) => row.dataset.run === r.run);
      if (!tr) {
        const cells = [];
        if (queued) cells.push(el('td', { class: 'position' }));
        cells.push(el('td', { text: r.learner }), el('td', {}, el('code', { text: r.experiment })));
        cells.push(el('td', { class: 'time' }), el('td', { class: 'viewers' }));
        cells.push(el('td', {}, el('button', { type: 'button', class: 'cancel', 'data-cancel': r.run, text: 'Cancel' })));
        tr = el('tr', { 'data-run': r.run }, ...cells);
      }
      if (r.presenter) tr.dataset.presenter = 'true';
      else delete tr.dataset.presenter;
      if (queued) tr.querySelector('.position').textContent = String(r.position);
      tr.querySelector('.time').textContent = queued ? `about ${seconds(r.eta_s ?? 0)}` : seconds(r.elapsed_s ?? 0);
      tr.querySelector('.viewers').textContent = String(r.viewers);
      const at = prev ? prev.nextElementSibling : body.firstElementChild;
      if (at !== tr) body.insertBefore(tr, at);
      prev = tr;
    }
    for (const row of [...body.rows]) {
      if (!keep.has(row.dataset.run)) row.remove();
    }
  }
}

const d = new Dashboard();
d.connect();
window.conclabClass = d;

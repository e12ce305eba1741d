// Entry point of every lesson page: one websocket to the server, shared by
// all the experiment panels on the page; it reconnects on its own and the
// panels re-watch their own runs. It also follows the instructor, unless
// the learner chooses not to: the server makes the page watch each of the
// instructor's runs as it announces it (live), so they show beside the
// learner's own, and the instructor can bring the page to a place in the
// course. Unticking Follow tells the server, which then sends nothing
// more of the instructor's runs or moves.
import { Panel } from './panel.js';

const FOLLOW = 'conclab.follow'; // sessionStorage: "no" when the learner stopped following
// The server sends what is waiting as one array of messages, at most one
// every BATCH ms: the panels draw only once a second or so while a run
// goes, and each websocket message costs the browser a task of its own.
const BATCH = 250;

class Connection {
  constructor(lesson) {
    this.lesson = lesson;
    this.panels = [];
    this.byRun = new Map();
    this.open = false;
    this.delay = 500;
    this.queue = [];
    this.following = sessionStorage.getItem(FOLLOW) !== 'no';
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = new URLSearchParams({ batch: BATCH });
    if (this.lesson) q.set('lesson', this.lesson);
    if (!this.following) q.set('follow', '0');
    return `${proto}//${location.host}/ws?${q}`;
  }

  connect() {
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.open = true;
      this.delay = 500;
      for (const m of this.queue.splice(0)) ws.send(JSON.stringify(m));
      for (const p of this.panels) p.connection(true);
    });
    ws.addEventListener('message', (e) => {
      const d = JSON.parse(e.data);
      for (const m of Array.isArray(d) ? d : [d]) this.dispatch(m);
    });
    ws.addEventListener('close', () => {
      this.open = false;
      for (const p of this.panels) p.connection(false);
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 8000);
    });
  }

  send(msg) {
    if (this.open) this.ws.send(JSON.stringify(msg));
    else this.queue.push(msg);
  }

  bind(run, panel) { this.byRun.set(run, panel); }
  forget(run, panel) { if (this.byRun.get(run) === panel) this.byRun.delete(run); }

  panelFor(id) { return this.panels.find((p) => p.id === id); }

  dispatch(m) {
    switch (m.type) {
      case 'live':
        showClassBar();
        if (this.following) this.panelFor(m.experiment)?.presenterLive(m);
        return;
      case 'present':
        this.presented = m; // what the instructor last presented, followed or not
        showClassBar();
        if (this.following) present(m);
        return;
      case 'everywhere':
        showClassBar();
        this.panelFor(m.experiment)?.everywhere.start(m);
        return;
      case 'following':
        this.followingAck = m.on; // the server has it: nothing more of the instructor's reaches an unfollowed page
        return;
      case 'accepted': case 'offer':
        this.panelFor(m.experiment)?.handle(m);
        return;
      case 'predicted': case 'scored': case 'reveal':
        this.panelFor(m.experiment)?.guessMessage(m);
        return;
      case 'error': {
        const p = (m.run && this.byRun.get(m.run)) || (m.experiment && this.panelFor(m.experiment));
        if (p) p.handle(m);
        else if (announce(m)) console.warn('server:', m.message);
        return;
      }
    }
    if (!m.run) { announce(m); return; }
    const p = this.byRun.get(m.run);
    p?.handle(m);
    // A learner's panel says its run ended; a row of the every-host table
    // (Everywhere, bound to its run the same way) is not a panel's run.
    if (m.type === 'done' && p instanceof Panel) {
      document.dispatchEvent(new CustomEvent('lab:done', { detail: { experiment: p.id, run: m.run, status: m.status, restored: p.isRestored(m.run) } }));
    }
  }

  /** follow turns following the instructor on or off, here and on the
   *  server (which, on again, announces the runs under way once more). */
  follow(on) {
    this.following = on;
    sessionStorage.setItem(FOLLOW, on ? 'yes' : 'no');
    if (!on) for (const p of this.panels) p.stopFollowing();
    this.send({ op: 'follow', on });
  }
}

/** announce hands a message no panel takes to the page's other scripts
 *  (static/js/teach.js takes answers) as a lab:message event; it reports
 *  whether none of them took it. */
function announce(m) {
  return document.dispatchEvent(new CustomEvent('lab:message', { detail: m, cancelable: true }));
}

function showClassBar() {
  const bar = document.querySelector('.classbar');
  if (bar) bar.hidden = false;
}

/** present brings the page to the lesson and place the instructor chose. */
function present(m) {
  const hash = m.anchor ? `#${m.anchor}` : '';
  if (m.lesson !== document.body.dataset.lesson) {
    location.assign(`/lessons/${encodeURIComponent(m.lesson)}${hash}`);
    return;
  }
  const target = m.anchor ? document.getElementById(m.anchor) : document.querySelector('main');
  if (!target) return;
  if (m.anchor) history.replaceState(null, '', hash);
  target.scrollIntoView({ behavior: 'smooth', block: 'start' });
  target.dataset.presented = String(Date.now());
}

function main() {
  document.documentElement.classList.add('js');
  const roots = document.querySelectorAll('section.experiment');
  if (roots.length === 0) return;
  const conn = new Connection(document.body.dataset.lesson);
  for (const r of roots) conn.panels.push(new Panel(r, conn));
  const follow = document.querySelector('.classbar input.follow');
  if (follow) {
    follow.checked = conn.following;
    follow.addEventListener('change', () => conn.follow(follow.checked));
  }
  conn.connect();
  // A handle for the browser console and the end-to-end tests.
  window.conclab = conn;
}

main();

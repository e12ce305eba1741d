// Entry point of every page: one websocket to the server, shared by all
// the experiment panels on the page; it reconnects on its own and the
// panels re-watch their runs.
import { Panel } from './panel.js';

class Connection {
  constructor(lesson) {
    this.lesson = lesson;
    this.panels = [];
    this.byRun = new Map();
    this.open = false;
    this.delay = 500;
    this.queue = [];
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.lesson ? `?lesson=${encodeURIComponent(this.lesson)}` : '';
    return `${proto}//${location.host}/ws${q}`;
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
    ws.addEventListener('message', (e) => this.dispatch(JSON.parse(e.data)));
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
    if (m.type === 'live') { this.panelFor(m.experiment)?.watchLive(m); return; }
    if (m.type === 'accepted') { this.panelFor(m.experiment)?.handle(m); return; }
    if (m.type === 'error') {
      const p = (m.run && this.byRun.get(m.run)) || (m.experiment && this.panelFor(m.experiment));
      if (p) p.handle(m);
      else console.warn('server:', m.message);
      return;
    }
    if (m.run) this.byRun.get(m.run)?.handle(m);
  }
}

function main() {
  document.documentElement.classList.add('js');
  const roots = document.querySelectorAll('section.experiment');
  if (roots.length === 0) return;
  const conn = new Connection(document.body.dataset.lesson);
  for (const r of roots) conn.panels.push(new Panel(r, conn));
  conn.connect();
  // A handle for the browser console and the end-to-end tests.
  window.conclab = conn;
}

main();

// Lesson 2's experiment in the learner's browser: a fixed amount of
// arithmetic on the page's main thread, then split across one Web Worker
// per logical CPU the browser reports. Everything shown is measured here,
// in this tab, when Run is pressed.
import { fmt } from '/static/js/format.js';
import { makeChart } from '/static/js/charts.js';
import { spin, now } from './cvp-worker.js';

const SLICE_MS = 16; // main-thread work between two pauses, in slices mode: about one frame at 60 Hz
const PIECE_MS = 20; // work a worker does between two reports
const DRAW_MS = 150; // how often new spans go to the chart: redrawing it costs main-thread time too

/**
 * nextTask ends the current task so the browser can paint and handle input
 * before the next slice. A message to ourselves, not a timer (timers
 * chained this way are held back to 4 ms and more) and not
 * scheduler.yield() (its continuation runs ahead of rendering).
 */
function nextTask() {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => { port1.close(); resolve(); };
    port2.postMessage(null);
  });
}

/** painted resolves once the page has really painted what was set. */
const painted = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));

/** watchFrames records the longest gap between two animation frames. */
function watchFrames() {
  let last = performance.now(), worst = 0, on = true, hidden = document.hidden;
  const tick = (t) => {
    worst = Math.max(worst, t - last);
    last = t;
    hidden ||= document.hidden;
    if (on) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return () => {
    on = false;
    return { worst: Math.max(worst, performance.now() - last), hidden };
  };
}

/** calibrate finds how many units the main thread does per ms. */
function calibrate() {
  let n = 1;
  for (;;) {
    const t = performance.now();
    spin(n, 1);
    const d = performance.now() - t;
    if (d > 60) return n / d;
    n *= 2;
  }
}

class BrowserExperiment {
  constructor(root) {
    this.root = root;
    this.form = root.querySelector('#bw-form');
    this.runBtn = root.querySelector('#bw-run');
    this.status = root.querySelector('#bw-status');
    this.progress = root.querySelector('#bw-progress');
    this.progressLabel = root.querySelector('#bw-progress-label');
    this.reading = root.querySelector('#bw-reading');
    this.chart = makeChart(root.querySelector('#bw-chart'));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.busy) return;
      this.run().catch((err) => this.setStatus('failed', `Failed: ${err.message}`)).finally(() => {
        this.busy = false;
        this.runBtn.disabled = false;
        this.root.removeAttribute('data-busy');
      });
    });
    if (typeof Worker === 'undefined') {
      this.setStatus('failed', 'This browser has no Web Workers, so the parallel half cannot run here.');
      return;
    }
    this.runBtn.disabled = false;
    this.setStatus('idle', 'Ready. Press Run to measure your own machine.');
  }

  setStatus(state, text) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  }

  cell(key, text) { this.root.querySelector(`[data-bw="${key}"]`).textContent = text; }

  step(phase, done, total) {
    this.progress.max = total;
    this.progress.value = done;
    this.progressLabel.textContent = phase;
  }

  async run() {
    this.busy = true;
    this.runBtn.disabled = true;
    this.root.setAttribute('data-busy', '');
    this.chart.reset();
    for (const td of this.root.querySelectorAll('[data-bw]')) td.textContent = '…';
    this.reading.textContent = '';
    const block = this.form.elements.main.value === 'block';
    const target = Number(this.form.elements.size.value);
    const k = Math.max(1, Math.min(64, navigator.hardwareConcurrency || 1));

    this.setStatus('running', 'Calibrating: how fast is one thread here?');
    await painted();
    const perMs = calibrate();
    const total = Math.max(k, Math.round(target * perMs));
    // Lanes and colours in a fixed order, whichever thread reports first.
    this.chart.lanes = ['main thread', ...Array.from({ length: k }, (_, i) => `worker ${i + 1}`)];
    for (const lane of this.chart.lanes) this.chart.seriesIndex(lane);
    const all = 2 * total;

    // Main thread: every unit, one slice after another.
    let t0 = 0, drawn = 0, pending = [];
    let progress = ['', 0];
    const flush = () => {
      for (const ev of pending) this.chart.handle(ev);
      pending = [];
      this.step(progress[0], progress[1], all);
      drawn = performance.now();
    };
    const span = (lane, start, end) => {
      pending.push({ lane, label: lane, start: start - t0, end: end - t0 });
      if (performance.now() - drawn > DRAW_MS) flush();
    };
    this.setStatus('running', block
      ? 'Main thread computing in one go: this page is frozen until it is done.'
      : 'Main thread computing in slices; the page paints between them.');
    await painted();
    let stopWatch = watchFrames();
    let busy = 0, done = 0;
    const slice = block ? total : Math.max(1, Math.round(SLICE_MS * perMs));
    const mainStart = t0 = now();
    let x = 1;
    while (done < total) {
      const n = Math.min(slice, total - done);
      const s = now();
      x = spin(n, x);
      const e = now();
      busy += e - s;
      done += n;
      progress = ['main thread', done];
      span('main thread', s, e);
      if (!block) await nextTask();
    }
    const mainWall = now() - mainStart;
    this.result = x; // kept, so the engine cannot skip the work
    flush();
    await painted();
    const freezeMain = stopWatch();

    // Workers: the same units, split evenly, all at once.
    this.setStatus('running', `Starting ${k} Web Worker${k === 1 ? '' : 's'}…`);
    const url = new URL('cvp-worker.js' + new URL(import.meta.url).search, import.meta.url);
    const launched = now();
    const workers = Array.from({ length: k }, () => new Worker(url, { type: 'module' }));
    try {
      await Promise.all(workers.map((w) => once(w, 'ready')));
      const startup = now() - launched;
      this.setStatus('running', `${k} Web Worker${k === 1 ? '' : 's'} computing; the main thread is free.`);
      stopWatch = watchFrames();
      const piece = Math.max(1, Math.round(PIECE_MS * perMs));
      const posted = now();
      let end = posted, doneW = 0;
      await Promise.all(workers.map((w, i) => new Promise((resolve, reject) => {
        const units = Math.floor(total / k) + (i < total % k ? 1 : 0);
        const lane = `worker ${i + 1}`;
        w.onerror = (e) => reject(new Error(e.message || 'a worker failed'));
        w.onmessage = (e) => {
          const m = e.data;
          if (m.type === 'piece') {
            end = Math.max(end, m.end);
            doneW += 1;
            progress = [`${k} workers`, total + Math.min(total, doneW * piece)];
            span(lane, m.start, m.end);
          } else if (m.type === 'done') resolve();
        };
        w.postMessage({ units, piece });
      })));
      const workersWall = end - posted;
      flush();
      this.chart.flush(); // the run is over: the whole table, every lane's spans
      await painted();
      const freezeWorkers = stopWatch();
      this.step('done', all, all);
      this.report({ k, busy, mainWall, workersWall, startup, freezeMain, freezeWorkers, block });
    } finally {
      for (const w of workers) w.terminate();
    }
  }

  report({ k, busy, mainWall, workersWall, startup, freezeMain, freezeWorkers, block }) {
    const speedup = busy / workersWall;
    this.cell('threads', `${k} worker${k === 1 ? '' : 's'}`);
    this.cell('serial', block ? `${fmt(busy)} ms` : `${fmt(busy)} ms (${fmt(mainWall)} ms with the pauses)`);
    this.cell('parallel', `${fmt(workersWall)} ms`);
    this.cell('speedup', `${fmt(speedup)} ×`);
    const frozen = (f) => f.hidden ? `${fmt(f.worst)} ms (tab hidden: no painting)` : `${fmt(f.worst)} ms`;
    this.cell('freeze-main', frozen(freezeMain));
    this.cell('freeze-workers', frozen(freezeWorkers));
    let why;
    if (k === 1) why = 'With one logical CPU reported there is nothing to run in parallel; the worker only kept the page free.';
    else if (speedup >= 0.8 * k) why = `That is close to one CPU's worth per worker: the work ran in parallel on ${k} CPUs.`;
    else if (speedup > 1.2) why = `Faster, but short of ${k}×. Likely reasons: other tabs and programs taking turns on the same cores, or logical CPUs that are two hyper-threads of one core sharing its arithmetic units.`;
    else why = 'Hardly faster: the workers did not get CPUs of their own (a busy machine, power saving, or fewer real cores than reported).';
    const hc = navigator.hardwareConcurrency ? `Your browser reports ${navigator.hardwareConcurrency} logical CPU${navigator.hardwareConcurrency === 1 ? '' : 's'}, so ${k} worker${k === 1 ? '' : 's'} ran` : `Your browser does not say how many CPUs it has, so ${k} worker ran`;
    this.reading.textContent = `${hc}; starting them took ${fmt(startup)} ms, counted in neither time. They finished the work ${fmt(speedup)}× as fast as the main thread alone. ${why}`;
    this.setStatus('finished', 'Finished.');
  }
}

/** once resolves on the first message of a type from a worker. */
function once(w, type) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('a Web Worker did not start within 10 s')), 10000);
    w.onerror = (e) => { clearTimeout(timer); reject(new Error(e.message || 'a Web Worker failed to load')); };
    w.onmessage = (e) => {
      if (e.data.type === type) { clearTimeout(timer); resolve(); }
    };
  });
}

const root = document.getElementById('browser-workers');
if (root) new BrowserExperiment(root);

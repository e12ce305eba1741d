// Lesson 5: lights the three mapping diagrams with what the
// threading-models experiment measures — live from its panel's gauges
// while it runs, then from its result — and offers each finished
// scheduler-trace run's raw trace for go tool trace.
import { byKey, fmt, el } from '/static/js/format.js';

const maps = new Map([...document.querySelectorAll('.tm-map')].map((f) => [f.dataset.model, f]));
const panel = document.querySelector('[data-experiment="threading-models"]');

/** show draws one model's kernel threads in use and CPUs busy. */
function show(model, threads, cpus, state) {
  const fig = maps.get(model);
  if (!fig) return;
  fig.dataset.state = state;
  if (threads !== undefined) {
    const boxes = fig.querySelectorAll('.tm-thread');
    boxes.forEach((b, i) => b.classList.toggle('on', i < Math.round(threads)));
    fig.querySelector('.tm-live[data-what="threads"]').textContent = threads === null ? '' : `${fmt(threads)} in use`;
    if (threads !== null) fig.querySelector('.tm-value[data-what="threads"]').textContent = state === 'live' ? `${fmt(threads)} (live)` : fmt(threads);
  }
  if (cpus !== undefined) {
    fig.querySelectorAll('.tm-cpu').forEach((c, i) => c.classList.toggle('on', cpus !== null && i < Math.round(cpus)));
    fig.querySelector('.tm-live[data-what="cpus"]').textContent = cpus === null ? '' : `${fmt(cpus)} busy`;
    if (cpus !== null) fig.querySelector('.tm-value[data-what="cpus"]').textContent = state === 'live' ? `${fmt(cpus)} (live)` : fmt(cpus);
  }
}

function reset() {
  for (const [model, fig] of maps) {
    show(model, null, null, 'idle');
    fig.querySelectorAll('.tm-value').forEach((v) => { v.textContent = 'waiting for the run'; });
  }
}

/** gauge reads a live figure the panel shows, or undefined. */
function gauge(name) {
  const dd = panel.querySelector(`.gauges dd[data-name="${CSS.escape(name)}"]`);
  if (!dd) return undefined;
  const v = parseFloat(dd.textContent);
  return Number.isFinite(v) ? v : undefined;
}

let live = false;
let measured = false; // the result's figures are shown: live gauges no longer count
function update() {
  const dds = panel.querySelectorAll('.gauges dd');
  if (dds.length === 0) {
    if (live || measured) { live = false; measured = false; reset(); }
    return;
  }
  // The panel draws a run's last gauges and its result in one go, and this
  // observer hears of the gauges only after the result was shown.
  if (measured) return;
  live = true;
  for (const model of maps.keys()) {
    const threads = gauge(`${model} kernel threads`);
    const cpus = gauge(`${model} CPUs busy`);
    if (threads !== undefined || cpus !== undefined) show(model, threads, cpus, 'live');
  }
}

if (panel && maps.size > 0) {
  new MutationObserver(update).observe(panel.querySelector('.gauges'), { subtree: true, childList: true, characterData: true });
  document.addEventListener('lab:result', (e) => {
    if (e.detail.experiment !== 'threading-models') return;
    measured = true;
    // Each model's figures have keys ending in its key (1to1, nto1, mton).
    const metric = (fig, key) => byKey(e.detail.metrics, `${key}.${fig.dataset.modelKey}`)?.value;
    for (const [model, fig] of maps) {
      show(model, metric(fig, 'kernel_threads.at_once'), metric(fig, 'cpus_busy.peak'), 'measured');
    }
  });
}

// scheduler-trace: a finished run's raw execution trace, beside its chart.
const sched = document.querySelector('[data-experiment="scheduler-trace"]');
if (sched) {
  document.addEventListener('lab:result', (e) => {
    if (e.detail.experiment !== 'scheduler-trace' || !e.detail.run) return;
    const size = byKey(e.detail.metrics, 'trace.bytes');
    const file = `conclab-${e.detail.run}.trace`;
    const p = el('p', { class: 'sched-download', 'data-testid': 'sched-download' },
      el('a', { href: `/runs/${encodeURIComponent(e.detail.run)}/trace`, download: file, text: 'Download this run’s execution trace' }),
      ` (${size ? fmt(size.value) + ' KiB' : 'its size unknown'}), the runtime’s own record of what you see above, and open it with `,
      el('code', { text: `go tool trace ${file}` }), '.');
    sched.querySelector('.sched-download')?.remove();
    sched.querySelector('[data-chart="sched"]').after(p);
  });
  // A new run's trace is not the old one's.
  sched.querySelector('form.params').addEventListener('submit', () => sched.querySelector('.sched-download')?.remove());
}

// Lesson 7: keep the recap's times readable. The server writes them in
// UTC; this shows them in the reader's own time zone, and when an
// experiment on this page finishes (panel.js fills its figures through
// data-fill and data-key), it stamps each of that experiment's rows with
// the time the result arrived, or says plainly that the run had no such
// figure.

import { byKey } from '/static/js/format.js';

const timeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

function localise(t) {
  const d = new Date(t.dateTime);
  if (!Number.isNaN(d.getTime())) t.textContent = timeFmt.format(d);
}

for (const t of document.querySelectorAll('table.recap time[datetime]')) localise(t);

document.addEventListener('lab:result', (e) => {
  if (e.detail.restored) return; // shown again after a reload: the recap has its figures already
  const now = new Date();
  const exp = CSS.escape(e.detail.experiment);
  for (const figure of document.querySelectorAll(`table.recap tr[data-recap="${exp}"] .figure[data-key]`)) {
    const row = figure.closest('tr');
    let small = row.querySelector('.recap-value small');
    if (byKey(e.detail.metrics, figure.dataset.key)) {
      row.dataset.state = 'ran';
      if (small) small.textContent = 'from the run you just watched';
    } else {
      row.dataset.state = 'missing';
      figure.textContent = 'not in the last run';
      delete figure.dataset.filled;
      if (!small) {
        small = document.createElement('small');
        figure.after(small);
      }
      small.textContent = `The run you just watched reported no figure with the key ${figure.dataset.key}.`;
    }
    const t = document.createElement('time');
    t.dateTime = now.toISOString();
    localise(t);
    row.querySelector('.recap-when').replaceChildren(t);
  }
});

// The Workload → solution table: each row's button puts its settings into
// the lab's form, then moves to the form so that Run is one key away.
const lab = document.querySelector('[data-experiment="workload-lab"]');
for (const button of document.querySelectorAll('table.solutions button.preset')) {
  button.addEventListener('click', () => {
    if (!lab) return;
    const form = lab.querySelector('form.params');
    const set = (name, value) => {
      const input = form?.querySelector(`[name="${name}"]`);
      if (input) input.value = value;
    };
    set('tasks', button.dataset.tasks);
    set('cpu_ms', button.dataset.cpuMs);
    set('io_ms', button.dataset.ioMs);
    lab.scrollIntoView({ block: 'start' });
    (lab.querySelector('button.run') ?? form)?.focus({ preventScroll: true });
  });
}

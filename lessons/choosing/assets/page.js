// Lesson 7: keep the recap's times readable. The server writes them in
// UTC; this shows them in the reader's own time zone, and when an
// experiment on this page finishes (panel.js fills its figure through
// data-fill), it stamps that row with the time it arrived.

const timeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

function localise(t) {
  const d = new Date(t.dateTime);
  if (!Number.isNaN(d.getTime())) t.textContent = timeFmt.format(d);
}

for (const t of document.querySelectorAll('table.recap time[datetime]')) localise(t);

document.addEventListener('lab:result', (e) => {
  const now = new Date();
  for (const row of document.querySelectorAll(`table.recap tr[data-recap="${CSS.escape(e.detail.experiment)}"]`)) {
    if (!row.querySelector('.figure[data-filled]')) continue;
    row.dataset.state = 'ran';
    const cell = row.querySelector('.recap-when');
    const t = document.createElement('time');
    t.dateTime = now.toISOString();
    localise(t);
    cell.replaceChildren(t);
    const small = row.querySelector('.recap-value small');
    if (small) small.textContent = 'from the run you just watched';
  }
});

// The charts of a stored run's page (/runs/{id}) and of two runs side by
// side (/compare): each figure names the runs it draws (data-runs, with
// data-labels in an overlay); their events are fetched once from
// /runs/{id}.json and drawn with the same charts as a live run. The page
// reads whole without this script: every chart's data is also in the
// table beside it.
import { makeChart } from './charts.js';
import { Event } from './names.js';

/** events fetches a run's stored events, one JSON object per line. */
async function events(id) {
  const resp = await fetch(`/runs/${encodeURIComponent(id)}.json`);
  if (!resp.ok) throw new Error(`run ${id}: ${resp.status}`);
  const text = await resp.text();
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

/** relabel names an event's series after its run, in an overlay. */
function relabel(ev, label) {
  if (!label) return ev;
  const out = { ...ev };
  if (ev.type === Event.Span) out.lane = `${label}: ${ev.lane}`;
  else if (ev.type === Event.Mark && ev.lane) out.lane = `${label}: ${ev.lane}`; // a mark on a lane keeps its kind
  else if (ev.type === Event.Mark) out.label = `${label}: ${ev.label}`;
  else out.series = ev.series ? `${label}: ${ev.series}` : label;
  return out;
}

async function main() {
  const figures = [...document.querySelectorAll('figure.chart[data-runs]')];
  if (figures.length === 0) return;
  const ids = [...new Set(figures.flatMap((f) => f.dataset.runs.split(' ').filter(Boolean)))];
  const byRun = new Map(await Promise.all(ids.map(async (id) => [id, await events(id)])));
  for (const fig of figures) {
    const chart = makeChart(fig);
    if (!chart) continue;
    const runs = fig.dataset.runs.split(' ').filter(Boolean);
    const labels = (fig.dataset.labels || '').split(' ').filter(Boolean);
    runs.forEach((id, i) => {
      for (const ev of byRun.get(id) ?? []) {
        if (ev.chart === fig.dataset.chart) chart.handle(relabel(ev, labels[i]));
      }
    });
    chart.flush();
    fig.dataset.drawn = 'true';
  }
  document.body.dataset.chartsDrawn = 'true';
}

main().catch((e) => {
  // The tables beside the charts still hold every figure.
  console.warn('the charts could not be drawn:', e.message);
  document.body.dataset.chartsDrawn = 'failed';
});

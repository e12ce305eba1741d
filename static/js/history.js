// Links from a lesson's panels to the learner's stored runs: when a run of
// the learner's own finishes, its panel links to the run's permanent page
// and counts it among the learner's earlier runs. The links themselves are
// on the page without this script.
function main() {
  document.addEventListener('lab:result', (e) => {
    const { experiment, run, source, restored } = e.detail;
    if (source !== 'own' || !run) return;
    const panel = document.querySelector(`section.experiment[data-experiment="${CSS.escape(experiment)}"]`);
    const line = panel?.querySelector('.history-link');
    if (!line) return;
    const here = line.querySelector('.history-this');
    if (here.dataset.run === run) return; // replayed after a reconnect
    here.dataset.run = run;
    here.replaceChildren(restored ? ' · the one shown: ' : ' · this run, kept: ');
    const a = document.createElement('a');
    a.href = `/runs/${encodeURIComponent(run)}`;
    a.textContent = 'its permanent page';
    a.dataset.testid = 'permalink';
    here.append(a);
    // A run shown again after a reload is counted already; a new one is not.
    if (restored) return;
    const runs = Number(line.dataset.runs || 0) + 1;
    line.dataset.runs = String(runs);
    line.querySelector('.history-count').textContent = `(${runs} finished)`;
  });
}

main();

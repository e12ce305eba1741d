// Links from a lesson's panels to the learner's stored runs: when a run of
// the learner's own finishes, its panel links to the run's permanent page
// and counts it among the learner's earlier runs. The links themselves are
// on the page without this script.
function main() {
  document.addEventListener('lab:result', (e) => {
    const { experiment, run, source } = e.detail;
    if (source !== 'own' || !run) return;
    const panel = document.querySelector(`section.experiment[data-experiment="${CSS.escape(experiment)}"]`);
    const line = panel?.querySelector('.history-link');
    if (!line) return;
    const here = line.querySelector('.history-this');
    if (here.dataset.run === run) return; // replayed after a reconnect
    here.dataset.run = run;
    here.replaceChildren(' · this run, kept: ');
    const a = document.createElement('a');
    a.href = `/runs/${encodeURIComponent(run)}`;
    a.textContent = 'its permanent page';
    a.dataset.testid = 'permalink';
    here.append(a);
  });
}

main();

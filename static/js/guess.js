// A learner's guesses before a run: a number (a field with a slider on
// the prediction's scale beside it) or a choice. A guess goes to the
// server as it is made, is locked when the run starts, and stands beside
// the measurement once it is scored. In class, the instructor can reveal
// everyone's guesses (drawn by guess-figure.js).
import { fmt, el } from './format.js';

/** Scale maps a slider position (0–1000) to a value and back. */
function scale(min, max, log) {
  return log
    ? { value: (p) => min * (max / min) ** (p / 1000), pos: (v) => 1000 * Math.log(v / min) / Math.log(max / min) }
    : { value: (p) => min + (max - min) * p / 1000, pos: (v) => 1000 * (v - min) / (max - min) };
}

/** round3 keeps three significant digits, as a person would type. */
const round3 = (v) => +v.toPrecision(3);

export class Guess {
  constructor(fs, panel) {
    this.fs = fs;
    this.panel = panel;
    this.claim = +fs.dataset.claim;
    this.kind = fs.dataset.kind;
    this.unit = fs.dataset.unit || '';
    this.state = fs.querySelector('.guess-state');
    this.result = fs.querySelector('.guess-result');
    this.classBox = fs.querySelector('.guess-class');
    this.inputs = fs.querySelector('.guess-inputs');
    this.value = null;
    this.locked = false;
    this.timer = 0;
    if (this.kind === 'number') {
      const min = +fs.dataset.min, max = +fs.dataset.max;
      this.scale = scale(min, max, fs.hasAttribute('data-log'));
      this.number = fs.querySelector('.guess-number');
      this.slider = fs.querySelector('.guess-slider');
      this.slider.addEventListener('input', () => {
        this.number.value = round3(this.scale.value(+this.slider.value));
        this.changed();
      });
      this.number.addEventListener('input', () => {
        const v = this.number.valueAsNumber;
        if (v >= min && v <= max) this.slider.value = Math.round(this.scale.pos(v));
        this.changed();
      });
    } else {
      for (const r of fs.querySelectorAll('input[type="radio"]')) r.addEventListener('change', () => this.changed());
    }
    fs.querySelector('.guess-skip').addEventListener('click', () => this.skip());
  }

  current() {
    if (this.kind === 'number') {
      const v = this.number.valueAsNumber;
      return Number.isNaN(v) ? null : v;
    }
    return this.fs.querySelector('input[type="radio"]:checked')?.value ?? null;
  }

  /** changed sends the guess a moment after the learner stops moving it. */
  changed() {
    if (this.locked) return;
    clearTimeout(this.timer);
    const v = this.current();
    if (v === null) return;
    this.timer = setTimeout(() => {
      this.panel.conn.send({ op: 'predict', experiment: this.panel.id, claim: this.claim, value: v });
    }, 250);
  }

  skip() {
    clearTimeout(this.timer);
    this.inputs.hidden = true;
    this.state.replaceChildren('Skipped. ', el('button', { type: 'button', class: 'guess-again', text: 'Make a guess' }));
    this.state.querySelector('button').addEventListener('click', () => this.reopen());
  }

  reopen() {
    this.inputs.hidden = false;
    this.locked = false;
    this.setDisabled(false);
    this.result.hidden = true;
    this.state.textContent = this.value === null ? '' : `Your guess: ${this.show(this.value)}.`;
  }

  setDisabled(off) {
    for (const i of this.inputs.querySelectorAll('input')) i.disabled = off;
  }

  show(v) { return typeof v === 'number' ? `${fmt(v)}${this.unit ? ' ' + this.unit : ''}` : String(v); }

  /** lock is called as a run of the learner's starts: no editing after seeing the number. */
  lock() {
    if (this.locked || this.inputs.hidden) return;
    clearTimeout(this.timer);
    this.locked = true;
    this.setDisabled(true);
    this.state.textContent = this.value === null
      ? 'No guess this time.'
      : `Locked in: ${this.show(this.value)}. It is scored when the run ends.`;
  }

  /** handle takes the server's answers about this guess. */
  handle(m) {
    switch (m.type) {
      case 'predicted':
        this.value = m.value;
        this.state.textContent = `Your guess: ${this.show(m.value)}.${m.class ? ' It counts with your class’s: your instructor is presenting this.' : ''}`;
        break;
      case 'scored':
        this.locked = true;
        this.setDisabled(true);
        this.result.hidden = false;
        this.result.replaceChildren(
          el('p', { class: 'guess-score', 'data-right': String(m.right) },
            el('strong', { text: m.score }), ` — you guessed ${this.show(m.value)}; this machine measured ${this.show(m.measured)}.`),
          el('p', { class: 'guess-lesson', text: m.lesson || '' }),
          el('button', { type: 'button', class: 'guess-again', text: 'Guess again for the next run' }));
        this.result.querySelector('button').addEventListener('click', () => this.reopen());
        this.state.textContent = '';
        break;
      case 'error':
        this.state.textContent = m.message;
        break;
    }
  }

  /** reveal shows the class's guesses for this claim. */
  reveal(g) {
    // The figure's module is fetched only when a class is shown its guesses;
    // the box opens with the figure in it.
    import('./guess-figure.js').then(({ guessesFigure }) => {
      this.classBox.replaceChildren(el('h5', { text: `Your class guessed (${g.count} guesses)` }), ...guessesFigure(g, this.unit));
      this.classBox.hidden = false;
    });
  }
}

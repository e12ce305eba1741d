// The learner's side of a lesson's exercises and self-check. Answers go
// over the page's one websocket (lab.js, window.conclab); the server says
// right or wrong and why, and how an exercise stands — asked again after
// every run of one of its experiments ends. Also: an exercise's link to an
// experiment fills that panel's form with the settings it needs, and
// Escape hides a glossary definition shown on hover or focus.
import { fmt } from './format.js';

/** send puts a message on the page's websocket. */
function send(msg) {
  window.conclab?.send(msg);
}

/** setTick marks a tick (web/ui's tick component) done or not. */
function setTick(span, done) {
  if (!span) return;
  span.dataset.done = String(done);
  span.setAttribute('aria-label', done ? 'done' : 'not yet');
  span.textContent = done ? '✓' : '○';
}

function para(cls, text, strong) {
  const p = document.createElement('p');
  p.className = cls;
  if (strong) {
    const b = document.createElement('strong');
    b.textContent = strong;
    p.append(b, ' ');
  }
  p.append(text);
  return p;
}

/** Form is one question's form: a self-check question, or an exercise's. */
class Form {
  constructor(form) {
    this.form = form;
    this.id = form.dataset.questionId;
    this.kind = form.dataset.kind;
    this.fieldset = form.querySelector('fieldset');
    this.error = form.querySelector('.form-error');
    this.button = form.querySelector('button.answer-send');
    if (!this.fieldset.disabled) this.button.disabled = false;
    form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
  }

  /** value is the answer in the form, or throws why there is none. */
  value() {
    if (this.kind === 'choice') {
      const r = this.form.querySelector('input[type="radio"]:checked');
      if (!r) throw new Error('Choose one of the answers first.');
      return Number(r.value);
    }
    const input = this.form.querySelector('input[type="number"]');
    const v = input.valueAsNumber;
    if (Number.isNaN(v) || v < +input.min || v > +input.max) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      throw new Error(`Enter a number from ${input.min} to ${input.max}.`);
    }
    input.removeAttribute('aria-invalid');
    return v;
  }

  submit() {
    let value;
    try { value = this.value(); } catch (e) { this.showError(e.message); return; }
    this.error.hidden = true;
    this.fieldset.disabled = true;
    send({ op: 'answer', question: this.id, value });
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  /** refused takes the server's error: the form may be answered again. */
  refused(message) {
    this.fieldset.disabled = false;
    this.showError(message);
  }

  /** lock shows the answer kept and locks the form. */
  lock(value) {
    this.fieldset.disabled = true;
    if (this.kind === 'choice') {
      const r = this.form.querySelector(`input[type="radio"][value="${value}"]`);
      if (r) r.checked = true;
    } else {
      this.form.querySelector('input[type="number"]').value = String(value);
    }
  }

  /** answerText is an answer as the learner gave it. */
  answerText(value) {
    if (this.kind === 'choice') {
      const r = this.form.querySelector(`input[type="radio"][value="${value}"]`);
      return r ? r.parentElement.textContent.trim() : String(value);
    }
    const unit = this.form.querySelector('.unit')?.textContent ?? '';
    return `${fmt(value)}${unit ? ' ' + unit : ''}`;
  }
}

/** verdict is the line that says right or wrong. */
function verdict(form, correct, value) {
  const p = para('answer-verdict', `You answered ${form.answerText(value)}.`, correct ? 'Right.' : 'Not quite.');
  p.dataset.correct = String(correct);
  return p;
}

function answered(m) {
  const li = document.querySelector(`li.question[data-question="${CSS.escape(m.question)}"]`);
  if (!li) return;
  const form = forms.get(m.question);
  form.lock(m.value);
  li.toggleAttribute('data-answered', true);
  li.toggleAttribute('data-correct', m.correct);
  const out = [verdict(form, m.correct, m.value), para('explanation', m.explanation)];
  if (m.again) out.unshift(para('note', 'You had answered this before; your first answer is the one that counts.'));
  if (!m.kept) out.push(para('note', 'This answer could not be saved on the server; it shows here only.'));
  li.querySelector('.answer-result').replaceChildren(...out);
  tally();
}

function exerciseState(m) {
  const art = document.querySelector(`article.exercise[data-exercise="${CSS.escape(m.exercise)}"]`);
  if (!art) return;
  const form = forms.get(m.exercise);
  m.needs.forEach((n, i) => {
    const li = art.querySelector(`li.need[data-need="${i}"]`);
    if (!li) return;
    li.toggleAttribute('data-done', n.done);
    setTick(li.querySelector('.tick'), n.done);
    const a = li.querySelector('.need-run');
    a.hidden = !n.run;
    if (n.run) a.href = `/runs/${encodeURIComponent(n.run)}`;
  });
  const out = [para('exercise-state', m.message)];
  if (m.answered) form.lock(m.value);
  if (m.done) {
    art.toggleAttribute('data-done', true);
    setTick(art.querySelector('h3 .tick'), true);
    out.push(verdict(form, m.correct, m.value), para('explanation', m.explanation));
  } else if (m.answered) {
    out.push(para('kept', `Your answer: ${form.answerText(m.value)}.`));
  }
  art.querySelector('.answer-result').replaceChildren(...out);
  tally();
}

/** tally brings the lesson header's counts up to date. */
function tally() {
  const count = (sel, attr) => {
    const a = document.querySelector(sel);
    if (!a) return;
    a.dataset[attr] = String(document.querySelectorAll(attr === 'done' ? 'article.exercise[data-done]' : 'li.question[data-correct]').length);
    const of = a.dataset.of;
    const n = a.dataset[attr];
    setTick(a.querySelector('.tick'), n === of);
    a.querySelector('.tally-text').textContent = attr === 'done' ? `Exercises: ${n} of ${of} done` : `Self-check: ${n} of ${of} right`;
  };
  count('[data-testid="tally-exercises"]', 'done');
  count('[data-testid="tally-questions"]', 'right');
}

/** fillPanel sets a panel's form to the values an exercise needs. */
function fillPanel(link) {
  const exp = link.closest('li.need').dataset.experiment;
  let params;
  try { params = JSON.parse(link.dataset.params || '{}'); } catch { return; }
  for (const [name, value] of Object.entries(params)) {
    const input = document.getElementById(`${exp}--${name}`);
    if (!input) continue;
    if (input.type === 'checkbox') input.checked = Boolean(value);
    else input.value = String(value);
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }
}

/** dismissTerms lets Escape hide a definition shown on hover or focus,
 *  until the pointer or the focus leaves it. */
function dismissTerms() {
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    for (const t of document.querySelectorAll('.term:hover, .term:focus-within')) t.dataset.dismissed = 'true';
  });
  const restore = (e) => {
    const t = e.target.closest?.('.term');
    if (t && !t.contains(e.relatedTarget)) delete t.dataset.dismissed;
  };
  document.addEventListener('mouseout', restore);
  document.addEventListener('focusout', restore);
}

const forms = new Map();

function main() {
  dismissTerms();
  for (const f of document.querySelectorAll('form.answer-form')) {
    const form = new Form(f);
    forms.set(form.id, form);
  }
  if (forms.size === 0) return;
  for (const a of document.querySelectorAll('a.need-set')) a.addEventListener('click', () => fillPanel(a));
  document.addEventListener('lab:message', (e) => {
    const m = e.detail;
    if (m.type === 'answered') answered(m);
    else if (m.type === 'exercise') exerciseState(m);
    else if (m.type === 'error' && (m.op === 'answer' || m.op === 'exercise')) {
      forms.get(m.question || m.exercise)?.refused(m.message);
    } else return;
    e.preventDefault();
  });
  // A run that ended may be one an exercise needs: ask how each open
  // exercise that names its experiment stands now.
  document.addEventListener('lab:done', (e) => {
    if (e.detail.status !== 'ok' || e.detail.restored) return; // a run shown again was counted when it ended
    for (const art of document.querySelectorAll('article.exercise:not([data-done])')) {
      if (art.querySelector(`li.need[data-experiment="${CSS.escape(e.detail.experiment)}"]`)) {
        send({ op: 'exercise', exercise: art.dataset.exercise });
      }
    }
  });
}

main();

package lessons_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestAnExerciseAndTheSelfCheckInBrowser does one exercise the way a
// learner would — predicts, goes to the panel its link fills, runs it —
// and sees its answer open from that run; answers the self-check, right
// and wrong; finds all of it kept after a reload; and opens a glossary
// definition from the keyboard.
func TestAnExerciseAndTheSelfCheckInBrowser(t *testing.T) {
	b := e2e.NewBrowser(t, 120*time.Second)
	srv := startStoredServer(t)
	b.Do(t, chromedp.Navigate(srv.URL+"/lessons/context-switching"))
	panel := `document.querySelector('[data-experiment="yield-batching"]')`
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)

	// Predict first: the answer is kept, the explanation stays closed.
	ex := `document.querySelector('[data-exercise="cs-ex-batch"]')`
	e2e.Eval[chromedp.Void](t, b, ex+`.querySelector('input[type="radio"][value="3"]').click()`)
	e2e.Eval[chromedp.Void](t, b, ex+`.querySelector('button.answer-send').click()`)
	b.WaitFor(t, "the prediction kept", ex+`.querySelector('.exercise-state').textContent.includes('Your answer is kept')`)
	if e2e.Eval[bool](t, b, ex+`.querySelector('.explanation') !== null`) {
		t.Fatal("the exercise's explanation opened before its run existed")
	}

	// Its link leads to the panel; a short run of it is one the exercise takes.
	e2e.Eval[chromedp.Void](t, b, ex+`.querySelector('a.need-set').click()`)
	b.WaitFor(t, "the page at the panel", `location.hash === '#exp-yield-batching'`)
	b.Do(t, chromedp.SetValue(chromedp.ID("yield-batching--items"), "10000"),
		chromedp.SetValue(chromedp.ID("yield-batching--budget"), "100"))
	e2e.Eval[chromedp.Void](t, b, panel+`.querySelector('button.run').click()`)
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)
	b.WaitFor(t, "the exercise done", ex+`.hasAttribute('data-done')`)
	explanation := e2e.Eval[string](t, b, ex+`.querySelector('.explanation').textContent`)
	if !strings.Contains(explanation, "Your run, goroutines, items per second:") || !strings.Contains(explanation, "items/s") {
		t.Errorf("the explanation is not written from the run: %q", explanation)
	}
	if v := e2e.Eval[string](t, b, ex+`.querySelector('.answer-verdict').dataset.correct`); v != "true" && v != "false" {
		t.Errorf("the exercise's verdict is %q", v)
	}
	if !e2e.Eval[bool](t, b, ex+`.querySelector('a.need-run').hidden === false`) {
		t.Error("the exercise does not link the run that counted")
	}
	b.WaitFor(t, "the header's count", `document.querySelector('[data-testid="tally-exercises"]').textContent.includes('1 of 4 done')`)

	// The self-check: a right choice, a right number, a wrong choice.
	answer := func(q, js string) {
		e2e.Eval[chromedp.Void](t, b, `(() => { const li = document.querySelector('[data-question="`+q+`"]'); `+js+`; li.querySelector('button.answer-send').click(); })()`)
		b.WaitFor(t, "the answer to "+q, `document.querySelector('[data-question="`+q+`"]').hasAttribute('data-answered')`)
	}
	answer("cs-q-saves", `li.querySelector('input[value="0"]').click()`)
	answer("cs-q-roundtrip", `const n = li.querySelector('input[type="number"]'); n.value = '2'; n.dispatchEvent(new Event('input'))`)
	answer("cs-q-across", `li.querySelector('input[value="0"]').click()`)
	for q, right := range map[string]bool{"cs-q-saves": true, "cs-q-roundtrip": true, "cs-q-across": false} {
		li := `document.querySelector('[data-question="` + q + `"]')`
		if got := e2e.Eval[string](t, b, li+`.querySelector('.answer-verdict').dataset.correct`); got != map[bool]string{true: "true", false: "false"}[right] {
			t.Errorf("%s: judged %s, want right=%v", q, got, right)
		}
		if e2e.Eval[string](t, b, li+`.querySelector('.explanation').textContent`) == "" {
			t.Errorf("%s: no explanation", q)
		}
	}
	b.WaitFor(t, "the header's count", `document.querySelector('[data-testid="tally-questions"]').textContent.includes('2 of 6 right')`)

	// All of it is kept: a reload shows it from the store.
	b.Do(t, chromedp.Reload())
	b.WaitFor(t, "the page again", `document.querySelector('[data-exercise="cs-ex-batch"]') !== null`)
	if !e2e.Eval[bool](t, b, ex+`.hasAttribute('data-done') && `+ex+`.querySelector('.explanation').textContent === `+jsString(explanation)) {
		t.Error("after a reload the exercise is not shown done with the same explanation")
	}
	if !e2e.Eval[bool](t, b, `document.querySelector('[data-question="cs-q-saves"] fieldset').disabled && document.querySelector('[data-question="cs-q-saves"] input[value="0"]').checked`) {
		t.Error("after a reload the answered question is not shown locked with its answer")
	}

	// A glossary definition opens on keyboard focus and closes on Escape.
	tip := `getComputedStyle(document.getElementById('tip-tlb')).display`
	if got := e2e.Eval[string](t, b, tip); got != "none" {
		t.Errorf("the definition of TLB shows before anything points at it (display %s)", got)
	}
	e2e.Eval[chromedp.Void](t, b, `document.querySelector('a[data-term="tlb"]').focus()`)
	if got := e2e.Eval[string](t, b, tip); got == "none" {
		t.Error("the definition of TLB does not open on keyboard focus")
	}
	if got := e2e.Eval[string](t, b, `document.querySelector('a[data-term="tlb"]').getAttribute('aria-describedby')`); got != "tip-tlb" {
		t.Errorf("the term's link is described by %q, want its definition", got)
	}
	b.Do(t, chromedp.KeyEvent("\u001b"))
	if got := e2e.Eval[string](t, b, tip); got != "none" {
		t.Error("Escape does not close the definition")
	}
	b.NoErrors(t)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}

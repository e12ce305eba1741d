package lessons_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestAssigningInBrowser: the instructor assigns a self-check question
// from the dashboard, with the keyboard; a following student on another
// lesson is brought to it and answers; the dashboard counts the answer
// and shows it in its table.
func TestAssigningInBrowser(t *testing.T) {
	instructor := e2e.NewBrowser(t, 90*time.Second)
	ann := instructor.NewPerson(t)
	srv := startStoredServer(t)
	instructor.Do(t, chromedp.Navigate(srv.URL+"/class?key="+srv.App.InstructorKey))
	instructor.WaitFor(t, "the dashboard", `document.querySelector('[data-testid="assign-form"]') !== null`)
	ann.Do(t, chromedp.Navigate(srv.URL+"/lessons/processes-vs-threads"))
	ann.WaitFor(t, "ann's websocket to connect", `window.conclab !== undefined && window.conclab.open === true`)
	instructor.WaitFor(t, "the dashboard to count ann", `document.querySelector('[data-testid="learners"]').textContent === '1'`)

	// Choose with the keyboard: the lesson, then the question, then Enter.
	instructor.Do(t, chromedp.Focus(`#assign-lesson`))
	e2e.Eval[chromedp.Void](t, instructor, `(() => { const s = document.querySelector('#assign-lesson'); s.value = 'context-switching'; s.dispatchEvent(new Event('change')); })()`)
	if n := e2e.Eval[int](t, instructor, `[...document.querySelector('#assign-what').options].filter((o) => !o.hidden && o.dataset.lesson !== 'context-switching').length`); n != 0 {
		t.Errorf("%d things of other lessons are offered for context-switching", n)
	}
	e2e.Eval[chromedp.Void](t, instructor, `document.querySelector('#assign-what').value = 'question:cs-q-saves'`)
	instructor.Do(t, chromedp.Focus(`[data-testid="assign"]`), chromedp.KeyEvent("\r"))
	instructor.WaitFor(t, "the dashboard to confirm", `document.querySelector('[data-testid="assign-status"]').textContent.startsWith('Assigned')`)
	ann.WaitFor(t, "ann's page to go to the question", `location.pathname === '/lessons/context-switching' && location.hash === '#q-cs-q-saves'`)
	instructor.WaitFor(t, "the tally, empty", `document.querySelector('[data-testid="assignment"] .tally-line')?.dataset.answered === '0'`)

	ann.WaitFor(t, "ann's websocket to connect again", `window.conclab !== undefined && window.conclab.open === true`)
	e2e.Eval[chromedp.Void](t, ann, `(() => { const li = document.getElementById('q-cs-q-saves'); li.querySelector('input[value="1"]').click(); li.querySelector('button.answer-send').click(); })()`)
	ann.WaitFor(t, "ann's answer", `document.getElementById('q-cs-q-saves').hasAttribute('data-answered')`)
	instructor.WaitFor(t, "the dashboard to count ann's answer", `document.querySelector('[data-testid="assignment"] .tally-line').dataset.answered === '1'`)
	counts := e2e.Eval[[]string](t, instructor, `[...document.querySelectorAll('[data-testid="assignment"] .tally-table tbody tr td:nth-of-type(1)')].map((td) => td.textContent)`)
	if len(counts) < 2 || counts[1] != "1" {
		t.Errorf("the tally's table counts %v; want ann's one answer on the second choice", counts)
	}
	if !e2e.Eval[bool](t, instructor, `document.querySelector('[data-testid="assignment"] .tally-table tbody tr:first-child').hasAttribute('data-right')`) {
		t.Error("the right choice is not marked in the tally")
	}
	for _, b := range []*e2e.Browser{instructor, ann} {
		b.NoErrors(t)
	}
}

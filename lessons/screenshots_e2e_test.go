package lessons_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"conclab/internal/e2e"
)

// TestScreenshots takes the pictures in docs/: the index, and the
// context-switching lesson in the middle of a run of switch-cost and after
// it, each in light mode, dark mode and on a 390-px phone. It runs only
// when asked, since what it measures ends up in the pictures:
//
//	CONCLAB_SCREENSHOTS=$PWD/docs go test ./lessons -run TestScreenshots -v
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("CONCLAB_SCREENSHOTS")
	if dir == "" {
		t.Skip("set CONCLAB_SCREENSHOTS to a directory to take the screenshots")
	}
	b := e2e.NewBrowser(t, 5*time.Minute)
	srv := startStoredServer(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d KB", path, len(png)>>10)
	}
	// views are the three ways the pictures are taken, each followed by
	// what puts the page in place for it.
	type view struct {
		name  string
		dark  bool
		width int64
	}
	views := []view{{"light", false, 1280}, {"dark", true, 1280}, {"phone", false, 390}}
	each := func(name string, place func()) {
		t.Helper()
		for _, v := range views {
			b.ColorScheme(t, v.dark)
			scale, height := 1.0, int64(860)
			if v.width < 600 {
				scale, height = 2, 844
			}
			b.Do(t, chromedp.EmulateViewport(v.width, height, chromedp.EmulateScale(scale)))
			place()
			b.WaitFor(t, "the charts drawn at their width", chartsFit)
			shot(name + "-" + v.name)
		}
	}

	open(t, b, srv.URL+"/")
	each("index", func() { e2e.Eval[chromedp.Void](t, b, `window.scrollTo(0, 0)`) })

	panel := panelOf("switch-cost")
	open(t, b, srv.URL+"/lessons/context-switching")
	b.WaitFor(t, "the websocket to connect", panel+`.querySelector('button.run').disabled === false`)
	e2e.Eval[chromedp.Void](t, b, panel+`.querySelector('button.guess-skip-all').click()`)
	b.Do(t, chromedp.Click(chromedp.CSS(`[data-experiment="switch-cost"] button.run`)))
	// Mid-run: the progress bar part way, points on the live chart, the
	// histogram not drawn yet.
	b.WaitFor(t, "the run well under way", panel+`.querySelector('.status').dataset.state === 'running' && `+panel+`.querySelectorAll('[data-chart="batches"] path.line').length >= 3`)
	top := func(sel string) func() {
		return func() {
			e2e.Eval[chromedp.Void](t, b, `(() => { const e = `+panel+`.querySelector('`+sel+`'); window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 12); })()`)
		}
	}
	each("lesson-running", func() {
		top(".actions")()
		if e2e.Eval[string](t, b, panel+`.querySelector('.status').dataset.state`) != "running" {
			t.Fatal("the run ended before its pictures were taken")
		}
	})
	b.WaitFor(t, "the run to finish", panel+`.querySelector('.status').dataset.state === 'finished'`)
	each("lesson-finished", top(".actions"))
	b.NoErrors(t)
}

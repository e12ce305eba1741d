package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Violation is one rule axe-core found broken, with the elements that
// break it.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// String is the violation as a test reports it: the rule, and where.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 5 {
			fmt.Fprintf(&b, "\n    …and %d more", len(v.Nodes)-5)
			break
		}
		html := n.HTML
		if len(html) > 160 {
			html = html[:160] + "…"
		}
		fmt.Fprintf(&b, "\n    %v %s", n.Target, html)
	}
	return b.String()
}

var axeSource = sync.OnceValues(func() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot find the e2e package's directory")
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", "axe-core", "axe.min.js"))
	return string(b), err
})

// Axe runs axe-core, read from the copy in this package's testdata (no
// network), on the tab's page as it is now, and returns what it finds
// wrong. The page's own Content-Security-Policy does not apply to a
// script the test evaluates.
func (b *Browser) Axe(t testing.TB) []Violation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	if !Eval[bool](t, b, `typeof window.axe === 'object'`) {
		if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("load axe-core: %v", err)
		}
	}
	// Every WCAG 2.x A and AA rule and axe's best practices; the
	// experimental rules are left out.
	const run = `axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } })
		.then((r) => r.violations)`
	vs, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]Violation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return vs
}

// ColorScheme makes the tab's pages see prefers-color-scheme: dark, or
// light, as a browser set to that mode would.
func (b *Browser) ColorScheme(t testing.TB, dark bool) {
	t.Helper()
	v := "light"
	if dark {
		v = "dark"
	}
	p := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}}}
	if _, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, p); err != nil {
		t.Fatalf("emulate %s mode: %v", v, err)
	}
}

// Phone makes the tab a phone's screen, width CSS pixels wide (390 is a
// common phone); 0 puts the desktop window back.
func (b *Browser) Phone(t testing.TB, width int64) {
	t.Helper()
	var err error
	if width == 0 {
		_, err = chromedp.Call(b.Ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
	} else {
		err = chromedp.Do(b.Ctx, chromedp.EmulateViewport(width, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait))
	}
	if err != nil {
		t.Fatalf("emulate a phone: %v", err)
	}
}

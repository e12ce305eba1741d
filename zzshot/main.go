// Throwaway: screenshots of page elements for checking layout by eye.
// usage: zzshot URL SELECTOR OUT [dark|light] [width] [js]
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

func main() {
	url, sel, out := os.Args[1], os.Args[2], os.Args[3]
	width := int64(1280)
	if len(os.Args) > 5 {
		fmt.Sscan(os.Args[5], &width)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	steps := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(width, 1000)}
	if err := chromedp.Do(ctx, steps...); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if len(os.Args) > 4 && os.Args[4] == "dark" {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
			fmt.Println(err)
		}
	}
	steps = []chromedp.Action[chromedp.Void]{chromedp.Navigate(url), chromedp.Sleep(1500 * time.Millisecond)}
	if err := chromedp.Do(ctx, steps...); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if len(os.Args) > 6 {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](os.Args[6])); err != nil {
			fmt.Println(err)
		}
		chromedp.Do(ctx, chromedp.Sleep(1500*time.Millisecond))
	}
	chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+"`"+sel+"`"+`).scrollIntoView()`))
	chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond))
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	os.WriteFile(out, buf, 0o644)
}

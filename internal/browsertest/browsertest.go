// Package browsertest starts the one headless Chromium that a package's
// real-browser tests share, and gives each test a tab of its own. A machine
// without Chromium fails the tests loudly (make test installs it as root).
package browsertest

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// Browser is a package's shared Chromium, started by the first Tab.
type Browser struct {
	// UA is the user agent every tab sends: an ordinary browser's, as a
	// real visitor's ("HeadlessChrome" is on the maintained bot list).
	UA string
	// Extra are further Chromium options of the package.
	Extra []chromedp.ExecAllocatorOption

	once sync.Once
	ctx  context.Context
	err  error
}

// Tab returns a new tab in a browser context of its own: no cookies or
// storage shared between tests (every test site is 127.0.0.1).
func (b *Browser) Tab(t testing.TB) (context.Context, context.CancelFunc) {
	t.Helper()
	b.once.Do(b.start)
	if b.err != nil {
		t.Fatal(b.err)
	}
	tab, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil {
		cancel()
		t.Fatalf("new tab: %v", err)
	}
	return tab, cancel
}

func (b *Browser) start() {
	path, err := exec.LookPath("chromium")
	if err != nil {
		b.err = fmt.Errorf("the browser tests need Chromium: apt-get install -y chromium (make test installs it as root): %w", err)
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// Without these Chromium reaches for the network, which this
		// machine refuses.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserAgent(b.UA),
	)
	opts = append(opts, b.Extra...)
	alloc, _ := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, _ := chromedp.NewContext(alloc)
	b.err = chromedp.Do(ctx) // starts the browser; no timeout on this context
	b.ctx = ctx
}

// Close stops the browser, if it was started (from TestMain).
func (b *Browser) Close() {
	if b.ctx != nil {
		chromedp.Cancel(b.ctx)
	}
}

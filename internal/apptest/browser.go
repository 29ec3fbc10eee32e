package apptest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's Chromium; LIVECHECK_CHROMIUM overrides it.
func ChromiumPath() string {
	if p := os.Getenv("LIVECHECK_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// BrowserOptions configure a headless Chromium.
type BrowserOptions struct {
	// VideoFile and AudioFile feed the fake camera (.y4m) and microphone (.wav).
	VideoFile, AudioFile string
	// Timeout bounds the whole browser session; 3 minutes when zero.
	Timeout time.Duration
	// Script, when set, is evaluated in every new document of the first tab
	// before the page's own scripts (Page.addScriptToEvaluateOnNewDocument):
	// a test can replace browser APIs, e.g. the camera, without hooks in the page.
	Script string
	// Netns runs the browser in that network namespace: it reaches the server
	// over the namespace's link only (see Netns).
	Netns *Netns
	// SecureOrigin is treated as a secure context although it is plain HTTP on
	// an address other than loopback (camera and microphone need one).
	SecureOrigin string
}

// NewBrowser starts headless Chromium with a fresh profile and returns a context
// for chromedp actions. The browser is stopped when the test ends. A missing
// Chromium fails the test: `make test` installs it.
func NewBrowser(t testing.TB, o BrowserOptions) context.Context {
	t.Helper()
	if _, err := exec.LookPath(ChromiumPath()); err != nil {
		t.Fatalf("apptest: Chromium not found at %s (run `make test`, which installs it): %v", ChromiumPath(), err)
	}
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath()),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	if o.VideoFile != "" {
		opts = append(opts, chromedp.Flag("use-file-for-fake-video-capture", o.VideoFile))
	}
	if o.AudioFile != "" {
		opts = append(opts, chromedp.Flag("use-file-for-fake-audio-capture", o.AudioFile))
	}
	if o.SecureOrigin != "" {
		opts = append(opts, chromedp.Flag("unsafely-treat-insecure-origin-as-secure", o.SecureOrigin))
	}
	if o.Netns != nil {
		opts = append(opts, chromedp.ExecPath(o.Netns.chromiumWrapper(t.TempDir())))
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Start the browser now, without a deadline on the first Run (a deadline there stops the browser).
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		acancel()
		t.Fatalf("apptest: start Chromium: %v", err)
	}
	if o.Script != "" {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: o.Script}); err != nil {
			cancel()
			acancel()
			t.Fatalf("apptest: add the document script: %v", err)
		}
	}
	tctx, tcancel := context.WithTimeout(ctx, o.Timeout)
	t.Cleanup(func() {
		tcancel()
		cancel()
		acancel()
	})
	return tctx
}

// NewTab opens a new tab in a fresh browser context (no shared cookies) of the
// same browser as parent.
func NewTab(t testing.TB, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("apptest: new browser context: %v", err)
	}
	return ctx
}

// WaitLoaded waits until the page and all its images have loaded, so that
// clicks do not land on a layout that is still shifting.
func WaitLoaded(ctx context.Context) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise((resolve) => {
		if (document.readyState === "complete") resolve(true);
		else addEventListener("load", () => resolve(true), { once: true });
	})`, chromedp.EvalAwaitPromise))
	return err
}

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/models"
)

// overflowProbe lists what sticks out sideways on the page: the page itself
// when it scrolls sideways, and every visible element that reaches past the
// content box of its card (of the viewport outside cards). What lies inside a
// box that scrolls or clips (a wide table on a phone) is that box's business,
// and screen-reader-only text is left out.
const overflowProbe = `(() => {
  const vw = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > vw + 1) out.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " px wide in " + vw);
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\s+/).join(".") : "");
  for (const e of document.querySelectorAll("body *")) {
    if (e.closest(".sr, .skip, script, style, option")) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    let box = null, clipped = false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") { clipped = true; break; }
      if (a.classList.contains("card")) { box = a; break; }
    }
    if (clipped) continue;
    let left = 0, right = vw, where = "the viewport";
    if (box) {
      const b = box.getBoundingClientRect(), cs = getComputedStyle(box);
      left = b.left + box.clientLeft + parseFloat(cs.paddingLeft); right = b.left + box.clientLeft + box.clientWidth - parseFloat(cs.paddingRight);
      where = name(box) + " (inside its padding)";
    }
    if (r.left < left - 1 || r.right > right + 1)
      out.push(name(e) + " spans " + Math.round(r.left) + "-" + Math.round(r.right) + " px, " + where + " " + Math.round(left) + "-" + Math.round(right));
  }
  return JSON.stringify(out);
})()`

// overflows runs overflowProbe in the tab.
func overflows(p tab) []string {
	p.t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(eval[string](p, overflowProbe)), &out); err != nil {
		p.t.Fatal(err)
	}
	return out
}

// screenWidths are a desktop and a phone (390 px, an iPhone 12 to 15).
var screenWidths = []struct {
	name string
	vp   chromedp.Action[chromedp.Void]
}{
	{"1280", chromedp.EmulateViewport(1280, 900)},
	{"390", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)},
}

// checkFits shows the page at each screen width and fails the test for
// everything that sticks out of its card or of the viewport. With
// LIVECHECK_SCREENSHOTS=dir it writes each width's whole page there as
// NAME-WIDTH.png.
func checkFits(p tab, name string) {
	p.t.Helper()
	dir := os.Getenv("LIVECHECK_SCREENSHOTS")
	for _, w := range screenWidths {
		if err := chromedp.Do(p.ctx, w.vp); err != nil {
			p.t.Fatal(err)
		}
		if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise)); err != nil {
			p.t.Fatal(err)
		}
		for _, o := range overflows(p) {
			p.t.Errorf("%s at %s px: %s", name, w.name, o)
		}
		if dir == "" {
			continue
		}
		b, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			p.t.Fatalf("screenshot of %s: %v", name, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			p.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+w.name+".png"), b, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
	if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		p.t.Fatal(err)
	}
}

// TestInterviewPageFitsPhone: the recruiter's interview page — with the
// one-time join link just after scheduling, and with the reference photo
// form before and after a photo is attached — fits a 390 px wide phone
// (nothing sticks out of its card or makes the page scroll sideways) and a
// desktop, where the reference form stays on one row; so do the form that
// schedules it and the dashboard (whose table scrolls in its own box). The
// probe itself is shown to catch an element wider than its card.
func TestInterviewPageFitsPhone(t *testing.T) {
	env := apptest.New(t, apptest.Options{})
	rec := env.CreateUser(models.RoleRecruiter)
	ctx := apptest.NewBrowser(t, apptest.BrowserOptions{Timeout: 4 * time.Minute})
	r := tab{t: t, ctx: ctx, name: "recruiter"}
	if err := chromedp.Do(ctx, signIn(env, rec), chromedp.Navigate(env.URL+"/interviews/new"), chromedp.WaitVisible(chromedp.CSS("#candidate_name")),
		chromedp.SendKeys(chromedp.CSS("#candidate_name"), "Katherine Coleman Goble Johnson"),
		chromedp.SendKeys(chromedp.CSS("#candidate_email"), "katherine.coleman.goble.johnson@candidate.test"),
	); err != nil {
		t.Fatalf("recruiter opens the form: %v", err)
	}
	checkFits(r, "interview-new")
	eval[bool](r, `document.getElementById("scheduled_at").value = "2030-05-01T18:00", true`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#join-link")),
		chromedp.WaitVisible(chromedp.CSS("#reference-photo"))); err != nil {
		t.Fatalf("recruiter schedules the interview: %v", err)
	}
	checkFits(r, "interview-scheduled")

	// The probe catches an element wider than its card (set through the
	// CSSOM: the page's CSP allows no inline style).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	eval[bool](r, `(() => { const d = document.createElement("div"); d.id = "too-wide"; d.style.width = "600px"; d.style.height = "4px";
		document.getElementById("reference").appendChild(d); return true })()`)
	if got := strings.Join(overflows(r), "\n"); !strings.Contains(got, "div#too-wide spans") {
		t.Errorf("the probe missed a 600 px element in a card at 390 px: %q", got)
	}
	eval[bool](r, `document.getElementById("too-wide").remove(), true`)

	iv := latestInterview(t, env)
	photo, err := filepath.Abs("../../testdata/faces/obama.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/interviews/%d", env.URL, iv.ID)), chromedp.WaitVisible(chromedp.CSS("#reference-photo"))); err != nil {
		t.Fatal(err)
	}
	checkFits(r, "interview-no-reference")
	// On a desktop the reference form is one row: label, file input, button.
	row := `(() => { const t = (s) => document.querySelector(s).getBoundingClientRect();
		const l = t("#reference-form label"), i = t("#reference-photo"), b = t("#reference-attach");
		return Math.abs((l.top + l.bottom) - (i.top + i.bottom)) < 4 && Math.abs((i.top + i.bottom) - (b.top + b.bottom)) < 4 && l.right <= i.left && i.right <= b.left })()`
	if !eval[bool](r, row) {
		t.Errorf("at 1280 px the reference form is not one row: %s", eval[string](r, `JSON.stringify(["#reference-form label", "#reference-photo", "#reference-attach"].map((s) => document.querySelector(s).getBoundingClientRect()))`))
	}

	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#reference-photo"), []string{photo}), chromedp.Click(chromedp.CSS("#reference-attach"))); err != nil {
		t.Fatalf("recruiter attaches the photo: %v", err)
	}
	r.waitText("#reference-state", "A reference photo is attached", statusWait)
	if err := apptest.WaitLoaded(ctx); err != nil {
		t.Fatal(err)
	}
	r.waitTrue(`(() => { const i = document.getElementById("reference-img"); return !i || i.complete && i.naturalWidth > 0 })()`, statusWait)
	checkFits(r, "interview-reference")
	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.list"))); err != nil {
		t.Fatal(err)
	}
	checkFits(r, "dashboard")
}

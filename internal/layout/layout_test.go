package layout

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/livecheck/livecheck/"

// rule forbids a package, and everything it imports, to depend on the
// packages listed (import paths relative to the module, or full paths
// outside it). A prefix ending in "/" forbids a whole tree.
type rule struct {
	pkg    string
	forbid []string
	why    string
	// pending rules are reported, not enforced, until the change that
	// satisfies them is merged.
	pending string
}

var rules = []rule{
	{pkg: "internal/room", forbid: []string{"internal/analysis", "internal/detect", "internal/challenge", "internal/vision", "internal/risk",
		"internal/verdict", "internal/store", "gocv.io/x/gocv"},
		why: "the room only relays: peers, negotiation, relay and the control channel; analysis is injected"},
	{pkg: "internal/detect", forbid: []string{"gocv.io/x/gocv", "internal/media", "internal/vision", "internal/analysis"},
		why: "the passive detectors are pure: frames and observations in, signals out"},
	{pkg: "internal/analysis", forbid: []string{"internal/room", "internal/verdict", "internal/store", "internal/httpapi", "github.com/pion/webrtc/"},
		why: "the analysis takes frames and audio through sinks and knows neither the room, the database nor the verdict"},
	{pkg: "internal/verdict", forbid: []string{"internal/room", "internal/httpapi", "github.com/pion/webrtc/"},
		why: "the verdict judges results; it relays nothing and serves no page"},
	{pkg: "internal/dsp", forbid: []string{mod}, why: "the maths package depends on the standard library only"},
	{pkg: "internal/writeq", forbid: []string{mod}, why: "the write queue knows nothing of what it writes"},
	{pkg: "models", forbid: []string{mod + "internal/", "github.com/", "gocv.io/"}, why: "shared types depend on the standard library only"},
	{pkg: "internal/loadgen", forbid: []string{"internal/httpapi", "internal/room", "internal/store", "github.com/gin-gonic/gin"},
		why: "the load generator is a client: it speaks the API, it does not link the server"},
	{pkg: "internal/redteam", forbid: []string{"internal/httpapi", "internal/room", "internal/store", "internal/analysis", "internal/challenge", "github.com/gin-gonic/gin"},
		why: "the red team is a client like loadgen: it sees only the prompts, never the server's plan or verifiers"},
	{pkg: "internal/app", forbid: []string{"internal/redteam", "internal/loadgen"},
		why: "the red team and the load generator are measurement tools, never used by the server"},
}

// TestDependencyRules runs `go list -deps` on each package of the rules and
// fails on a forbidden dependency.
func TestDependencyRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go tool is not on PATH")
	}
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+r.pkg).Output()
			if err != nil {
				t.Fatalf("go list %s: %v", r.pkg, err)
			}
			for _, dep := range strings.Fields(string(out)) {
				if dep == mod+r.pkg {
					continue
				}
				for _, f := range r.forbid {
					if forbidden(dep, f) {
						msg := r.pkg + " depends on " + dep + ": " + r.why
						if r.pending != "" {
							t.Logf("pending (%s): %s", r.pending, msg)
							continue
						}
						t.Error(msg)
					}
				}
			}
		})
	}
}

func forbidden(dep, f string) bool {
	if !strings.Contains(f, ".") { // relative to the module
		f = mod + f
	}
	if strings.HasSuffix(f, "/") {
		return strings.HasPrefix(dep, f)
	}
	return dep == f || strings.HasPrefix(dep, f+"/")
}

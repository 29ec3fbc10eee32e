package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/redteam"
)

// TestRedteamFrom: the stored results of two chunks of a run print as one table (rows merged,
// counts added), and a file that is not a run's JSON is refused by name.
func TestRedteamFrom(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, rs ...redteam.Result) string {
		b, err := json.Marshal(map[string]any{"results": rs})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.json",
		redteam.Result{Scenario: "honest", Params: "p", Status: "completed", Verified: true},
		redteam.Result{Scenario: "photo", Params: "q", Attack: true, Status: "flagged"})
	b := write("b.json", redteam.Result{Scenario: "honest", Params: "p", Status: "flagged"})
	var out, errb bytes.Buffer
	merged := filepath.Join(dir, "all.json")
	if err := cmdRedteam([]string{"--from", a + "," + b, "--json", merged}, &out, &errb, func(string) string { return "" }); err != nil {
		t.Fatalf("--from: %v (%s)", err, errb.String())
	}
	if !strings.Contains(out.String(), "| honest | p | 2 | 1 | 1 | BPCER 50 % |") || !strings.Contains(out.String(), "| photo | q | 1 | 0 | 1 | APCER 0 % |") {
		t.Fatalf("table:\n%s", out.String())
	}
	var doc struct {
		Results []redteam.Result `json:"results"`
	}
	if raw, err := os.ReadFile(merged); err != nil || json.Unmarshal(raw, &doc) != nil || len(doc.Results) != 3 {
		t.Fatalf("merged JSON: %d results (%v)", len(doc.Results), err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte("{\"table\": []}"), 0o644)
	err := cmdRedteam([]string{"--from", bad}, &out, &errb, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("a file without results: %v", err)
	}
}

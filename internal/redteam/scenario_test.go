package redteam

import "testing"

// TestScenarioSelection: "swap/MODE" selects one failure mode at its table setting and
// "swap/MODE_mild" its mildest setting; an unknown name is an error.
func TestScenarioSelection(t *testing.T) {
	all, err := Scenarios([]string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range all {
		if seen[s.Label()] {
			t.Errorf("two rows labelled %q", s.Label())
		}
		seen[s.Label()] = true
	}
	for _, c := range []struct {
		sel     string
		dropOut int
		variant string
	}{{"swap/dropout", 8, ""}, {"swap/dropout_mild", 2, "mild"}, {"swap/yaw_break_mild", 4, "mild"}} {
		got, err := Scenarios([]string{c.sel})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].DropOut != c.dropOut || got[0].Variant != c.variant {
			t.Errorf("%s selected %+v", c.sel, got)
		}
	}
	if got, _ := Scenarios([]string{"swap/fps_drop_mild"}); len(got) != 1 || got[0].FPSDrop != 0.2 {
		t.Errorf("swap/fps_drop_mild selected %+v", got)
	}
	if got, _ := Scenarios([]string{"swap/fps_repeat"}); len(got) != 1 || got[0].FPSRepeat != 0.2 || got[0].FPSDrop != 0 {
		t.Errorf("swap/fps_repeat selected %+v", got)
	}
	if got, _ := Scenarios([]string{"honest/darker"}); len(got) != 1 || got[0].Look.Albedo != 0.4 || got[0].Attack {
		t.Errorf("honest/darker selected %+v", got)
	}
	if got, _ := Scenarios([]string{"honest/dim"}); len(got) != 1 || got[0].Bitrate != 400 {
		t.Errorf("honest/dim selected %+v", got)
	}
	if got, _ := Scenarios([]string{"honest"}); len(got) != 3 {
		t.Errorf("honest selected %d rows, want 3", len(got))
	}
	if _, err := Scenarios([]string{"swap/nothing"}); err == nil {
		t.Error("an unknown scenario was accepted")
	}
}

// TestSwapperDropout: the dropping swap shows the operator's face for the first DropOut frames
// of the hand and the DropOut frames after it left, and the pasted face otherwise (the hold
// included), as its documentation says; a second cover starts a new failure.
func TestSwapperDropout(t *testing.T) {
	w := &swapper{sc: Scenario{Swap: "dropout", DropOut: 2}}
	hands := []float64{0, 0, 0.5, 0.8, 1, 1, 1, 1, 0.6, 0.2, 0, 0, 0, 0, 0, 0.5, 1, 1, 1, 0, 0, 0, 0}
	want := "PPOOPPPPPOOPPPPOOPPOOPP" // P: the pasted face, O: the operator's
	got := ""
	for _, h := range hands {
		st := State{Hand: h}
		if w.frame(&st) {
			got += "P"
		} else {
			got += "O"
		}
	}
	if got != want {
		t.Errorf("frames %s, want %s", got, want)
	}
}

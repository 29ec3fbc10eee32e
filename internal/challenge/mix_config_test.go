package challenge

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/config"
	"github.com/livecheck/livecheck/models"
)

// TestDefaultMixIsConfigDefault: the documented default of LIVECHECK_CHALLENGE_MIX is
// DefaultMix, so the server and the plan's own documentation agree.
func TestDefaultMixIsConfigDefault(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		if k == "LIVECHECK_DATABASE_URL" {
			return "postgres://x@127.0.0.1/x"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]Kind
	for _, g := range cfg.ChallengeMix {
		var group []Kind
		for _, k := range g {
			group = append(group, Kind(k))
		}
		got = append(got, group)
	}
	if !reflect.DeepEqual(got, DefaultMix()) {
		t.Fatalf("LIVECHECK_CHALLENGE_MIX defaults to %v, DefaultMix is %v", got, DefaultMix())
	}
}

// TestMixSetting: LIVECHECK_CHALLENGE_MIX parses into groups, "none" leaves no groups (an
// empty value is the default), and an unknown kind in a group is a clear error.
func TestMixSetting(t *testing.T) {
	load := func(mix string) *config.Config {
		cfg, err := config.Load(func(k string) string {
			switch k {
			case "LIVECHECK_DATABASE_URL":
				return "postgres://x@127.0.0.1/x"
			case "LIVECHECK_CHALLENGE_MIX":
				return mix
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if got := load("turn_head ; blink, flash;").ChallengeMix; !reflect.DeepEqual(got, [][]string{{"turn_head"}, {"blink", "flash"}}) {
		t.Errorf("two groups: got %q", got)
	}
	if got := load("none").ChallengeMix; got != nil {
		t.Errorf("none: got %q, want no groups", got)
	}
	if got := load("").ChallengeMix; len(got) != len(DefaultMix()) {
		t.Errorf("empty: got %q, want the default", got)
	}
	if _, err := ParseKinds([]string{"blink", "wink"}); err == nil || !errors.Is(err, models.ErrInvalid) || !strings.Contains(err.Error(), `"wink"`) {
		t.Errorf("unknown kind: %v, want ErrInvalid naming it", err)
	}
	if got, err := ParseKinds([]string{"blink", "flash"}); err != nil || !reflect.DeepEqual(got, []Kind{KindBlink, KindFlash}) {
		t.Errorf("known kinds: %v, %v", got, err)
	}
}

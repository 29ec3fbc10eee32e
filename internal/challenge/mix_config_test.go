package challenge

import (
	"reflect"
	"testing"

	"github.com/livecheck/livecheck/internal/config"
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

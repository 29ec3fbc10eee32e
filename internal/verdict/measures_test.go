package verdict

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/livecheck/livecheck/internal/analysis"
	"github.com/livecheck/livecheck/internal/store"
)

// TestUnreadablePartQuotesNoValue: a stored part that does not decode is left out with an
// error that names the part and the problem but never a value from it (the parts hold face
// series and landmarks; the error goes to the log). encoding/json's own message would quote
// the number ("cannot unmarshal number 31.5 …"); a syntax error is located by offset only.
func TestUnreadablePartQuotesNoValue(t *testing.T) {
	good, err := json.Marshal(&analysis.Measures{V: analysis.MeasuresVersion, Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"v": 1, "yaw": 31.5}`,               // a number where the series is
		`{"v": 31.5}`,                         // a fraction where the version is
		`{"v": 1, "yaw": [{"t": 1, "v": 31.5`, // cut off after a value
	} {
		rec := &store.Checkpoint{InterviewID: 7, Parts: []json.RawMessage{good, json.RawMessage(bad)}}
		m, err := measures(rec)
		if m == nil {
			t.Fatalf("%s: the readable part was dropped too", bad)
		}
		if !errors.Is(err, analysis.ErrMeasures) || !strings.Contains(err.Error(), "part 2 of 2") {
			t.Fatalf("%s: error %v, want ErrMeasures naming part 2 of 2", bad, err)
		}
		if strings.Contains(err.Error(), "31.5") {
			t.Fatalf("%s: error %q quotes a stored value", bad, err)
		}
	}
}

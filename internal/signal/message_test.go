package signal

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := []string{
		`{"t":"answer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}`,
		`{"t":"candidate","candidate":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.2 54321 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"t":"candidate","candidate":{"candidate":""}}`,
		`{"t":"leave"}`, `{"t":"end"}`, `{"t":"challenge_now"}`,
	}
	for _, g := range good {
		if _, err := Parse([]byte(g)); err != nil {
			t.Errorf("Parse(%s): %v", g, err)
		}
	}
	bad := map[string]string{
		"not json":        `{"t":`,
		"no type":         `{}`,
		"unknown type":    `{"t":"offer","sdp":"v=0"}`,
		"unknown field":   `{"t":"leave","x":1}`,
		"empty sdp":       `{"t":"answer"}`,
		"not sdp":         `{"t":"answer","sdp":"hello"}`,
		"no candidate":    `{"t":"candidate"}`,
		"bad candidate":   `{"t":"candidate","candidate":{"candidate":"typ host"}}`,
		"newline in cand": `{"t":"candidate","candidate":{"candidate":"candidate:1\r\na=x"}}`,
		"trailing":        `{"t":"leave"}{"t":"leave"}`,
		"array":           `[1,2]`,
		"oversized":       `{"t":"answer","sdp":"v=0` + strings.Repeat("a", MaxMessageSize) + `"}`,
	}
	for name, b := range bad {
		if _, err := Parse([]byte(b)); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: got %v, want ErrBadMessage", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"t":"answer","sdp":"v=0\r\n"}`,
		`{"t":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMLineIndex":0}}`,
		`{"t":"leave"}`, `{"t":"end"}`, `{"t":"challenge_now"}`, `{}`, `null`, `{"t":"answer","sdp":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error does not wrap ErrBadMessage: %v", err)
			}
			return
		}
		switch m.T {
		case TypeAnswer:
			if !strings.HasPrefix(m.SDP, "v=0") {
				t.Fatal("accepted answer without SDP")
			}
		case TypeCandidate:
			if m.Candidate == nil {
				t.Fatal("accepted candidate without candidate")
			}
		case TypeLeave, TypeEnd, TypeChallenge:
		default:
			t.Fatalf("accepted unknown type %q", m.T)
		}
	})
}

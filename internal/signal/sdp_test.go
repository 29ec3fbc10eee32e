package signal

import (
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v3"
)

// FuzzAnswerSDP feeds client answers through Parse and then into a real pion
// PeerConnection that has an outstanding offer: malformed SDP must give an
// error, never a panic or a hang.
func FuzzAnswerSDP(f *testing.F) {
	f.Add("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	f.Add("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=mid:0\r\n")
	f.Add("v=0\r\nm=audio")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse([]byte(`{"t":"answer","sdp":` + quote(s) + `}`))
		if err != nil {
			return
		}
		var sd sdp.SessionDescription
		_ = sd.Unmarshal([]byte(m.SDP))
		pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Skip(err)
		}
		defer pc.Close()
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := pc.SetLocalDescription(offer); err != nil {
			t.Fatal(err)
		}
		_ = pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
	})
}

func quote(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r < 0x20:
			b = append(b, []byte(`\u00`)...)
			b = append(b, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&15])
		default:
			b = append(b, []byte(string(r))...)
		}
	}
	return string(append(b, '"'))
}

// Package rtc builds livecheck's pion/webrtc API: VP8 and Opus only, NACK and
// RTCP report interceptors, and the ICE settings of the deployment.
package rtc

import (
	"fmt"
	"net"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v3"
)

// Payload types offered by the server.
const (
	PayloadTypeVP8  = 96
	PayloadTypeOpus = 111
)

// Config are the ICE and transport settings.
type Config struct {
	ICEServers      []webrtc.ICEServer
	NAT1To1IPs      []string
	UDPPortMin      uint16
	UDPPortMax      uint16
	IncludeLoopback bool
}

// VP8Codec and OpusCodec are the only codecs negotiated.
var (
	VP8Codec = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}},
		PayloadType: PayloadTypeVP8,
	}
	OpusCodec = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        PayloadTypeOpus,
	}
)

// NewAPI returns a webrtc API that negotiates VP8 and Opus only, with mDNS
// disabled and the configured NAT mapping, port range and candidates.
func NewAPI(cfg Config) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(VP8Codec, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("rtc: register VP8: %w", err)
	}
	if err := me.RegisterCodec(OpusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("rtc: register Opus: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, fmt.Errorf("rtc: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if cfg.UDPPortMin != 0 || cfg.UDPPortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("rtc: UDP port range: %w", err)
		}
	}
	if len(cfg.NAT1To1IPs) > 0 {
		for _, ip := range cfg.NAT1To1IPs {
			if net.ParseIP(ip) == nil {
				return nil, fmt.Errorf("rtc: NAT 1:1 address %q is not an IP", ip)
			}
		}
		se.SetNAT1To1IPs(cfg.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// ICEServers turns URL lists and credentials into webrtc ICE servers.
func ICEServers(urls []string, username, credential string) []webrtc.ICEServer {
	if len(urls) == 0 {
		return nil
	}
	var out []webrtc.ICEServer
	for _, u := range urls {
		s := webrtc.ICEServer{URLs: []string{u}}
		if len(u) > 5 && (u[:5] == "turn:" || u[:6] == "turns:") {
			s.Username, s.Credential = username, credential
		}
		out = append(out, s)
	}
	return out
}

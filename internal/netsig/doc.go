// Package netsig turns network and device facts about a candidate's connection
// into risk signals: ICE candidates and the selected pair, HTTP versus media IP,
// TURN relay use, round-trip time against the physics of the claimed and the
// geolocated location, GeoIP country and network type, the browser's time zone,
// languages and automation flag, virtual camera and microphone labels, and the
// reuse of an IP, browser or device fingerprint across candidates (face reuse
// is internal/faceid's identity_reuse).
//
// Every check is a pure function of constructed inputs (the only I/O is reading
// MaxMind-format databases) and returns a models.Signal whose Reason says, in
// words a reviewer understands, what was measured and why it matters. A check
// that could not be evaluated (missing input) returns ok == false; a check that
// was evaluated and found nothing returns a signal with Score 0, so the reviewer
// console can show what was checked.
//
// Browser claims are evidence, not proof: scores stay moderate where honest
// candidates can trip a check (travel, expatriates, corporate VPNs, satellite
// links) and the reasons say so.
package netsig

// Signal kinds emitted by this package. They are prefixed (net_, env_, device_,
// reuse_) so they never collide with the video and audio detectors' kinds.
const (
	KindIPMismatch        = "net_ip_mismatch"       // HTTP/WebSocket IP differs from the media (ICE) IP
	KindTURNRelay         = "net_turn_relay"        // media relayed through TURN, or only relay candidates offered
	KindRTTClaimed        = "net_rtt_claimed"       // RTT far above what the claimed city allows
	KindRTTGeoIP          = "net_rtt_geoip"         // RTT below what the geolocated IP physically allows
	KindGeoIPCountry      = "net_geoip_country"     // IP country differs from the claimed country
	KindHostingASN        = "net_hosting_asn"       // IP belongs to a hosting / VPN network (ASN heuristic)
	KindAnonymizer        = "net_anonymizer"        // IP flagged by an anonymous-IP database (VPN, Tor, proxy)
	KindTimeZoneClaimed   = "env_timezone_claimed"  // browser time zone vs claimed country
	KindTimeZoneIP        = "env_timezone_ip"       // browser time zone vs IP country
	KindTimeZoneOffset    = "env_timezone_offset"   // Intl time zone and Date offset disagree (spoofing)
	KindLanguage          = "env_language"          // browser languages vs claimed country
	KindWebDriver         = "env_webdriver"         // navigator.webdriver: the browser is automated
	KindPlatform          = "env_platform"          // navigator.platform contradicts the user agent
	KindVirtualCamera     = "device_virtual_camera" // a virtual camera is in use or installed
	KindVirtualMicrophone = "device_virtual_mic"    // a virtual audio device is in use or installed
	KindVoiceChanger      = "device_voice_changer"  // a voice changer is in use or installed
	KindReuseIP           = "reuse_ip"              // same IP seen for a different candidate
	KindReuseBrowser      = "reuse_browser"         // same browser cookie seen for a different candidate
	KindReuseFingerprint  = "reuse_fingerprint"     // same device fingerprint seen for a different candidate
)

package netsig

import (
	"fmt"
	"strings"

	"github.com/livecheck/livecheck/models"
)

// DeviceCategory classifies a virtual media device.
type DeviceCategory string

// Device categories.
const (
	CategoryCamera       DeviceCategory = "virtual_camera"
	CategoryMicrophone   DeviceCategory = "virtual_microphone"
	CategoryVoiceChanger DeviceCategory = "voice_changer"
)

// devicePattern is a phrase matched on whole words of a normalised label
// (lower case, punctuation as spaces: "CABLE Output (VB-Audio Virtual Cable)"
// → "cable output vb audio virtual cable"). category "" follows the device's
// kind (a product offering both a camera and a microphone). active is the score
// when the device is the track in use, present when it is only installed.
type devicePattern struct {
	phrase   string
	category DeviceCategory
	product  string
	active   float64
	present  float64
}

// devicePatterns: virtual cameras inject any video (a face-swap, a recording, an
// avatar); virtual audio devices inject any sound; voice changers alter the
// voice. Phrases are whole words so "Logitech BRIO" or "FaceTime HD Camera"
// never match. Products with honest mainstream uses (phone-as-webcam apps,
// noise suppression, OS loopback inputs) score lower.
var devicePatterns = []devicePattern{
	// Virtual cameras.
	{"obs virtual camera", CategoryCamera, "OBS Virtual Camera", 0.85, 0.2},
	{"obs virtualcam", CategoryCamera, "OBS VirtualCam", 0.85, 0.2},
	{"obs camera", CategoryCamera, "OBS-Camera", 0.85, 0.2},
	{"manycam", CategoryCamera, "ManyCam", 0.85, 0.2},
	{"xsplit", CategoryCamera, "XSplit VCam", 0.85, 0.2},
	{"snap camera", CategoryCamera, "Snap Camera", 0.85, 0.2},
	// iVCam is e2eSoft's phone-as-webcam app ("e2eSoft iVCam"): checked before e2eSoft's VCam.
	{"ivcam", CategoryCamera, "iVCam (phone as webcam)", 0.5, 0.05},
	{"e2esoft", CategoryCamera, "e2eSoft VCam", 0.85, 0.2},
	{"vcam", CategoryCamera, "VCam", 0.85, 0.2},
	{"camtwist", CategoryCamera, "CamTwist", 0.85, 0.2},
	{"mmhmm", CategoryCamera, "mmhmm", 0.7, 0.15},
	{"splitcam", CategoryCamera, "SplitCam", 0.85, 0.2},
	{"webcamoid", CategoryCamera, "Webcamoid", 0.85, 0.2},
	{"youcam", CategoryCamera, "CyberLink YouCam", 0.7, 0.15},
	{"altercam", CategoryCamera, "AlterCam", 0.85, 0.2},
	{"sparkocam", CategoryCamera, "SparkoCam", 0.85, 0.2},
	{"chromacam", CategoryCamera, "ChromaCam", 0.7, 0.15},
	{"avatarify", CategoryCamera, "Avatarify", 0.9, 0.3},
	{"logi capture", CategoryCamera, "Logi Capture", 0.6, 0.1},
	{"ndi webcam", CategoryCamera, "NDI Webcam", 0.85, 0.2},
	{"newtek ndi", CategoryCamera, "NewTek NDI", 0.85, 0.2},
	{"unity video capture", CategoryCamera, "Unity Video Capture", 0.85, 0.2},
	{"screen capture recorder", CategoryCamera, "screen-capture-recorder", 0.85, 0.2},
	{"dummy video device", CategoryCamera, "v4l2loopback", 0.85, 0.2},
	{"v4l2loopback", CategoryCamera, "v4l2loopback", 0.85, 0.2},
	{"fake webcam", CategoryCamera, "fake webcam", 0.9, 0.3},
	{"virtual camera", CategoryCamera, "a virtual camera", 0.85, 0.2},
	{"virtual webcam", CategoryCamera, "a virtual webcam", 0.85, 0.2},
	{"virtualcam", CategoryCamera, "a virtual camera", 0.85, 0.2},
	{"akvcam", CategoryCamera, "AkVirtualCamera (Webcamoid)", 0.85, 0.2},
	{"deepfacelive", CategoryCamera, "DeepFaceLive (real-time face swap)", 0.95, 0.5},
	{"deep live cam", CategoryCamera, "Deep-Live-Cam (real-time face swap)", 0.95, 0.5},
	{"facerig", CategoryCamera, "FaceRig (animated avatar)", 0.9, 0.3},
	{"animaze", CategoryCamera, "Animaze (animated avatar)", 0.9, 0.3},
	{"vtube studio", CategoryCamera, "VTube Studio (animated avatar)", 0.9, 0.3},
	{"streamlabs", CategoryCamera, "Streamlabs virtual webcam", 0.85, 0.2},
	{"wirecast", CategoryCamera, "Wirecast virtual camera", 0.85, 0.2},
	{"vmix", CategoryCamera, "vMix virtual camera", 0.85, 0.2},
	{"prism lens", CategoryCamera, "PRISM Lens virtual camera", 0.85, 0.2},
	{"camo", CategoryCamera, "Reincubate Camo (phone as webcam)", 0.4, 0.05},
	{"droidcam", CategoryCamera, "DroidCam (phone as webcam)", 0.4, 0.05},
	{"epoccam", CategoryCamera, "EpocCam (phone as webcam)", 0.4, 0.05},
	{"iriun", CategoryCamera, "Iriun (phone as webcam)", 0.4, 0.05},
	// Both kinds: AI effects (NVIDIA Broadcast's eye contact redraws the eyes).
	{"nvidia broadcast", "", "NVIDIA Broadcast", 0.6, 0.1},
	{"nvidia rtx voice", "", "NVIDIA RTX Voice", 0.3, 0.05},

	// Voice changers.
	{"voicemod", CategoryVoiceChanger, "Voicemod", 0.85, 0.35},
	{"clownfish", CategoryVoiceChanger, "Clownfish Voice Changer", 0.85, 0.35},
	{"voice ai", CategoryVoiceChanger, "Voice.ai", 0.85, 0.35},
	{"voiceai", CategoryVoiceChanger, "Voice.ai", 0.85, 0.35},
	{"morphvox", CategoryVoiceChanger, "MorphVOX", 0.85, 0.35},
	{"screaming bee", CategoryVoiceChanger, "MorphVOX (Screaming Bee)", 0.85, 0.35},
	{"av voice changer", CategoryVoiceChanger, "AV Voice Changer", 0.85, 0.35},
	{"avsoft", CategoryVoiceChanger, "AV Voice Changer (AVSoft)", 0.85, 0.35},
	{"voxal", CategoryVoiceChanger, "Voxal Voice Changer", 0.85, 0.35},
	{"magicmic", CategoryVoiceChanger, "iMyFone MagicMic", 0.85, 0.35},
	{"voicepea", CategoryVoiceChanger, "HitPaw VoicePea", 0.85, 0.35},
	{"finevoice", CategoryVoiceChanger, "FineVoice", 0.85, 0.35},
	{"supertone shift", CategoryVoiceChanger, "Supertone Shift", 0.85, 0.35},
	{"voice changer", CategoryVoiceChanger, "a voice changer", 0.85, 0.35},
	{"voicechanger", CategoryVoiceChanger, "a voice changer", 0.85, 0.35},
	{"hitpaw", CategoryVoiceChanger, "HitPaw voice changer", 0.85, 0.35},
	{"magicvox", CategoryVoiceChanger, "UnicTool MagicVox", 0.85, 0.35},
	{"voicewave", CategoryVoiceChanger, "EaseUS VoiceWave", 0.85, 0.35},
	{"altered studio", CategoryVoiceChanger, "Altered Studio", 0.85, 0.35},
	{"mmvc", CategoryVoiceChanger, "MMVC / w-okada voice changer", 0.85, 0.35},
	{"rvc", CategoryVoiceChanger, "RVC voice conversion", 0.85, 0.35},
	{"robovox", CategoryVoiceChanger, "RoboVox", 0.85, 0.35},

	// Virtual audio devices (can carry text-to-speech, recordings, changed voices).
	{"voicemeeter", CategoryMicrophone, "VoiceMeeter", 0.6, 0.1},
	{"vb audio", CategoryMicrophone, "VB-Audio Virtual Cable", 0.7, 0.1},
	{"vb cable", CategoryMicrophone, "VB-CABLE", 0.7, 0.1},
	{"cable output", CategoryMicrophone, "VB-CABLE", 0.7, 0.1},
	{"virtual audio cable", CategoryMicrophone, "Virtual Audio Cable", 0.7, 0.1},
	{"blackhole", CategoryMicrophone, "BlackHole", 0.7, 0.1},
	{"soundflower", CategoryMicrophone, "Soundflower", 0.7, 0.1},
	{"loopback audio", CategoryMicrophone, "Rogue Amoeba Loopback", 0.7, 0.1},
	{"virtual microphone", CategoryMicrophone, "a virtual microphone", 0.7, 0.1},
	{"virtual mic", CategoryMicrophone, "a virtual microphone", 0.7, 0.1},
	{"steam streaming microphone", CategoryMicrophone, "Steam Streaming Microphone", 0.6, 0.05},
	{"stereo mix", CategoryMicrophone, "Stereo Mix (the computer's own output)", 0.7, 0},
	{"what u hear", CategoryMicrophone, "What U Hear (the computer's own output)", 0.7, 0},
	{"monitor of", CategoryMicrophone, "a PulseAudio monitor (the computer's own output)", 0.7, 0},
	{"krisp", CategoryMicrophone, "Krisp noise suppression", 0.2, 0},

	// Generic giveaways, after every product name (first match wins): test and
	// loopback drivers, streaming software, and labels that say what they are.
	// Chromium's own fake devices ("fake_device_0", "Fake Default Audio Input")
	// are what an automated browser with injected media reports.
	{"fake", "", "a fake device", 0.9, 0.3},
	{"dummy", "", "a dummy device", 0.85, 0.2},
	{"loopback", "", "a loopback device", 0.8, 0.15},
	{"obs", "", "OBS Studio", 0.85, 0.2},
	{"ffmpeg", "", "an FFmpeg stream", 0.85, 0.2},
	{"gstreamer", "", "a GStreamer stream", 0.85, 0.2},
	{"virtual", "", "a virtual device", 0.85, 0.2},
}

// filePattern is the match for a label that is a file path or a media file's
// name: a browser told to play a file as its camera or microphone (Chromium's
// --use-file-for-fake-video-capture) reports the file as the device.
var filePattern = devicePattern{phrase: "", product: "a media file played as a device", active: 0.95, present: 0.3}

// mediaExts are extensions of files a browser or a virtual device can play as a source.
var mediaExts = []string{".y4m", ".mjpeg", ".mjpg", ".mp4", ".webm", ".mkv", ".mov", ".avi", ".wav", ".mp3", ".ogg", ".flac", ".gif"}

// looksLikeFile reports whether a label is a file path (/…, ~/…, C:\…, \server\…,
// file:…) or ends in a media file extension. No camera or microphone is named so.
func looksLikeFile(label string) bool {
	l := strings.ToLower(strings.TrimSpace(label))
	if l == "" {
		return false
	}
	if strings.HasPrefix(l, "/") || strings.HasPrefix(l, "~/") || strings.HasPrefix(l, `\\`) || strings.HasPrefix(l, "file:") ||
		len(l) > 2 && l[1] == ':' && (l[2] == '\\' || l[2] == '/') && l[0] >= 'a' && l[0] <= 'z' {
		return true
	}
	for _, ext := range mediaExts {
		if strings.HasSuffix(l, ext) {
			return true
		}
	}
	return false
}

// normLabel lower-cases a device label and turns punctuation into single spaces.
func normLabel(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// VirtualDevice is a device label recognised as virtual.
type VirtualDevice struct {
	Label    string
	Product  string
	Category DeviceCategory
	Active   bool // the track in use, not only installed
	Score    float64
}

// MatchVirtualDevice recognises a virtual camera, microphone or voice changer
// from a device label (case and punctuation ignored, whole words only). kind is
// the enumerateDevices kind ("videoinput", "audioinput"); it decides the
// category of products offering both. Score is that of an installed device.
func MatchVirtualDevice(label, kind string) (VirtualDevice, bool) {
	p, cat, ok := matchPattern(label, kind)
	if !ok {
		return VirtualDevice{}, false
	}
	return VirtualDevice{Label: label, Product: p.product, Category: cat, Score: p.present}, true
}

func matchPattern(label, kind string) (*devicePattern, DeviceCategory, bool) {
	n := normLabel(label)
	if strings.TrimSpace(n) == "" {
		return nil, "", false
	}
	byKind := func(cat DeviceCategory) DeviceCategory {
		if cat != "" {
			return cat
		}
		if kind == "videoinput" {
			return CategoryCamera
		}
		return CategoryMicrophone
	}
	if looksLikeFile(label) {
		return &filePattern, byKind(""), true
	}
	for i := range devicePatterns {
		p := &devicePatterns[i]
		if strings.Contains(n, " "+p.phrase+" ") {
			return p, byKind(p.category), true
		}
	}
	return nil, "", false
}

// VirtualDevices lists the environment's virtual devices: the camera and
// microphone tracks in use (Active) and every other video or audio input.
func VirtualDevices(env Environment) []VirtualDevice {
	var out []VirtualDevice
	seen := map[string]bool{}
	add := func(label, kind string, active bool) {
		if label == "" || seen[label] {
			return
		}
		p, cat, ok := matchPattern(label, kind)
		if !ok {
			return
		}
		seen[label] = true
		v := VirtualDevice{Label: label, Product: p.product, Category: cat, Active: active, Score: p.present}
		if active {
			v.Score = p.active
		}
		out = append(out, v)
	}
	add(env.Video.Label, "videoinput", true)
	add(env.Audio.Label, "audioinput", true)
	for _, d := range env.Devices {
		if d.Kind == "videoinput" || d.Kind == "audioinput" {
			add(d.Label, d.Kind, false)
		}
	}
	return out
}

// CheckDevices returns one signal per category (virtual camera, virtual
// microphone, voice changer) when the report has device labels: the highest
// scoring match and every label in the reason, or Score 0 when none matched.
// Value is 1 when a matching device is in use, 0.5 when only installed, else 0.
// A virtual device merely installed scores low: streamers and podcasters have
// them; using one in an interview is what matters.
func CheckDevices(env Environment) []models.Signal {
	labelled := env.Video.Label != "" || env.Audio.Label != ""
	for _, d := range env.Devices {
		labelled = labelled || d.Label != ""
	}
	if !labelled {
		return nil
	}
	found := VirtualDevices(env)
	var out []models.Signal
	for _, cat := range []struct {
		c    DeviceCategory
		kind string
		noun string
	}{
		{CategoryCamera, KindVirtualCamera, "virtual camera"},
		{CategoryMicrophone, KindVirtualMicrophone, "virtual audio input"},
		{CategoryVoiceChanger, KindVoiceChanger, "voice changer"},
	} {
		sg := models.Signal{Kind: cat.kind, Confidence: 0.8}
		var parts []string
		for _, v := range found {
			if v.Category != cat.c {
				continue
			}
			state := "installed"
			if v.Active {
				state = "IN USE"
				sg.Value = 1
			} else if sg.Value == 0 {
				sg.Value = 0.5
			}
			parts = append(parts, fmt.Sprintf("%q (%s, %s)", v.Label, v.Product, state))
			sg.Score = max(sg.Score, v.Score)
		}
		switch {
		case len(parts) == 0:
			sg.Confidence = 0.5 // labels can be renamed
			sg.Reason = fmt.Sprintf("No known %s among the device labels.", cat.noun)
		case sg.Value == 1:
			sg.Reason = fmt.Sprintf("The candidate's %s is a %s: %s. It can feed any picture or sound instead of the real one.",
				map[bool]string{true: "camera", false: "audio input"}[cat.c == CategoryCamera], cat.noun, strings.Join(parts, "; "))
		default:
			sg.Reason = fmt.Sprintf("A %s is installed but not in use: %s.", cat.noun, strings.Join(parts, "; "))
		}
		out = append(out, sg)
	}
	return out
}

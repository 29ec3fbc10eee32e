package netsig

import (
	"strings"
	"testing"
)

func TestGenuineDevicesNeverMatch(t *testing.T) {
	for _, l := range []string{
		"FaceTime HD Camera", "FaceTime HD Camera (Built-in) (05ac:8514)", "Integrated Webcam", "Integrated Camera (04f2:b6d9)",
		"Logitech BRIO", "Logitech BRIO (046d:085e)", "HD Pro Webcam C920 (046d:082d)", "USB2.0 HD UVC WebCam (13d3:56a2)",
		"Microsoft® LifeCam HD-3000 (045e:0810)", "Razer Kiyo (1532:0e03)", "Elgato Facecam (0fd9:0078)", "OBSBOT Tiny 4K",
		"Insta360 Link", "HP TrueVision HD Camera", "Dell UltraSharp Webcam", "Lenovo FHD Webcam", "Integrated IR Camera",
		"AVerMedia Live Streamer CAM 313", "Camera (Camcorder Pro)", "MacBook Pro Microphone", "MacBook Air Microphone",
		"Microphone (Realtek(R) Audio)", "Default - Microphone Array (Intel® Smart Sound Technology for Digital Microphones)",
		"Headset Microphone (Jabra EVOLVE 20 MS)", "AirPods Pro", "Yeti Stereo Microphone (046d:0aaf)", "External Microphone",
		"Line In (Realtek High Definition Audio)", "USB Audio (Cable Matters Adapter)", "Built-in Audio Analog Stereo",
		"Microphone (Blue Snowball)", "Communications - Headset (Poly BT700)",
		"Logitech StreamCam (046d:0893)", "Logi C270 HD WebCam", "HD Webcam C525", "Surface Camera Front", "Microsoft Camera Rear",
		"Integrated_Webcam_HD (0bda:58f4)", "Lenovo EasyCamera (5986:0706)", "ASUS USB2.0 Webcam", "Chicony USB2.0 Camera (04f2:b5a7)",
		"Anker PowerConf C200", "Jabra PanaCast 20", "Poly Studio P5", "iPhone Camera", "Desk View Camera",
		"Default - MacBook Pro Microphone (Built-in)", "Microphone Array (Realtek(R) Audio)", "Headset (WH-1000XM4 Hands-Free AG Audio)",
		"Microphone (Samson Q2U Microphone)", "Microphone (Shure MV7)", "RØDE NT-USB Mini", "Microphone (USB Audio Device)",
		"Echo Cancelling Speakerphone (Jabra SPEAK 510 USB)", "Microphone (HyperX QuadCast)", "Microphone (Razer Seiren Mini)",
		"Elgato Wave:3", "Analog (1+2) (Focusrite Usb Audio)", "Headset Microphone (Plantronics Blackwire 3220 Series)",
		"Internal Microphone", "Built-in Microphone", "Microphone (Logitech BRIO)", "Default",
	} {
		for _, kind := range []string{"videoinput", "audioinput"} {
			if v, ok := MatchVirtualDevice(l, kind); ok {
				t.Errorf("genuine %q matched as %s (%s)", l, v.Category, v.Product)
			}
		}
	}
}

func TestVirtualDevicesMatch(t *testing.T) {
	for _, tc := range []struct {
		label, kind string
		want        DeviceCategory
	}{
		{"OBS Virtual Camera", "videoinput", CategoryCamera},
		{"obs-camera", "videoinput", CategoryCamera},
		{"ManyCam Virtual Webcam", "videoinput", CategoryCamera},
		{"XSplit VCam", "videoinput", CategoryCamera},
		{"Snap Camera", "videoinput", CategoryCamera},
		{"e2eSoft VCam", "videoinput", CategoryCamera},
		{"CamTwist", "videoinput", CategoryCamera},
		{"mmhmm Camera", "videoinput", CategoryCamera},
		{"Dummy video device (0x0000)", "videoinput", CategoryCamera},
		{"DroidCam Source 3", "videoinput", CategoryCamera},
		{"e2eSoft iVCam", "videoinput", CategoryCamera},
		{"NVIDIA Broadcast", "videoinput", CategoryCamera},
		{"Microphone (NVIDIA Broadcast)", "audioinput", CategoryMicrophone},
		{"CABLE Output (VB-Audio Virtual Cable)", "audioinput", CategoryMicrophone},
		{"VoiceMeeter Output (VB-Audio VoiceMeeter VAIO)", "audioinput", CategoryMicrophone},
		{"Line 1 (Virtual Audio Cable)", "audioinput", CategoryMicrophone},
		{"BlackHole 2ch", "audioinput", CategoryMicrophone},
		{"Stereo Mix (Realtek(R) Audio)", "audioinput", CategoryMicrophone},
		{"Monitor of Built-in Audio Analog Stereo", "audioinput", CategoryMicrophone},
		{"Microphone (Voicemod Virtual Audio Device (WDM))", "audioinput", CategoryVoiceChanger},
		{"Voice.ai Audio Cable", "audioinput", CategoryVoiceChanger},
		{"CLOWNFISH", "audioinput", CategoryVoiceChanger},
		{"Microphone (MorphVOX Audio Device)", "audioinput", CategoryVoiceChanger},
		// What an automated Chromium with injected media reports (--use-fake-device-for-media-stream,
		// --use-file-for-fake-video-capture), and other labels that give a source away.
		{"fake_device_0", "videoinput", CategoryCamera},
		{"Fake Default Audio Input", "audioinput", CategoryMicrophone},
		{"Fake Audio Input 1", "audioinput", CategoryMicrophone},
		{"/tmp/livecheck-fixtures/3f9c0a1e2b4d5c6f.y4m", "videoinput", CategoryCamera},
		{`C:\Users\op\Videos\face.y4m`, "videoinput", CategoryCamera},
		{"speech.wav", "audioinput", CategoryMicrophone},
		{"file:///home/op/clip.mjpeg", "videoinput", CategoryCamera},
		{"Dummy video device (0x0000)", "videoinput", CategoryCamera},
		{"Loopback PCM (hw:2,0)", "audioinput", CategoryMicrophone},
		{"OBS Studio Audio", "audioinput", CategoryMicrophone},
		{"VMware Virtual USB Video Device", "videoinput", CategoryCamera},
		{"Virtual Desktop Audio", "audioinput", CategoryMicrophone},
		{"DeepFaceLive", "videoinput", CategoryCamera},
		{"Animaze Virtual Camera", "videoinput", CategoryCamera},
		{"Streamlabs Desktop Virtual Webcam", "videoinput", CategoryCamera},
		{"FFmpeg v4l2 output", "videoinput", CategoryCamera},
		{"Microphone (HitPaw Virtual Audio)", "audioinput", CategoryVoiceChanger},
	} {
		v, ok := MatchVirtualDevice(tc.label, tc.kind)
		if !ok || v.Category != tc.want {
			t.Errorf("%q: %+v %v, want %s", tc.label, v, ok, tc.want)
		}
	}
}

func TestCheckDevices(t *testing.T) {
	real := []Device{{Kind: "videoinput", Label: "FaceTime HD Camera"}, {Kind: "audioinput", Label: "MacBook Pro Microphone"}, {Kind: "audiooutput", Label: "CABLE Input (VB-Audio Virtual Cable)"}}
	find := func(env Environment, kind string) (score, value float64, reason string) {
		for _, sg := range CheckDevices(env) {
			if sg.Kind == kind {
				return sg.Score, sg.Value, sg.Reason
			}
		}
		t.Fatalf("no %s signal", kind)
		return
	}
	t.Run("Clean", func(t *testing.T) {
		env := Environment{Devices: real, Video: Track{Label: "FaceTime HD Camera"}, Audio: Track{Label: "MacBook Pro Microphone"}}
		if n := len(CheckDevices(env)); n != 3 {
			t.Fatalf("%d signals, want one per category", n)
		}
		for _, k := range []string{KindVirtualCamera, KindVirtualMicrophone, KindVoiceChanger} {
			if s, v, _ := find(env, k); s != 0 || v != 0 {
				t.Fatalf("%s: score %v value %v (an audio *output* named CABLE Input must not count)", k, s, v)
			}
		}
	})
	t.Run("VirtualCameraInUse", func(t *testing.T) {
		env := Environment{Devices: append(real, Device{Kind: "videoinput", Label: "OBS Virtual Camera"}), Video: Track{Label: "OBS Virtual Camera"}, Audio: Track{Label: "MacBook Pro Microphone"}}
		s, v, r := find(env, KindVirtualCamera)
		if s != 0.85 || v != 1 || !strings.Contains(r, "IN USE") {
			t.Fatalf("%v %v %s", s, v, r)
		}
	})
	t.Run("InstalledOnly", func(t *testing.T) {
		env := Environment{Devices: append(real, Device{Kind: "videoinput", Label: "OBS Virtual Camera"}), Video: Track{Label: "FaceTime HD Camera"}}
		s, v, r := find(env, KindVirtualCamera)
		if s != 0.2 || v != 0.5 || !strings.Contains(r, "installed") {
			t.Fatalf("%v %v %s", s, v, r)
		}
	})
	t.Run("VoiceChangerInUse", func(t *testing.T) {
		vm := "Microphone (Voicemod Virtual Audio Device (WDM))"
		env := Environment{Devices: append(real, Device{Kind: "audioinput", Label: vm}), Audio: Track{Label: vm}}
		if s, v, _ := find(env, KindVoiceChanger); s != 0.85 || v != 1 {
			t.Fatalf("%v %v", s, v)
		}
		if s, _, _ := find(env, KindVirtualMicrophone); s != 0 {
			t.Fatalf("a voice changer is reported once, as a voice changer: %v", s)
		}
	})
	t.Run("PhoneWebcamScoresLow", func(t *testing.T) {
		env := Environment{Video: Track{Label: "e2eSoft iVCam"}}
		if s, v, r := find(env, KindVirtualCamera); s != 0.5 || v != 1 || !strings.Contains(r, "iVCam") {
			t.Fatalf("%v %v %s", s, v, r)
		}
	})
	t.Run("AutomatedBrowserInjectsFiles", func(t *testing.T) {
		// A headless Chromium told to play files as camera and microphone.
		cam, mic := "/tmp/livecheck-fixtures/3f9c0a1e2b4d5c6f.y4m", "Fake Default Audio Input"
		env := Environment{Devices: []Device{{Kind: "videoinput", Label: cam}, {Kind: "audioinput", Label: mic}}, Video: Track{Label: cam}, Audio: Track{Label: mic}}
		if s, v, r := find(env, KindVirtualCamera); s < 0.9 || v != 1 || !strings.Contains(r, "media file") || strings.Contains(r, "No known") {
			t.Fatalf("camera: %v %v %s", s, v, r)
		}
		if s, v, r := find(env, KindVirtualMicrophone); s < 0.85 || v != 1 || !strings.Contains(r, "fake device") {
			t.Fatalf("microphone: %v %v %s", s, v, r)
		}
	})
	t.Run("NoLabels", func(t *testing.T) {
		// Labels are empty until the page has camera permission: nothing to say.
		if sgs := CheckDevices(Environment{Devices: []Device{{Kind: "videoinput", Label: ""}}}); sgs != nil {
			t.Fatalf("%+v", sgs)
		}
	})
}

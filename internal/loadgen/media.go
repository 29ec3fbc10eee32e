package loadgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/livecheck/livecheck/internal/media"
)

// VideoFrame is one encoded VP8 frame of the looped file.
type VideoFrame struct {
	Data     []byte
	Keyframe bool
	Duration time.Duration // until the next frame
	TID      uint8         // temporal layer (with Media.Layers > 1), from the frame's refresh flags
	NonRef   bool          // the frame refreshes nothing (the top layer)
}

// Media is what every simulated candidate sends: encoded once, shared read-only.
type Media struct {
	Video     []VideoFrame
	Keyframes []int // indices of keyframes in Video (Video[0] is one)
	Width     int
	Height    int
	Audio     [][]byte // Opus packets of 20 ms each
	VideoPath string
	AudioPath string
	// Layers is the number of VP8 temporal layers the video was encoded with (0 or 1: none;
	// 2: L1T2; 3: L1T3). With layers the candidates write the RTP payload descriptor's
	// PictureID, TL0PICIDX and TID themselves (pion's payloader writes no TID).
	Layers int
}

// FPS is the video's mean frame rate.
func (m *Media) FPS() float64 {
	var total time.Duration
	for _, f := range m.Video {
		total += f.Duration
	}
	if total <= 0 {
		return 0
	}
	return float64(len(m.Video)) / total.Seconds()
}

// keyframeAtOrBefore returns the index of the last keyframe at or before i.
func (m *Media) keyframeAtOrBefore(i int) int {
	k := sort.SearchInts(m.Keyframes, i+1) - 1
	if k < 0 {
		return 0
	}
	return m.Keyframes[k]
}

// LoadMedia reads the VP8 IVF and the WAV. Empty paths are generated (and
// cached under the system temp directory): the video with ffmpeg from faceImage
// (640x480, 15 fps, 10 s, libvpx realtime, a keyframe every 5 s), the audio as
// a synthetic voice-like signal (no external tool).
func LoadMedia(videoPath, audioPath, faceImage string) (*Media, error) {
	return LoadMediaLayers(videoPath, audioPath, faceImage, 0)
}

// LoadMediaLayers is LoadMedia with VP8 temporal layers (2: L1T2, 3: L1T3; 0
// or 1: none, as LoadMedia): the default video is then encoded with the
// project's libvpx encoder (GenerateLayeredVideo), and each frame's layer is
// read from its header's refresh flags (a given file should have been encoded
// with as many layers).
func LoadMediaLayers(videoPath, audioPath, faceImage string, layers int) (*Media, error) {
	if layers < 0 || layers > 3 {
		return nil, fmt.Errorf("loadgen: %d temporal layers: want 0, 1, 2 or 3", layers)
	}
	var err error
	if videoPath == "" {
		if layers > 1 {
			videoPath, err = GenerateLayeredVideo(faceImage, layers)
		} else {
			videoPath, err = GenerateVideo(faceImage)
		}
		if err != nil {
			return nil, err
		}
	}
	m := &Media{VideoPath: videoPath, AudioPath: audioPath}
	if err := m.loadIVF(videoPath); err != nil {
		return nil, err
	}
	if layers > 1 {
		m.Layers = layers
		if err := m.setLayers(); err != nil {
			return nil, err
		}
	}
	var pcm *media.PCM
	if audioPath == "" {
		pcm = SyntheticVoice(10 * time.Second)
		m.AudioPath = "(synthetic voice-like signal)"
	} else {
		f, err := os.ReadFile(audioPath)
		if err != nil {
			return nil, fmt.Errorf("loadgen: audio: %w", err)
		}
		if pcm, err = media.ReadWAV(bytes.NewReader(f)); err != nil {
			return nil, fmt.Errorf("loadgen: audio %s: %w", audioPath, err)
		}
	}
	if m.Audio, err = encodeOpus(pcm); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Media) loadIVF(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("loadgen: video: %w", err)
	}
	r, err := media.NewIVFReader(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("loadgen: video %s: %w", path, err)
	}
	h := r.Header()
	if h.FourCC != "VP80" {
		return fmt.Errorf("loadgen: video %s: codec %q, want VP8 (VP80)", path, h.FourCC)
	}
	m.Width, m.Height = int(h.Width), int(h.Height)
	num, den := h.TimebaseNum, h.TimebaseDen
	if num == 0 || den == 0 {
		num, den = 1, 90000
	}
	var pts []uint64
	for {
		data, p, err := r.NextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("loadgen: video %s: %w", path, err)
		}
		if len(data) == 0 {
			continue
		}
		key := data[0]&1 == 0 // VP8 frame tag: P bit clear on keyframes
		if key {
			m.Keyframes = append(m.Keyframes, len(m.Video))
		}
		m.Video = append(m.Video, VideoFrame{Data: append([]byte(nil), data...), Keyframe: key})
		pts = append(pts, p)
	}
	if len(m.Video) == 0 {
		return fmt.Errorf("loadgen: video %s has no frames", path)
	}
	if !m.Video[0].Keyframe {
		return fmt.Errorf("loadgen: video %s does not start with a keyframe, so it cannot be looped", path)
	}
	unit := time.Duration(float64(time.Second) * float64(num) / float64(den))
	var gaps []time.Duration
	for i := 1; i < len(pts); i++ {
		if pts[i] > pts[i-1] {
			gaps = append(gaps, time.Duration(pts[i]-pts[i-1])*unit)
		}
	}
	median := time.Second / 15
	if len(gaps) > 0 {
		sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
		median = gaps[len(gaps)/2]
	}
	for i := range m.Video {
		d := median
		if i+1 < len(pts) && pts[i+1] > pts[i] {
			d = time.Duration(pts[i+1]-pts[i]) * unit
		}
		if d <= 0 || d > time.Second {
			d = median
		}
		m.Video[i].Duration = d
	}
	return nil
}

// setLayers sets each frame's temporal layer from its header: a frame that
// refreshes nothing is the top layer, one that refreshes the golden buffer
// but not the last is TL1 (L1T3), every other (keyframes too) TL0.
func (m *Media) setLayers() error {
	nonRef := 0
	var tr media.VP8DropTracker
	for i := range m.Video {
		f := &m.Video[i]
		r, err := media.ParseVP8Refresh(f.Data)
		if err != nil {
			return fmt.Errorf("loadgen: video frame %d: %w", i, err)
		}
		switch {
		case tr.Droppable(r):
			f.TID, f.NonRef = uint8(m.Layers-1), true
			nonRef++
			continue
		case m.Layers == 3 && r.Golden && !r.Last:
			f.TID = 1
		}
		tr.Decoded(r, nil)
	}
	if nonRef == 0 {
		return fmt.Errorf("loadgen: video %s has no frame of a top temporal layer (encode it with layers)", m.VideoPath)
	}
	return nil
}

// videoSource checks what generating the default video needs and returns the
// face image's absolute path and the ffmpeg filter that animates it (a slow
// zoom and sway, 640x480 at 15 fps): GenerateVideo and GenerateLayeredVideo
// render the same pictures.
func videoSource(faceImage string) (abs, vf string, err error) {
	if faceImage == "" {
		faceImage = "testdata/faces/astronaut.png"
	}
	if _, err := os.Stat(faceImage); err != nil {
		return "", "", fmt.Errorf("loadgen: no --video given and the face image for generating one is missing (%v); pass --video FILE.ivf or --face-image", err)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return "", "", errors.New("loadgen: no --video given and ffmpeg is not installed to generate one")
	}
	abs, _ = filepath.Abs(faceImage)
	vf = "scale=800:800,zoompan=z='1.0+0.002*on':x='iw/2-(iw/zoom/2)+20*sin(on/10)':y='ih/2-(ih/zoom/2)':d=1:s=640x480:fps=15,format=yuv420p"
	return abs, vf, nil
}

// videoCache names the cached file of a generated video by its recipe (a
// version tag, the face image's path and size, the ffmpeg arguments) and
// reports whether it is there already.
func videoCache(tag, abs string, args []string) (out string, cached bool, err error) {
	st, err := os.Stat(abs)
	if err != nil {
		return "", false, err
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d|%v", tag, abs, st.Size(), args)))
	dir := filepath.Join(os.TempDir(), "livecheck-loadgen")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, err
	}
	out = filepath.Join(dir, hex.EncodeToString(sum[:8])+".ivf")
	if st, err := os.Stat(out); err == nil && st.Size() > 0 {
		return out, true, nil
	}
	return out, false, nil
}

// GenerateLayeredVideo makes (once, cached) the default video like
// GenerateVideo, encoded by the project's libvpx encoder with temporal layers
// (media.VP8EncoderConfig.TemporalLayers; realtime, ~800 kbit/s, a keyframe
// every 75 frames).
func GenerateLayeredVideo(faceImage string, layers int) (string, error) {
	abs, vf, err := videoSource(faceImage)
	if err != nil {
		return "", err
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", abs, "-t", "10", "-r", "15", "-vf", vf, "-f", "yuv4mpegpipe", "-"}
	out, cached, err := videoCache(fmt.Sprintf("loadgen-video-layers-v1|%d", layers), abs, args)
	if err != nil || cached {
		return out, err
	}
	raw, err := exec.Command("ffmpeg", args...).Output()
	if err != nil {
		return "", fmt.Errorf("loadgen: ffmpeg: %v", err)
	}
	yr, err := media.NewY4MReader(bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("loadgen: ffmpeg's y4m: %w", err)
	}
	h := yr.Header()
	enc, err := media.NewVP8Encoder(media.VP8EncoderConfig{Width: h.Width, Height: h.Height, FPS: 15, BitrateKbps: 800,
		KeyframeMax: 75, TemporalLayers: layers})
	if err != nil {
		return "", err
	}
	defer enc.Close()
	var buf bytes.Buffer
	iw, err := media.NewIVFWriter(&buf, media.IVFHeader{FourCC: "VP80", Width: uint16(h.Width), Height: uint16(h.Height), TimebaseDen: 15, TimebaseNum: 1})
	if err != nil {
		return "", err
	}
	for i := 0; ; i++ {
		f, err := yr.NextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("loadgen: ffmpeg's y4m: %w", err)
		}
		data, _, err := enc.Encode(f, i%75 == 0)
		if err != nil {
			return "", err
		}
		if err := iw.WriteFrame(data, uint64(i)); err != nil {
			return "", err
		}
	}
	if err := iw.Close(); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

// encodeOpus encodes mono 48 kHz 20 ms packets (resampling and down-mixing as needed).
func encodeOpus(pcm *media.PCM) ([][]byte, error) {
	mono := pcm.Mono()
	if pcm.Rate != media.OpusSampleRate {
		mono = media.Resample(mono, pcm.Rate, media.OpusSampleRate)
	}
	enc, err := media.NewOpusEncoder(media.OpusSampleRate, 1)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	_ = enc.SetBitrate(32000)
	n := enc.FrameSamples()
	var out [][]byte
	for off := 0; off+n <= len(mono); off += n {
		p, err := enc.Encode(mono[off : off+n])
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("loadgen: audio shorter than 20 ms")
	}
	return out, nil
}

// SyntheticVoice returns d of 48 kHz mono audio that resembles speech in level
// and rhythm: a 140 Hz harmonic buzz in ~4 syllables per second with pauses.
func SyntheticVoice(d time.Duration) *media.PCM {
	const rate = 48000
	n := int(d.Seconds() * rate)
	s := make([]int16, n)
	for i := range s {
		t := float64(i) / rate
		f0 := 140 + 15*math.Sin(2*math.Pi*0.7*t)
		var v float64
		for h := 1; h <= 6; h++ {
			v += math.Sin(2*math.Pi*f0*float64(h)*t) / float64(h)
		}
		syl := math.Max(0, math.Sin(2*math.Pi*4*t)) // syllables
		phrase := 1.0
		if math.Mod(t, 3.5) > 2.8 { // a pause between phrases
			phrase = 0
		}
		s[i] = int16(6000 * v * syl * phrase)
	}
	return &media.PCM{Rate: rate, Channels: 1, Samples: s}
}

// GenerateVideo makes (once, cached by recipe) the default candidate video:
// a still portrait with a slow zoom and sway, 640x480 at 15 fps, 10 s, encoded
// like a browser would (libvpx realtime, ~800 kbit/s) with a keyframe every 5 s
// so that a keyframe request can be answered within the file.
func GenerateVideo(faceImage string) (string, error) {
	abs, vf, err := videoSource(faceImage)
	if err != nil {
		return "", err
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", abs, "-t", "10", "-r", "15", "-vf", vf,
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "800k", "-g", "75", "-keyint_min", "75", "-auto-alt-ref", "0", "-f", "ivf"}
	out, cached, err := videoCache("loadgen-video-v1", abs, args)
	if err != nil || cached {
		return out, err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	cmd := exec.Command("ffmpeg", append(args, tmp)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("loadgen: ffmpeg: %v: %s", err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

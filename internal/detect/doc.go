// Package detect holds livecheck's passive detectors: measures of the
// candidate's video (and, through internal/voice, audio) that need no
// cooperation and run through the whole interview. Each detector turns the
// analysed frames into scores over fixed windows (Config.Window, 4 s) and one
// session-level models.Signal {Kind, Score 0..1 forged-ness, Confidence,
// Value, Reason, At}. The risk engine (internal/risk) weighs the signals.
//
// # Use
//
// One Suite per session, fed by internal/analysis's session (live and
// offline alike) with what it already has:
//
//	s := detect.NewSuite(detect.Config{LiveCapture: true})
//	// decode goroutine, every decoded frame (cheap):
//	s.AddFrameTime(frame.Capture)
//	// analysis goroutine, every analysed frame, after vision.Analyzer.Measure:
//	s.Add(frame, obs)
//	// audio goroutine, every decoded 20 ms of 48 kHz mono PCM:
//	s.AddAudio(firstSampleTime, pcm)
//	// at any time, and when the session ends:
//	signals := s.Signals() // one per detector; store them, then risk.Score(signals, settings)
//	windows := s.Windows() // per-detector timeline, for reviewers
//
// A Suite is safe for concurrent use (video and audio take separate locks)
// and never keeps a frame past Add. The package is pure Go on frames and
// observations: it decodes nothing and measures no faces itself (that is
// internal/media's and internal/vision's work, driven by internal/analysis,
// whose AnalyzeFile runs the same chain on a recording).
//
// # Detectors and signal kinds
//
//   - seam: colour and texture step across curves just inside the face hull,
//     where a swap's blend boundary runs (seamDetector);
//   - texture: the face smoother than its surroundings (textureDetector);
//   - flicker: face luma/chroma changing frame to frame independently of the
//     scene (flickerDetector);
//   - landmark_jitter: eyes and nose trembling against each other
//     (jitterDetector);
//   - photo: rigid (affine) landmark motion, no expression change, no blink
//     (photoDetector);
//   - replay: a straight screen border around the face, moiré, a compressed
//     luma range (replayDetector);
//   - virtual_camera: perfectly regular frame intervals (live capture times
//     only), no sensor noise, repeated frames (vcamDetector); device labels
//     are judged elsewhere (internal/netsig);
//   - pulse: no rPPG pulse in forehead and cheeks; weak, confidence at most
//     0.25 (pulseDetector);
//   - synthetic_voice: internal/voice's Detector on the session's features;
//   - av_sync: mouth opening against the speech envelope in 30 s chunks
//     (voice.AVOffset): an offset beyond 120 ms, or lips that do not follow
//     the voice.
//
// Each detector abstains (Score 0, Confidence 0, a reason saying why) when
// it has nothing to judge: no face, no landmarks, too short a session.
// Confidence grows with the amount of data and is capped per detector at
// what its evidence deserves.
//
// # Calibration
//
// Thresholds were set by hand on the fixtures of this package's tests and
// on the internal development set (docs/EVAL.md has its figures), with one
// rule: genuine controls, including deliberately degraded ones (blurred
// low-bitrate webcams), must not be flagged — detect forgery, not low
// quality. They have not been validated on held-out data.
//
// # Cost
//
// Everything runs on the I420 planes in plain Go: no colour conversion, no
// Mats. The shared per-frame work is a block pass (8x8 Laplacian energy over
// the face, a ring around it and a sparse background grid); the replay
// detector's border search and 128-point spectrum run every
// Config.ReplayEvery analysed frames. BenchmarkSuite measures each detector;
// Suite.Stats reports the same live. Memory per session is bounded
// (per-frame session buffers stop growing after about 2 h at 8 fps).
//
// Privacy: nothing here logs; landmarks are used per frame and window and
// only aggregates leave the package.
package detect

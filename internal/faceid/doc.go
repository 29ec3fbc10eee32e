// Package faceid tells who is on camera: a learned face-identity model
// (dlib's ResNet face recogniser, 128-d descriptors, as ported to
// TensorFlow.js by @vladmandic/face-api and converted to ONNX by
// internal/faceid/convert) run through OpenCV's dnn module, with dlib's
// 68-landmark alignment, a quality gate, a per-session identity tracker
// and the comparisons livecheck's identity signals need.
//
// # Model
//
// scripts/setup.sh runs `npm pack @vladmandic/face-api@1.7.15`, converts
// the recogniser (cmd/facemodel) and writes it outside the repository
// (DefaultModelPath, or LIVECHECK_FACE_MODEL). LoadModel checks the file's
// SHA-256 against the pinned one before OpenCV reads a byte — OpenCV 4.6
// aborts the process on a malformed ONNX file — and builds a small pool of
// networks once, at start. testdata/faceid holds reference descriptors that
// TensorFlow.js computed with the package's own code
// (scripts/face-reference.mjs); TestModelMatchesTFJS holds the converted
// model to them.
//
// # Use in an analysis session
//
//	ids := faceid.NewSession(model, faceid.SessionConfig{})   // one per session
//	// for each analysed frame f with vision's observation o (landmarks):
//	if ids.Due(o.At, challengeRunning) {                       // 1 per 2 s, 4/s in challenges
//		if c, ok, err := ids.Observe(f, &o); ok { … c.Before.JPEG, c.After.JPEG … }
//	} else if turnHead && ids.PairDue(&o) {                    // every turned face of a turn (budget)
//		err := ids.ObservePair(f, &o)
//	}
//	// cover_face (SetCover): the faces around the hand's transitions (cover.go, budget);
//	// the caller keeps the CoverBefore last usable frames for a flush when the hand arrives:
//	near, flush, keep := ids.CoverStep(&o) // near: ObserveCover(f, &o) unless Due anyway
//	// its transition faces against the session's identity:
//	cc := ids.Covers(issued, now, far)
//	// a challenge's before/during/after identity check:
//	maxDist, n := ids.Window(from, to)
//	// turn_head: its turned faces against each other at the same pose (pairs.go):
//	pc := ids.Pairs(issued, now, far)
//	// at the end:
//	sig, ok := ids.Signal(sessionStart)                        // identity_change
//	main, ok := ids.Main()                                     // template to store and compare
//	faceid.ReuseSignal(main.Template, others)                  // identity_reuse
//	faceid.ReferenceSignal(main.Template, refDescriptor)       // identity_reference
//
// Observe costs one face embedding (about 11–30 ms of CPU on this class of
// machine, BenchmarkEmbed). A live analysis splits it: Take on its own
// goroutine, Describe on a worker (safe for concurrent use), Fold in the
// order taken (internal/analysis/embedpool.go).
//
// Reference photos: DecodePhoto (JPEG/PNG only, byte, side and pixel limits
// checked from the header before decoding, EXIF orientation applied, every
// metadata block dropped by re-encoding), then Model.DescribePhoto.
//
// # Privacy
//
// Descriptors, templates, face crops and reference photos are biometric
// data. This package never logs; its errors never carry them. Signals'
// reasons name times, distances and interview numbers only.
package faceid

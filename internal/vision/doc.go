// Package vision measures the candidate's face on decoded video frames for
// livecheck's liveness challenges and deepfake detectors.
//
// # Pipeline
//
// Analyzer.Measure turns one models.Frame into one models.Observation:
//
//   - The Y plane of the I420 frame is the grey image. It is wrapped as a gocv
//     Mat without any copy or colour conversion (the planes are tightly packed,
//     so stride == width as gocv.NewMatFromBytes requires).
//   - Face: a Haar cascade (frontalface_alt2, histogram-equalised) runs on a
//     320-px-wide downscale when there is no track, every RecheckEvery (5 s;
//     a face large in the frame at down to 160 px wide) and every third
//     frame of a miss. Otherwise the face is re-detected in
//     an enlarged region around the last box scaled so that the face is about
//     56 px wide, de-rotated by the last measured roll (cascades only tolerate
//     about ±15° of tilt). A profile cascade (on the image and its mirror)
//     takes over when the frontal one fails at deep head turns. When all miss,
//     the last box is kept for up to MaxCoast and the frame is marked
//     Coasting (a hand over the face, a turn beyond the cascades, or absence).
//   - Detect rarely, track often: within CascadeEvery (250 ms) of a cascade
//     hit, a steady, upright, clear face is followed by its landmarks alone
//     (fitted from the last box; the box moves with the eyes, brows and
//     nose). The frame keeps that result only when nothing changed that the
//     cascade could see: a plausible landmark shape, the pose within 6° of
//     the occlusion reference's and the previous frame's, the appearance grid
//     and skin unchanged, no occlusion. Otherwise the cascade runs on the same
//     frame. This skips the cascade on up to one frame in two at 5 fps
//     and three in four at 15 fps on a steady face (450 ms, up to two in three
//     at 5 fps, was measured and not adopted: docs/BENCH.md).
//   - Landmarks: dlib's 68-point shape predictor through a small cgo wrapper
//     (zero-copy strided view of the Y plane, sub-pixel output; tilted faces
//     are fitted on an upright copy of their region). The model is loaded
//     once per process and shared read-only (LoadLandmarker).
//   - From landmarks: head pose (an own perspective-n-point solver with a
//     generic 3D face, since gocv v0.31 has no SolvePnP), eye aspect ratio
//     and mouth opening.
//   - From the face region of the Y/U/V planes: mean Y/Cb/Cr and sharpness
//     (variance of the 3x3 Laplacian) on the inner face, and the occlusion
//     measure (see occlusion.go: detector loss, change against the session's
//     clear-face reference on a 6x6 grid, skin fraction, landmark plausibility).
//
// # Sign conventions
//
// Image x points right and y down; the received video is not mirrored, so the
// candidate's left is image right.
//
//	Yaw   > 0: the nose points toward image right: the candidate turns to
//	           THEIR left.
//	Pitch > 0: the candidate looks up.
//	Roll  > 0: the face is rotated clockwise in the image: the candidate
//	           tilts the head toward their left shoulder.
//
// Angles are in degrees, relative to the line of sight from the camera to the
// head (a face looking into the lens reads 0/0 wherever it is in the frame),
// decomposed so that rotating the image changes roll only (see HeadPose).
// Scale is the face box width over the frame width. Occlusion is 0 (clear)
// .. 1 (covered); a clear face reads below about 0.15.
//
// # Concurrency
//
// An Analyzer (tracking state, OpenCV cascades, occlusion reference) is used
// by one goroutine at a time: one per session. A FaceDetector likewise.
// A Landmarker is safe for concurrent use. DetectFaces serialises calls on a
// shared detector. OpenCV's own thread pool gains little at these sizes and
// competes with the sessions, which run in parallel: the package sets it to
// one thread unless OPENCV_FOR_THREADS_NUM is set.
//
// # Privacy
//
// Frames, landmarks and face crops are biometric data. This package never
// logs them; it does not log at all. models.Observation.Landmarks carries a
// json:"-" tag.
package vision

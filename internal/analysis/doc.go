// Package analysis analyses one interview's media, live or recorded, with
// one code path.
//
// A Session takes decoded frames and audio: live, from the media sinks the
// room hands the candidate's RTP packets to (Session.Track: VP8 assembly and
// libvpx, Opus and libopus, capture times from RTCP sender reports anchored
// to arrival); offline, from a recording (AnalyzeFile, with the file's
// timing). Frames are measured by the vision pipeline (FrameAnalyzer) at the
// analysis rate — every frame while a challenge runs — and the measurements
// feed the session's series (face presence, pose, eyes, mouth, audio level,
// round trips, camera-off and face-absent intervals), the passive detectors
// (internal/detect), the challenge driver (internal/challenge's Runner:
// prompts to the page through the Outlet, results to staff and the write
// queue), any further Stage and the face-identity stage (Config.Identity,
// identity.go: who is on camera, internal/faceid). End summarises everything
// into a Result.
//
// Live, decoding never waits for analysis: a queue hands the session's
// analysis goroutine the newest frame outside challenge windows and every
// frame inside them (bounded; queue.go), the challenge runner verifies a
// window only once its frames are analysed, and a Gate shared by all
// sessions bounds how many frames are measured at once, challenge frames
// first. Offline, the caller's goroutine analyses every frame the rate
// selects, so a recording gives the result the live room gives when its
// analysis keeps up (TestLiveAndOfflineGiveTheSameSignals).
//
// Where to add things: a per-frame consumer with its own sampling and
// end-of-session signals is a Stage (Config.Stages); a passive detector goes
// into internal/detect's Suite; a challenge kind into internal/challenge's
// catalogue.
package analysis

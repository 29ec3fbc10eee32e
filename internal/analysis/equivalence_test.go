package analysis

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/internal/media"
	"github.com/livecheck/livecheck/models"
)

// TestLiveAndOfflineGiveTheSameSignals feeds the frames of one recording
// through the live entry point (RTP packets into a live session's video sink:
// assembly, libvpx, the mailbox and the analysis goroutine) and through the
// offline one (AnalyzeFile: the file reader in the caller's goroutine), and
// requires the same analysed frames, series, detector windows and signals
// (the session's own signals are made from the compared series by
// internal/verdict):
// livecheck eval measures what the live room computes. The live side is paced
// so that its mailbox never replaces a frame (as when analysis keeps up).
// With the face-identity stage on both sides (live: embedded on the
// engine's worker pool; offline: in place), the identity samples,
// templates and changes are the same too: the recording switches from one
// person to another half-way.
func TestLiveAndOfflineGiveTheSameSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses a recording twice")
	}
	path := stillsIVF(t, stillPart{"astronaut.png", 2}, stillPart{"obama.jpg", 2})
	vcfg, newAnalyzer := visionFactory(t)
	id := IdentityConfig{Model: facetest.Model(t), Session: faceid.SessionConfig{Every: time.Second}}

	off, err := AnalyzeFile(context.Background(), FileOptions{Video: path, Vision: vcfg, Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	if off.Analysed < 20 || off.Faces < off.Analysed/2 {
		t.Fatalf("offline: %d frames analysed, %d with a face: the fixture should show a face", off.Analysed, off.Faces)
	}

	s := New(Config{AnalysisFPS: DefaultFileFPS, NewAnalyzer: newAnalyzer, Detectors: true, Logger: quietLogger(),
		Now: func() time.Time { return FileEpoch }, Identity: id}).Open(1, nil)
	if s.identity == nil || s.identity.pool == nil {
		t.Fatal("the live session does not embed its faces on the engine's pool (embedpool.go)")
	}
	sink, err := s.Track(media.TrackInfo{Video: true, ClockRate: 90000, SSRC: 0x1234})
	if err != nil {
		t.Fatal(err)
	}
	for i, fr := range packetizeIVF(t, path) {
		for _, p := range fr.pkts {
			sink.WriteRTP(p, fr.arrival)
		}
		waitHandled(t, s, uint64(i+1))
	}
	sink.Close()
	s.hasAudio = false // the recording has no sound: compare like with like
	live := s.finish(models.EndCompleted, FileEpoch.Add(off.Duration))

	if dropped := s.queue.stats(); dropped != 0 {
		t.Fatalf("the live queue dropped %d frames: the pacing failed", dropped)
	}
	r := off.Result
	if live.FramesDecoded != r.FramesDecoded || live.FramesAnalysed != r.FramesAnalysed {
		t.Fatalf("live decoded/analysed %d/%d, offline %d/%d", live.FramesDecoded, live.FramesAnalysed, r.FramesDecoded, r.FramesAnalysed)
	}
	for name, pair := range map[string][2]any{
		"face presence": {live.FacePresence, r.FacePresence},
		"yaw":           {live.Yaw, r.Yaw},
		"eye aspect":    {live.EAR, r.EAR},
		"mouth":         {live.Mouth, r.Mouth},
		"face absent":   {live.FaceAbsent, r.FaceAbsent},
		"camera off":    {live.CameraOff, r.CameraOff},
		"windows":       {live.Windows, r.Windows},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s differ:\nlive    %v\noffline %v", name, pair[0], pair[1])
		}
	}
	if len(live.DetectorSignals) != len(r.DetectorSignals) {
		t.Fatalf("live gave %d detector signals, offline %d:\n%v\n%v", len(live.DetectorSignals), len(r.DetectorSignals),
			live.DetectorSignals, r.DetectorSignals)
	}
	for i := range live.DetectorSignals {
		if live.DetectorSignals[i] != r.DetectorSignals[i] {
			t.Errorf("detector signal %d differs:\nlive    %+v\noffline %+v", i, live.DetectorSignals[i], r.DetectorSignals[i])
		}
	}
	// The session signals are a function of the compared fields (internal/verdict.Signals).
	if live.Video != r.Video || live.Audio != r.Audio || live.StartedAt != r.StartedAt || live.EndedAt != r.EndedAt {
		t.Errorf("session frame differs: live %v %v %v %v, offline %v %v %v %v", live.Video, live.Audio, live.StartedAt, live.EndedAt,
			r.Video, r.Audio, r.StartedAt, r.EndedAt)
	}
	// The identity stage: same samples, templates, changes and signal.
	li, oi := live.Identity, r.Identity
	if li == nil || oi == nil || oi.Embedded < 3 || len(oi.Changes) != 1 {
		t.Fatalf("identity reports: live %+v, offline %+v (want faces embedded and the one switch)", li, oi)
	}
	if li.Embedded != oi.Embedded || li.Main != oi.Main || len(li.Identities) != len(oi.Identities) || len(li.Changes) != len(oi.Changes) {
		t.Errorf("identity differs: live %d faces, main %d, %d identities, %d changes; offline %d, %d, %d, %d",
			li.Embedded, li.Main, len(li.Identities), len(li.Changes), oi.Embedded, oi.Main, len(oi.Identities), len(oi.Changes))
	} else {
		for i := range li.Identities {
			if li.Identities[i].Template != oi.Identities[i].Template || li.Identities[i].Samples != oi.Identities[i].Samples {
				t.Errorf("identity %d differs", i)
			}
		}
		for i := range li.Changes {
			if !li.Changes[i].After.At.Equal(oi.Changes[i].After.At) || li.Changes[i].Distance != oi.Changes[i].Distance {
				t.Errorf("change %d differs: live at %v (%.3f), offline at %v (%.3f)", i, li.Changes[i].After.At, li.Changes[i].Distance,
					oi.Changes[i].After.At, oi.Changes[i].Distance)
			}
		}
	}
	if !reflect.DeepEqual(live.StageSignals, r.StageSignals) || len(r.StageSignals) != 1 {
		t.Errorf("stage signals differ:\nlive    %+v\noffline %+v", live.StageSignals, r.StageSignals)
	}
	kinds := map[string]bool{}
	for _, sg := range r.DetectorSignals {
		kinds[sg.Kind] = true
	}
	for _, k := range []string{"seam", "photo", "virtual_camera", "replay"} {
		if !kinds[k] {
			t.Errorf("detector signal %s missing from both paths", k)
		}
	}
}

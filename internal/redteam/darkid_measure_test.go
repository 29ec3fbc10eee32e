package redteam

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/challenge"
	"github.com/livecheck/livecheck/internal/faceid"
	"github.com/livecheck/livecheck/internal/faceid/facetest"
	"github.com/livecheck/livecheck/models"
)

// recEmbedder records every sample the session embeds (test only: descriptors stay in memory).
type recEmbedder struct {
	m    *faceid.Model
	out  []faceid.Sample
	meta []string // per sample: how vision found the face, its confidence, box width, the frame's quantiser
}

func (r *recEmbedder) Describe(f *models.Frame, o *models.Observation, g faceid.Gate) (faceid.Sample, string, error) {
	s, why, err := r.m.Describe(f, o, g)
	if why == "" && err == nil {
		r.out = append(r.out, s)
		r.meta = append(r.meta, fmt.Sprintf("%-7s conf %.2f box %3d q %3d", o.Found, o.FaceConf, o.Face.W, f.Quant-1))
	}
	return s, why, err
}

// TestMeasureDarkerIdentity prints, for the table's honest row at albedo 1 and 0.4 (800 kbit/s,
// noise 2.5), the first 24 s of a live-like interview (the stream's first frame on, the first
// challenge 5 s in as run.go issues it, then one every 7 s: flash, move_closer, turn_head): every
// embedded sample's distance to the template the session had when it came, and to the mean of
// all steady samples (REDTEAM_MEASURE_DARKID=1; REDTEAM_SEEDS).
func TestMeasureDarkerIdentity(t *testing.T) {
	measuring(t, "REDTEAM_MEASURE_DARKID")
	f := testdataFace(t)
	m := facetest.Model(t)
	voice, err := NewVoice()
	if err != nil {
		t.Skip(err)
	}
	for _, albedo := range []float64{1, 0.4} {
		for _, seed := range measureSeeds() {
			enc, dec, an := vp8Chain(t, 800)
			a := NewActor(honestBehaviour([2]time.Duration{300 * time.Millisecond, 1200 * time.Millisecond}), voice, seed)
			r := NewRenderer(f, Look{Noise: 2.5, Seed: seed + 10, Albedo: albedo})
			rec := &recEmbedder{m: m}
			ids := faceid.NewSession(rec, faceid.SessionConfig{Every: 2 * time.Second})
			type win struct {
				kind     string
				from, to time.Time
			}
			var wins []win
			v := challenge.Verifier{}
			for i, k := range []string{"flash", "move_closer", "turn_head/right"} {
				kind, dir, _ := strings.Cut(k, "/")
				ch := newChallenge(t, challenge.Kind(kind), dir)
				issued := a.t0.Add(time.Duration(5+7*i) * time.Second)
				msg, _ := json.Marshal(ch.Prompt())
				a.Prompt(msg, issued.Add(40*time.Millisecond))
				_, to := v.Window(ch, issued, issued.Add(40*time.Millisecond))
				wins = append(wins, win{kind, issued, to})
			}
			active := false
			end := a.t0.Add(24 * time.Second)
			kinds := map[time.Time]string{}
			for at := a.t0; at.Before(end); at = at.Add(time.Second / 15) {
				r.RenderInto(a.State(at), false)
				fr := vp8RoundTrip(t, r, enc, dec, at)
				ob, err := an.Measure(fr)
				if err != nil {
					t.Fatal(err)
				}
				ob.At = at
				act, kind := false, "-"
				for _, w := range wins {
					if !at.Before(w.from) && at.Before(w.to) {
						act, kind = true, w.kind
					}
				}
				if act != active {
					ids.ForceNext()
					ids.SetChallenge(act)
					active = act
				}
				if ids.Due(at, act) {
					kinds[at] = kind
					if _, _, err := ids.Observe(fr, &ob); err != nil {
						t.Fatal(err)
					}
				}
			}
			var steady []faceid.Sample
			for _, s := range rec.out {
				if kinds[s.At] == "-" && s.At.Sub(a.t0) > 4*time.Second {
					steady = append(steady, s)
				}
			}
			ref := meanDesc(steady)
			hist := map[time.Time]float64{}
			for _, p := range ids.History() {
				hist[p.At] = p.Distance
			}
			var parts []string
			for i, s := range rec.out {
				parts = append(parts, fmt.Sprintf("%.2fs %s cur %.2f ref %.2f sh %.0f yaw %.0f eye %.0f %s", s.At.Sub(a.t0).Seconds(), kinds[s.At], hist[s.At], faceid.Distance(s.D, ref), s.Sharpness, s.Yaw, s.EyeDistance, rec.meta[i]))
			}
			t.Logf("albedo %.1f seed %d: %d samples, %d changes, rejected %v\n  %s", albedo, seed, ids.Embedded(), len(ids.Changes()), ids.Rejected(), strings.Join(parts, "\n  "))
			for _, c := range ids.Changes() {
				t.Logf("   change at %.2fs (before %.2fs) distance %.2f returning %d", c.After.At.Sub(a.t0).Seconds(), c.Before.At.Sub(a.t0).Seconds(), c.Distance, c.Returning)
			}
		}
	}
}

func meanDesc(ss []faceid.Sample) faceid.Descriptor {
	var sum [faceid.Dims]float64
	for _, s := range ss {
		for i, v := range s.D {
			sum[i] += float64(v)
		}
	}
	var d faceid.Descriptor
	for i := range d {
		d[i] = float32(sum[i] / float64(max(len(ss), 1)))
	}
	return d
}

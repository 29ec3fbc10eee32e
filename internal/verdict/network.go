package verdict

import (
	"context"
	"encoding/json"
	"net/netip"
	"time"

	"github.com/livecheck/livecheck/internal/netsig"
	"github.com/livecheck/livecheck/internal/store"
	"github.com/livecheck/livecheck/models"
)

// NetworkSignals examines every candidate connection of an interview: network
// and device checks, device fingerprints (stored for later reuse checks) and
// reuse of IPs, browsers and devices by other candidates within reuseDays.
// Idempotent.
func NetworkSignals(ctx context.Context, st *store.Store, chk *netsig.Checker, reuseDays int, id int64, now time.Time) ([]models.Signal, error) {
	iv, err := st.Interview(ctx, id)
	if err != nil {
		return nil, err
	}
	atts, err := st.Attempts(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []models.Signal
	seen := map[string]int{} // one signal per kind: the strongest over all connections
	add := func(sgs []models.Signal) {
		for _, sg := range sgs {
			if i, ok := seen[sg.Kind]; ok {
				if sg.Score*sg.Confidence > out[i].Score*out[i].Confidence {
					out[i] = sg
				}
				continue
			}
			seen[sg.Kind] = len(out)
			out = append(out, sg)
		}
	}
	var ips, browsers []string
	var fp string
	var fpStrength float64
	for _, a := range atts {
		sess := netsig.Session{ClaimedCity: iv.ClaimedCity, ClaimedCountry: iv.ClaimedCountry, UserAgent: a.UserAgent, At: a.StartedAt}
		if ip, err := netip.ParseAddr(a.IP); err == nil {
			sess.HTTPIPs = []netip.Addr{ip}
		}
		var env *netsig.Environment
		var iceRemote []string
		if r := a.Report; r != nil {
			env = &netsig.Environment{} // a page that sent no report is judged as reporting nothing
			if r.Environment != nil {
				env = r.Environment
			}
			sess.Env = env
			sess.RTTs = r.ControlRTTs()
			sess.ICE = iceReport(r)
			iceRemote = r.ICERemote
		}
		add(chk.Check(sess))
		addrs := netsig.ReuseAddresses(sess.HTTPIPs, sess.ICE)
		ips = append(ips, addrs...)
		browsers = append(browsers, a.BrowserID)
		var afp string
		var strength float64
		if env != nil {
			afp, strength = netsig.Fingerprint(*env, a.UserAgent)
			if strength > fpStrength {
				fp, fpStrength = afp, strength
			}
		}
		iceJSON, _ := json.Marshal(iceRemote)
		if err := st.SaveAttemptNetwork(ctx, store.AttemptNetwork{AttemptID: a.ID, InterviewID: id, At: a.StartedAt,
			IPs: addrs, Fingerprint: afp, FPStrength: strength, ICE: iceJSON}); err != nil {
			return nil, err
		}
	}
	if len(atts) > 0 {
		matches, err := st.ReuseMatches(ctx, store.ReuseQuery{InterviewID: id, IPs: ips, BrowserIDs: browsers,
			Fingerprint: fp, Since: now.AddDate(0, 0, -reuseDays)})
		if err != nil {
			return nil, err
		}
		sightings := make([]netsig.Sighting, 0, len(matches))
		for _, m := range matches {
			sightings = append(sightings, netsig.Sighting(m))
		}
		add(netsig.CheckReuse(netsig.Subject{InterviewID: id, CandidateEmail: iv.CandidateEmail}, sightings, fpStrength))
	}
	return out, nil
}

// iceReport reads the ICE facts the room stored with an attempt.
func iceReport(r *models.ConnectionReport) netsig.ICEReport {
	var out netsig.ICEReport
	for _, s := range r.ICERemote {
		if c, err := netsig.ParseCandidate(s); err == nil {
			out.Remote = append(out.Remote, c)
		}
	}
	if r.ICESelected != "" {
		if p, err := netsig.ParsePairDescription(r.ICESelected); err == nil {
			p.RTT = time.Duration(r.ICERTTms * float64(time.Millisecond))
			out.Selected = &p
		}
	}
	return out
}

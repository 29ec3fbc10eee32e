package challenge

import "time"

// Progress is how far a runner got through its plan: what a checkpoint stores so that
// another node can go on with the same plan when the session moves (ResumeRunner). It holds
// the secret plan: store it server-side only, never send it to the browser.
type Progress struct {
	Plan Plan `json:"plan"`
	// Next is the index of the next plan item to issue.
	Next int `json:"next"`
	// Active is the challenge on the candidate's screen (issued, not verified yet).
	Active *Challenge `json:"active,omitempty"`
	// Reissue is an inconclusive challenge waiting to be issued again.
	Reissue  *Challenge `json:"reissue,omitempty"`
	LastKind Kind       `json:"last_kind,omitempty"`
}

// Progress returns the runner's progress (a copy).
func (r *Runner) Progress() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Progress{Plan: r.plan, Next: r.next, LastKind: r.lastKind}
	p.Plan.Items = append([]Item(nil), r.plan.Items...)
	p.Plan.Kinds = append([]Kind(nil), r.plan.Kinds...)
	if r.active != nil {
		ch := r.active.ch
		p.Active = &ch
	}
	if r.reissue != nil {
		ch := r.reissue.ch
		p.Reissue = &ch
	}
	return p
}

// ResumeRunner returns a runner that goes on with p, the progress of a session that stopped
// (its node died) at stopped, now. done are the results stored for that session.
//
//   - The plan items already issued are not issued again; the rest keep their place relative
//     to the stop: the plan's clock (start, the session start) is moved on by the time the
//     session was away, so a challenge that was 40 s ahead is still 40 s ahead.
//   - A challenge that was on the candidate's screen and has a stored result counts as done
//     (an inconclusive first attempt is reissued, as Poll does). Without a result (the node
//     died before verifying it) it is issued again with fresh parameters — the candidate saw
//     the old ones — as the same attempt, ReissueAfter from now.
//   - A pending reissue stays pending, due ReissueAfter from now.
//   - Nothing is issued before MinGap from now: the baseline after the reconnect is clean.
func ResumeRunner(p Progress, start, stopped, now time.Time, done []Result, cfg RunnerConfig) (*Runner, error) {
	gap := now.Sub(stopped)
	if gap < 0 {
		gap = 0
	}
	r := NewRunner(p.Plan, start.Add(gap), cfg)
	r.next = min(max(p.Next, 0), len(r.plan.Items))
	r.lastKind = p.LastKind
	r.lastEnd = now
	byID := make(map[string]Result, len(done))
	for _, d := range done {
		byID[d.ID] = d
	}
	due := now.Add(r.cfg.ReissueAfter)
	switch {
	case p.Active != nil:
		if res, ok := byID[p.Active.ID]; ok {
			if !ShouldReissue(res, p.Active.Attempt) {
				break
			}
			if err := r.queueReissue(*p.Active, res.Reason, now); err != nil {
				return nil, err
			}
			break
		}
		fresh, err := NewChallenge(p.Active.Kind, r.plan.Photosensitive || p.Active.Params.Fade, r.cfg.Rand)
		if err != nil {
			return nil, err
		}
		fresh.Attempt, fresh.Replaces = p.Active.Attempt, p.Active.Replaces
		r.reissue = &pending{ch: fresh, due: due}
	case p.Reissue != nil:
		if _, ok := byID[p.Reissue.ID]; !ok {
			r.reissue = &pending{ch: *p.Reissue, due: due}
		}
	}
	return r, nil
}

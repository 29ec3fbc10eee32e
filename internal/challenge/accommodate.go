package challenge

import "time"

// AvoidFlashes honours a candidate's choice of no flashing for the rest of the session:
// every planned flash not issued yet, and a pending reissue of one, is redrawn as the kind's
// accessible alternative (Spec.Alternative: the slow-fade variant), at the same offset; later
// reissues and extra challenges ("challenge now") are drawn photosensitive too. A flash already
// on screen is left to finish. It returns how many challenges were redrawn; calling it again
// is harmless. The choice is an accommodation: nothing about it is scored.
func (r *Runner) AvoidFlashes() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plan.Photosensitive = true
	spec, _ := Lookup(KindFlash)
	redraw := func(ch Challenge) (Challenge, error) {
		alt, err := NewChallenge(spec.Alternative, spec.Alternative == KindFlash, r.cfg.Rand)
		if err != nil {
			return Challenge{}, err
		}
		alt.Attempt, alt.Replaces = ch.Attempt, ch.Replaces
		return alt, nil
	}
	n := 0
	for i := r.next; i < len(r.plan.Items); i++ {
		it := &r.plan.Items[i]
		if it.Kind != KindFlash || it.Params.Fade {
			continue
		}
		alt, err := redraw(it.Challenge)
		if err != nil {
			return n, err
		}
		it.Challenge = alt
		n++
	}
	if p := r.reissue; p != nil && p.ch.Kind == KindFlash && !p.ch.Params.Fade {
		alt, err := redraw(p.ch)
		if err != nil {
			return n, err
		}
		p.ch = alt
		n++
	}
	return n, nil
}

// State is what the people running the call may know about a session's challenges: never
// the plan itself.
type State struct {
	// Active is the prompt of the challenge in progress; nil when none.
	Active *Prompt
	// Issued is when Active was issued (zero when none).
	Issued time.Time
	// Remaining counts the planned challenges not issued yet, a pending reissue included.
	Remaining int
	// Photosensitive reports that flashes are drawn as slow fades (the candidate's choice).
	Photosensitive bool
}

// State returns the runner's state.
func (r *Runner) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := State{Remaining: len(r.plan.Items) - r.next, Photosensitive: r.plan.Photosensitive}
	if r.reissue != nil {
		st.Remaining++
	}
	if r.active != nil {
		p := r.active.ch.Prompt()
		st.Active, st.Issued = &p, r.active.at
	}
	return st
}

package auth

import (
	"strings"
	"sync"
	"time"
)

// Lockout slows password guessing down per account *and* source, so that
// nobody can lock an account from somewhere else: failures from one source
// (a trusted device of the account, else a network address) delay only that
// source's next attempts. The first Free failures are free; then each failure
// delays the next attempt from that source: Base, doubling up to Max. A source
// whose last failure is older than Forget starts afresh; a successful sign-in
// forgets it at once.
//
// Against guessing from many sources at once, an account with more than
// Spread recent failures from untrusted sources (not a device the account
// signed in from) admits one attempt from untrusted sources per Base. That can
// slow down a person signing in from a new device during such an attack, never
// from a device they signed in from before; the e-mailed link (or an admin)
// makes a device trusted.
//
// It is safe for concurrent use and holds at most MaxEntries sources.
type Lockout struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
	Spread int

	now     func() time.Time
	mu      sync.Mutex
	sources map[lockKey]*lockEntry
	spread  map[string][]time.Time // untrusted failures per account within Forget
}

// MaxEntries bounds the sources a Lockout remembers.
const MaxEntries = 100000

type lockKey struct{ acct, src string }

type lockEntry struct {
	fails int
	last  time.Time
	until time.Time
}

// NewLockout returns the policy of livecheck's sign-in: 5 free failures per
// account and source, then 1, 2, 4, 8, 15 minutes; forgotten after 24 hours of
// quiet; more than 50 failures from untrusted sources in 24 hours slow every
// untrusted source of that account. now is the clock (time.Now when nil).
func NewLockout(now func() time.Time) *Lockout {
	if now == nil {
		now = time.Now
	}
	return &Lockout{Free: 5, Base: time.Minute, Max: 15 * time.Minute, Forget: 24 * time.Hour, Spread: 50,
		now: now, sources: map[lockKey]*lockEntry{}, spread: map[string][]time.Time{}}
}

func lkey(acct, src string) lockKey { return lockKey{strings.ToLower(acct), src} }

// Wait returns how long src must wait before trying acct again (0: now);
// trusted says src is a device the account signed in from.
func (l *Lockout) Wait(acct, src string, trusted bool) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := lkey(acct, src)
	var d time.Duration
	if e := l.sources[k]; e != nil {
		d = e.until.Sub(now)
	}
	if s := l.spread[k.acct]; !trusted && len(s) > l.Spread && now.Sub(s[len(s)-1]) <= l.Forget {
		d = max(d, s[len(s)-1].Add(l.Base).Sub(now))
	}
	return max(0, d)
}

// Fail records a failed attempt of src on acct and returns the delay it now
// imposes on src (0: none). trusted says src is a device the account signed
// in from (it does not count towards the account-wide spread).
func (l *Lockout) Fail(acct, src string, trusted bool) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := lkey(acct, src)
	e := l.sources[k]
	if e == nil || now.Sub(e.last) > l.Forget {
		if len(l.sources) >= MaxEntries {
			l.prune(now)
		}
		e = &lockEntry{}
		l.sources[k] = e
	}
	e.fails++
	e.last = now
	var d time.Duration
	if e.fails >= l.Free {
		d = l.Base << min(e.fails-l.Free, 10)
		if d > l.Max || d <= 0 {
			d = l.Max
		}
	}
	if !trusted {
		s := l.spread[k.acct]
		for len(s) > 0 && now.Sub(s[0]) > l.Forget {
			s = s[1:]
		}
		if len(s) >= 4*l.Spread {
			s = s[1:]
		}
		l.spread[k.acct] = append(s, now)
	}
	e.until = now.Add(d)
	return d
}

// Succeed forgets src's failures on acct (a successful sign-in).
func (l *Lockout) Succeed(acct, src string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sources, lkey(acct, src))
}

// Unlock forgets every failure on acct, from every source (an admin's
// decision), and reports how many sources were waiting.
func (l *Lockout) Unlock(acct string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	acct = strings.ToLower(acct)
	now, n := l.now(), 0
	for k, e := range l.sources {
		if k.acct == acct {
			if e.until.After(now) {
				n++
			}
			delete(l.sources, k)
		}
	}
	delete(l.spread, acct)
	return n
}

// Locked returns, per account, how many sources must wait now.
func (l *Lockout) Locked() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now, out := l.now(), map[string]int{}
	for k, e := range l.sources {
		if e.until.After(now) {
			out[k.acct]++
		}
	}
	return out
}

// prune drops sources quiet for longer than Forget; l.mu is held.
func (l *Lockout) prune(now time.Time) {
	for k, e := range l.sources {
		if now.Sub(e.last) > l.Forget {
			delete(l.sources, k)
		}
	}
	for a, s := range l.spread {
		if len(s) == 0 || now.Sub(s[len(s)-1]) > l.Forget {
			delete(l.spread, a)
		}
	}
	if len(l.sources) >= MaxEntries { // still full of fresh sources: forget the oldest half
		cut := now.Add(-l.Forget / 2)
		for k, e := range l.sources {
			if e.last.Before(cut) && e.until.Before(now) {
				delete(l.sources, k)
			}
		}
	}
}

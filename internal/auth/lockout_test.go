package auth

import (
	"fmt"
	"testing"
	"time"
)

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time       { return c.t }
func (c *testClock) add(d time.Duration)  { c.t = c.t.Add(d) }
func (c *testClock) at() func() time.Time { return c.now }
func newTestClock() *testClock            { return &testClock{t: time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)} }

func TestLockoutProgressive(t *testing.T) {
	clk := newTestClock()
	l := NewLockout(clk.at())
	const acct, src = "Ada@Example.test", "ip:198.51.100.7"
	for i := 1; i <= 4; i++ {
		if d := l.Fail(acct, src, false); d != 0 {
			t.Fatalf("failure %d delayed %v: the first 4 are free", i, d)
		}
	}
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		if d := l.Fail(acct, src, false); d != want {
			t.Fatalf("failure %d: delay %v, want %v", 5+i, d, want)
		}
		if w := l.Wait("ada@example.test", src, false); w != want {
			t.Fatalf("wait after failure %d: %v, want %v (accounts compare case-insensitively)", 5+i, w, want)
		}
		clk.add(want)
		if w := l.Wait(acct, src, false); w != 0 {
			t.Fatalf("still waiting %v after the delay", w)
		}
	}
	// Another source, and a trusted device, are not affected.
	if w := l.Wait(acct, "ip:203.0.113.9", false); w != 0 {
		t.Fatalf("an unrelated source waits %v", w)
	}
	if w := l.Wait(acct, "dev:abc", true); w != 0 {
		t.Fatalf("a trusted device waits %v", w)
	}
	if got := l.Locked(); len(got) != 0 {
		t.Fatalf("nothing is waiting now, Locked() = %v", got)
	}
	l.Fail(acct, src, false)
	if got := l.Locked()["ada@example.test"]; got != 1 {
		t.Fatalf("Locked() = %v", l.Locked())
	}
	if n := l.Unlock("ADA@example.test"); n != 1 || l.Wait(acct, src, false) != 0 {
		t.Fatalf("admin unlock: %d sources, still waiting %v", n, l.Wait(acct, src, false))
	}
	// Success forgets the source; so does a day of quiet.
	for i := 0; i < 5; i++ {
		l.Fail(acct, src, false)
	}
	l.Succeed(acct, src)
	if w := l.Wait(acct, src, false); w != 0 {
		t.Fatalf("after a successful sign-in: %v", w)
	}
	for i := 0; i < 4; i++ {
		l.Fail(acct, src, false)
	}
	clk.add(25 * time.Hour)
	if d := l.Fail(acct, src, false); d != 0 {
		t.Fatalf("failures of yesterday still count: %v", d)
	}
}

// TestLockoutSpread: guessing from many addresses is slowed account-wide for
// untrusted sources only.
func TestLockoutSpread(t *testing.T) {
	clk := newTestClock()
	l := NewLockout(clk.at())
	const acct = "ada@example.test"
	for i := 0; i <= l.Spread; i++ {
		l.Fail(acct, fmt.Sprintf("ip:10.0.%d.%d", i/250, i%250), false)
		clk.add(time.Second)
	}
	if w := l.Wait(acct, "ip:192.0.2.200", false); w <= 0 || w > time.Minute {
		t.Fatalf("a new untrusted source during a spread attack waits %v, want up to a minute", w)
	}
	if w := l.Wait(acct, "dev:known", true); w != 0 {
		t.Fatalf("a trusted device waits %v", w)
	}
	if w := l.Wait("someone-else@example.test", "ip:192.0.2.200", false); w != 0 {
		t.Fatalf("another account waits %v", w)
	}
	clk.add(time.Minute)
	if w := l.Wait(acct, "ip:192.0.2.200", false); w != 0 {
		t.Fatalf("one untrusted attempt per minute is allowed: %v", w)
	}
}

func TestLockoutBounded(t *testing.T) {
	clk := newTestClock()
	l := NewLockout(clk.at())
	for i := 0; i < MaxEntries+10; i++ {
		l.Fail(fmt.Sprintf("a%d@example.test", i%1000), fmt.Sprintf("ip:%d", i), true)
		if i == MaxEntries/2 {
			clk.add(13 * time.Hour)
		}
	}
	l.mu.Lock()
	n := len(l.sources)
	l.mu.Unlock()
	if n > MaxEntries {
		t.Fatalf("%d sources remembered, bound %d", n, MaxEntries)
	}
}

package auth

import "testing"

// TestPasswordsCostOfUnknownAccount: finding 3 of the security probe. The dummy
// hash of unknown e-mails had bcrypt cost 10 while accounts had the configured
// cost (12), so sign-ins for unknown e-mails answered measurably differently.
// Compared by the cost used, not by wall time.
func TestPasswordsCostOfUnknownAccount(t *testing.T) {
	for _, cost := range []int{4, 6, 11} {
		p, err := NewPasswords(cost)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := p.Hash("a long enough password")
		if err != nil {
			t.Fatal(err)
		}
		okKnown, costKnown := p.Check(hash, "a wrong password")
		okUnknown, costUnknown := p.Check("", "a wrong password")
		okGarbage, costGarbage := p.Check("not a bcrypt hash", "a wrong password")
		if okKnown || okUnknown || okGarbage {
			t.Fatalf("cost %d: a wrong password matched", cost)
		}
		if costKnown != cost || costUnknown != cost || costGarbage != cost {
			t.Errorf("configured cost %d: known account compared at %d, unknown at %d, unreadable hash at %d", cost, costKnown, costUnknown, costGarbage)
		}
		if ok, _ := p.Check(hash, "a long enough password"); !ok {
			t.Fatalf("cost %d: the right password does not match", cost)
		}
		if p.Stale(hash) {
			t.Errorf("cost %d: a fresh hash is stale", cost)
		}
	}
	old, _ := HashPassword("a long enough password", 5)
	p, _ := NewPasswords(4)
	if !p.Stale(old) {
		t.Error("a hash of another cost must be renewed at the next sign-in")
	}
}

package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func testSigner(t testing.TB) *Signer {
	s, err := NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJoinTokens(t *testing.T) {
	s := testSigner(t)
	tok, hash, err := s.NewJoinToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) < 32 {
		t.Fatalf("token %q too short", tok)
	}
	got, err := s.VerifyJoinToken(tok)
	if err != nil || !bytes.Equal(got, hash) {
		t.Fatalf("verify own token: %v", err)
	}
	other, _ := NewSigner([]byte(strings.Repeat("z", 32)))
	if _, err := other.VerifyJoinToken(tok); !errors.Is(err, ErrBadToken) {
		t.Fatal("a token signed with another secret must fail")
	}
	for i := range tok {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := s.VerifyJoinToken(string(b)); err == nil {
			t.Fatalf("tampered character %d accepted", i)
		}
	}
	t2, _, _ := s.NewJoinToken()
	if t2 == tok {
		t.Fatal("two tokens are equal")
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("a short secret must be refused")
	}
}

func TestCSRF(t *testing.T) {
	s := testSigner(t)
	tok := s.CSRFToken("s:session-a")
	if !s.CheckCSRF("s:session-a", tok) || s.CheckCSRF("s:session-b", tok) || s.CheckCSRF("", tok) || s.CheckCSRF("s:session-a", "") {
		t.Fatal("CSRF tokens must be bound to their session")
	}
}

// FuzzVerifyJoinToken: no input other than a token this signer made verifies,
// and nothing panics.
func FuzzVerifyJoinToken(f *testing.F) {
	s := testSigner(f)
	good, _, _ := s.NewJoinToken()
	f.Add(good)
	f.Add("")
	f.Add(strings.Repeat("A", len(good)))
	f.Add(good[:len(good)-1] + "=")
	f.Add("../../etc/passwd")
	f.Fuzz(func(t *testing.T, tok string) {
		h, err := s.VerifyJoinToken(tok)
		if err != nil {
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		if !bytes.Equal(h, HashToken(tok)) {
			t.Fatal("hash mismatch")
		}
	})
}

func TestDeviceAndUnlockTokens(t *testing.T) {
	s := testSigner(t)
	tok, err := s.DeviceToken("Ada@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := s.DeviceID("ada@example.test", tok); !ok || id == "" {
		t.Fatal("a device token must verify for its account")
	}
	if _, ok := s.DeviceID("eve@example.test", tok); ok {
		t.Fatal("a device token must not verify for another account")
	}
	// Change the MAC's last character to a different one (replacing it with a
	// fixed letter left the token intact whenever it already ended in it: 1 run in 64).
	last := "A"
	if strings.HasSuffix(tok, last) {
		last = "B"
	}
	if _, ok := s.DeviceID("ada@example.test", tok[:len(tok)-1]+last); ok {
		t.Fatal("a tampered device token verified")
	}
	now := time.Now()
	u := s.UnlockToken(42, now.Add(30*time.Minute))
	if id, err := s.VerifyUnlock(u, now); err != nil || id != 42 {
		t.Fatalf("unlock token: %d, %v", id, err)
	}
	if _, err := s.VerifyUnlock(u, now.Add(31*time.Minute)); !errors.Is(err, ErrBadToken) {
		t.Fatalf("expired unlock token: %v", err)
	}
	other, _ := NewSigner([]byte(strings.Repeat("z", 32)))
	if _, err := other.VerifyUnlock(u, now); !errors.Is(err, ErrBadToken) {
		t.Fatal("an unlock token of another server verified")
	}
	if _, err := s.VerifyUnlock("AAAA", now); !errors.Is(err, ErrBadToken) {
		t.Fatal("garbage verified")
	}
}

func TestNodeTicket(t *testing.T) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	other, _ := NewSigner([]byte("fedcba9876543210fedcba9876543210"))
	now := time.Unix(1_800_000_000, 0)
	tok := s.NodeTicket(Ticket{Interview: 7, Role: "candidate", Node: "node-b", Browser: "br0wser-id-0123456789"}, now)
	got, err := s.VerifyNodeTicket(tok, "node-b", now.Add(30*time.Second))
	if err != nil || got.Interview != 7 || got.Role != "candidate" || got.Browser != "br0wser-id-0123456789" {
		t.Fatalf("valid ticket: %+v %v", got, err)
	}
	if _, err := s.VerifyNodeTicket(tok, "node-a", now); !errors.Is(err, ErrBadToken) {
		t.Errorf("another node accepted it: %v", err)
	}
	if _, err := s.VerifyNodeTicket(tok, "node-b", now.Add(TicketTTL+2*time.Second)); !errors.Is(err, ErrBadToken) {
		t.Errorf("expired ticket accepted: %v", err)
	}
	if _, err := other.VerifyNodeTicket(tok, "node-b", now); !errors.Is(err, ErrBadToken) {
		t.Errorf("another secret accepted it: %v", err)
	}
	// A changed payload (another interview) does not verify.
	p, mac, _ := strings.Cut(tok, ".")
	forged := b64.EncodeToString([]byte(strings.Replace(string(must(b64.DecodeString(p))), `"i":7`, `"i":8`, 1))) + "." + mac
	if _, err := s.VerifyNodeTicket(forged, "node-b", now); !errors.Is(err, ErrBadToken) {
		t.Errorf("forged ticket accepted: %v", err)
	}
	// The ticket's MAC is not any other token's: a CSRF token of the same text differs.
	if strings.HasSuffix(tok, s.CSRFToken(p)) {
		t.Error("ticket MAC equals a CSRF token")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

package httpapi

import (
	"testing"
	"time"
)

func TestMessageLimiter(t *testing.T) {
	m := newMessageLimiter()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < signalMsgLimit; i++ {
		if !m.Allow(now) {
			t.Fatalf("message %d refused", i+1)
		}
	}
	if m.Allow(now) {
		t.Fatalf("message %d allowed, limit is %d per %v", signalMsgLimit+1, signalMsgLimit, signalMsgWin)
	}
	if !m.Allow(now.Add(signalMsgWin + time.Millisecond)) {
		t.Fatal("a new window must allow messages again")
	}
}

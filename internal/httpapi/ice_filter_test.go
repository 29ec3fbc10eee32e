package httpapi_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livecheck/livecheck/internal/apptest"
	"github.com/livecheck/livecheck/internal/signal"
	"github.com/livecheck/livecheck/models"
)

// udpTrap is a UDP listener on a loopback address that counts the datagrams it gets.
type udpTrap struct {
	conn *net.UDPConn
	got  atomic.Int64
	hit  chan struct{}
}

func newUDPTrap(t *testing.T, ip string) *udpTrap {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	tr := &udpTrap{conn: c, hit: make(chan struct{})}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				return
			}
			if tr.got.Add(1) == 1 {
				close(tr.hit)
			}
		}
	}()
	return tr
}

func (tr *udpTrap) candidate(foundation int) string {
	a := tr.conn.LocalAddr().(*net.UDPAddr)
	return fmt.Sprintf("candidate:%d 1 udp 2130706431 %s %d typ host", foundation, a.IP, a.Port)
}

// withoutCandidates removes every a=candidate line of an SDP.
func withoutCandidates(sdp string) string {
	var keep []string
	for _, l := range strings.Split(sdp, "\r\n") {
		if !strings.HasPrefix(l, "a=candidate:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\r\n")
}

// TestRemoteCandidatesNeverDialled: finding 5 of the security probe. A
// candidate's page could name any address in its ICE candidates (trickled, or
// as a=candidate lines inside its answer) and the server sent STUN checks
// there: 127.0.0.x, port 5432. Checked on the wire with UDP listeners on
// 127.0.0.77 (trickled) and 127.0.0.78 (inside the answer).
func TestRemoteCandidatesNeverDialled(t *testing.T) {
	// With private addresses allowed (single-host tests), the server does send
	// checks to both: the listeners see them. The page's own candidates are
	// left out and its PeerConnection closed, so that the server has nothing
	// else to try.
	t.Run("allowed by LIVECHECK_ICE_ALLOW_PRIVATE", func(t *testing.T) {
		trickled, inAnswer := newUDPTrap(t, "127.0.0.77"), newUDPTrap(t, "127.0.0.78")
		s := joinAsCandidate(t, map[string]string{"LIVECHECK_ICE_ALLOW_PRIVATE": "true"})
		offer := s.next(30*time.Second, signal.TypeOffer)
		a := newAnswerer(t)
		ans := withoutCandidates(a.answer(t, s, offer.SDP))
		a.pc.Close()
		s.send(signal.Message{T: signal.TypeAnswer, SDP: addCandidateLines(ans, "a="+inAnswer.candidate(1))})
		s.send(signal.Message{T: signal.TypeCandidate, Candidate: &signal.ICECandidate{Candidate: trickled.candidate(2)}})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if !waitClosed(ctx, trickled.hit) || !waitClosed(ctx, inAnswer.hit) {
			t.Fatalf("allowed candidates were not contacted: trickled %d, in the answer %d datagrams", trickled.got.Load(), inAnswer.got.Load())
		}
	})
	// By default the same candidates are never contacted, while the call itself
	// connects (through the peer-reflexive candidates of the page's checks).
	t.Run("default", func(t *testing.T) {
		trickled, inAnswer := newUDPTrap(t, "127.0.0.77"), newUDPTrap(t, "127.0.0.78")
		s := joinAsCandidate(t, nil)
		offer := s.next(30*time.Second, signal.TypeOffer)
		a := newAnswerer(t)
		ans := a.answer(t, s, offer.SDP)
		s.send(signal.Message{T: signal.TypeAnswer, SDP: addCandidateLines(ans, "a="+inAnswer.candidate(1))})
		s.send(signal.Message{T: signal.TypeCandidate, Candidate: &signal.ICECandidate{Candidate: trickled.candidate(2)}})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if !waitClosed(ctx, a.connected) {
			t.Fatal("the call did not connect")
		}
		// A peer-reflexive pair is nominated no earlier than a second after the
		// server's ICE agent started, and until then the agent checks every pair
		// it has every 200 ms: had the listeners' candidates been accepted, they
		// would have been contacted by now. Watch two more seconds anyway.
		watch, stop := context.WithTimeout(context.Background(), 2*time.Second)
		defer stop()
		select {
		case <-trickled.hit:
		case <-inAnswer.hit:
		case <-watch.Done():
		}
		if n, m := trickled.got.Load(), inAnswer.got.Load(); n+m > 0 {
			t.Fatalf("the server sent %d datagrams to a trickled loopback candidate and %d to one inside the answer", n, m)
		}
	})
}

// joinAsCandidate starts the app with settings, schedules an interview and
// opens the candidate's signaling socket after consent; it returns after hello.
func joinAsCandidate(t *testing.T, settings map[string]string) *sigClient {
	t.Helper()
	env := apptest.New(t, apptest.Options{Env: settings})
	rec := env.CreateUser(models.RoleRecruiter)
	_, token := env.CreateInterview("Wire Candidate", env.Clock.Now(), rec.ID)
	c := consentedCandidate(t, env, token)
	s, resp, err := dialSignaling(t, env, c, "/ws/join/"+token)
	if err != nil {
		t.Fatalf("candidate socket: %v (%v)", err, resp)
	}
	s.next(10*time.Second, signal.TypeHello)
	return s
}

package apptest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Netns is a second host for tests of what crosses a network: a Linux network
// namespace joined to this one by a veth pair. The server listens on HostIP; a
// browser started in the namespace (BrowserOptions.Netns) reaches it only over
// the pair, so taking the link down is a real network outage for that browser
// (its sockets get ENETUNREACH, the server's packets to it are dropped) while the
// test keeps driving it: chromedp talks to Chromium over a pipe, not the network.
//
// It needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's ip, which
// `make test` has; elsewhere the test is skipped with the reason.
type Netns struct {
	Name   string
	HostIP string // this side of the pair
	PeerIP string // the namespace's side
	hostIf string
	peerIf string
	t      testing.TB
}

// NewNetns creates the namespace and the link; both are removed when the test ends.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("apptest: network namespaces need root (make test runs as root in CI)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("apptest: iproute2's ip not found (make test installs it): %v", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:3])
	n := &Netns{Name: "lc" + id, hostIf: "lc" + id + "h", peerIf: "lc" + id + "p", t: t,
		// A /30 in 10.0.0.0/8 picked at random, so that parallel runs do not meet.
		HostIP: fmt.Sprintf("10.%d.%d.%d", 64+b[0]%64, b[1], b[3]&^3|1),
		PeerIP: fmt.Sprintf("10.%d.%d.%d", 64+b[0]%64, b[1], b[3]&^3|2)}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.Name).Run() // removes the pair with it
		_ = exec.Command("ip", "link", "del", n.hostIf).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", n.Name},
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", n.peerIf, "netns", n.Name},
		{"addr", "add", n.HostIP + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.Name, "addr", "add", n.PeerIP + "/30", "dev", n.peerIf},
		{"-n", n.Name, "link", "set", n.peerIf, "up"},
		{"-n", n.Name, "link", "set", "lo", "up"},
	} {
		n.ip(args...)
	}
	return n
}

func (n *Netns) ip(args ...string) {
	n.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("apptest: ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// LinkDown takes the namespace's side of the link down, as when a laptop loses
// its Wi-Fi: its route to the host goes away and nothing crosses in either direction.
func (n *Netns) LinkDown() { n.t.Helper(); n.ip("-n", n.Name, "link", "set", n.peerIf, "down") }

// LinkUp restores the link (the addresses stay; the route comes back).
func (n *Netns) LinkUp() { n.t.Helper(); n.ip("-n", n.Name, "link", "set", n.peerIf, "up") }

// chromiumWrapper writes a script that starts Chromium inside the namespace.
func (n *Netns) chromiumWrapper(dir string) string {
	n.t.Helper()
	p := dir + "/chromium-in-" + n.Name
	script := fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n", n.Name, ChromiumPath())
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		n.t.Fatalf("apptest: %v", err)
	}
	return p
}

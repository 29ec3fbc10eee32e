package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Ticket lets a browser open one interview's signaling socket on one node of
// a cluster: the page, served by any node, asks where the interview lives and
// receives the owning node's URL with a ticket; the socket then goes straight
// to that node, where no cookie of the page's origin is sent. A ticket is
// bound to the interview, the role, the node and the browser or account, is
// good for one purpose (the signaling socket) and expires within a minute.
type Ticket struct {
	Interview int64  `json:"i"`
	Role      string `json:"r"`           // candidate | host | observer
	Node      string `json:"n"`           // the node that may accept it
	Browser   string `json:"b,omitempty"` // the candidate's browser id (its consent is looked up with it)
	User      int64  `json:"u,omitempty"` // the staff account (0: the API token)
	Expires   int64  `json:"e"`           // Unix seconds
}

// TicketTTL is how long a ticket is accepted after it was issued.
const TicketTTL = time.Minute

// ticketPurpose separates tickets from every other MAC made with the key.
const ticketPurpose = "node ticket v1\x00"

func (s *Signer) ticketMAC(payload string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(ticketPurpose))
	mac.Write([]byte(payload))
	return b64.EncodeToString(mac.Sum(nil)[:18])
}

// NodeTicket signs t, valid until now+TicketTTL.
func (s *Signer) NodeTicket(t Ticket, now time.Time) string {
	t.Expires = now.Add(TicketTTL).Unix()
	b, _ := json.Marshal(t)
	p := b64.EncodeToString(b)
	return p + "." + s.ticketMAC(p)
}

// VerifyNodeTicket returns the ticket when its signature verifies, it is not
// expired and it was issued for node; ErrBadToken otherwise.
func (s *Signer) VerifyNodeTicket(tok, node string, now time.Time) (Ticket, error) {
	var t Ticket
	p, mac, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 1024 || !hmac.Equal([]byte(mac), []byte(s.ticketMAC(p))) {
		return t, ErrBadToken
	}
	b, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(b, &t) != nil {
		return t, ErrBadToken
	}
	if now.Unix() > t.Expires {
		return t, fmt.Errorf("%w: ticket expired", ErrBadToken)
	}
	if t.Node != node {
		return t, fmt.Errorf("%w: ticket for node %q", ErrBadToken, t.Node)
	}
	return t, nil
}

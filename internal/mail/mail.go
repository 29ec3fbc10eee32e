// Package mail sends livecheck's e-mails (interview invites) over SMTP.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Mailer sends messages through one SMTP server.
type Mailer struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS is "starttls" (required, the default), "tls" (implicit TLS) or "none".
	TLS string
	// TLSConfig overrides the TLS settings (tests use it to trust their own CA).
	TLSConfig *tls.Config
	// Timeout bounds the whole exchange; 30 s when zero.
	Timeout time.Duration
}

// Enabled reports whether a server is configured.
func (m *Mailer) Enabled() bool { return m != nil && m.Host != "" }

// Message is one plain-text e-mail.
type Message struct {
	To      mail.Address
	Subject string
	Body    string
}

// ErrNotConfigured is returned by Send when no SMTP server is configured.
var ErrNotConfigured = errors.New("mail: no SMTP server configured")

// Send delivers msg. It fails rather than sending credentials or mail in clear
// text when STARTTLS was required but is not offered.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if !m.Enabled() {
		return ErrNotConfigured
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("mail: invalid sender %q: %w", m.From, err)
	}
	if _, err := mail.ParseAddress(msg.To.Address); err != nil || strings.ContainsAny(msg.To.Address, "\r\n") {
		return fmt.Errorf("mail: invalid recipient %q", msg.To.Address)
	}
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	tlsCfg := m.TLSConfig
	if tlsCfg == nil {
		tlsCfg = &tls.Config{ServerName: m.Host, MinVersion: tls.VersionTLS12}
	}
	var conn net.Conn
	d := &net.Dialer{}
	if m.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("mail: connect %s: %w", addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, m.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("mail: HELO: %w", err)
	}
	if m.TLS == "" || m.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("mail: %s does not offer STARTTLS (set LIVECHECK_SMTP_TLS=none only for a local relay)", addr)
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("mail: STARTTLS: %w", err)
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, m.Host)); err != nil {
			return fmt.Errorf("mail: authentication: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(msg.To.Address); err != nil {
		return fmt.Errorf("mail: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(compose(from, msg)); err != nil {
		return fmt.Errorf("mail: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: message refused: %w", err)
	}
	return c.Quit()
}

// compose renders headers and a quoted-printable UTF-8 body with CRLF line ends.
func compose(from *mail.Address, msg Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	host := "livecheck.local"
	if i := strings.LastIndex(from.Address, "@"); i >= 0 {
		host = from.Address[i+1:]
	}
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	hdr("To", msg.To.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", strings.NewReplacer("\r", " ", "\n", " ").Replace(msg.Subject)))
	hdr("Date", time.Now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@"+host+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `text/plain; charset="utf-8"`)
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(msg.Body, "\r\n", "\n"), "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

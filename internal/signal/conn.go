package signal

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Conn wraps a WebSocket with exactly one writer goroutine and a bounded queue.
// Send never blocks: when the client does not keep up the socket is closed.
type Conn struct {
	ws     *websocket.Conn
	out    chan []byte
	closed chan struct{}
	once   sync.Once
}

const (
	writeWait  = 10 * time.Second
	pongWait   = 45 * time.Second
	pingPeriod = 20 * time.Second
	queueSize  = 64
)

// NewConn starts the writer goroutine for ws.
func NewConn(ws *websocket.Conn) *Conn {
	c := &Conn{ws: ws, out: make(chan []byte, queueSize), closed: make(chan struct{})}
	ws.SetReadLimit(MaxMessageSize)
	_ = ws.SetReadDeadline(time.Now().Add(pongWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	go c.writeLoop()
	return c
}

func (c *Conn) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	defer c.ws.Close()
	for {
		select {
		case b := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.Close()
				return
			}
		case <-ping.C:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.Close()
				return
			}
		case <-c.closed:
			// Flush what is queued (e.g. a final error or "ended"), then close politely.
			for {
				select {
				case b := <-c.out:
					_ = c.ws.SetWriteDeadline(time.Now().Add(time.Second))
					_ = c.ws.WriteMessage(websocket.TextMessage, b)
				default:
					_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
					return
				}
			}
		}
	}
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("signal: connection closed")

// Send queues m for the writer goroutine.
func (c *Conn) Send(m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	select {
	case <-c.closed:
		return ErrClosed
	default:
	}
	select {
	case c.out <- b:
		return nil
	default:
		c.Close() // a client that does not read is dropped rather than buffered without bound
		return ErrClosed
	}
}

// Read returns the next raw message; it fails when the socket closes.
func (c *Conn) Read(ctx context.Context) ([]byte, error) {
	typ, b, err := c.ws.ReadMessage()
	if err != nil {
		c.Close()
		return nil, err
	}
	if typ != websocket.TextMessage {
		return nil, errors.New("signal: binary messages are not accepted")
	}
	return b, nil
}

// Close stops the writer after flushing queued messages. Idempotent.
func (c *Conn) Close() { c.once.Do(func() { close(c.closed) }) }

// Done is closed when the connection is closed.
func (c *Conn) Done() <-chan struct{} { return c.closed }

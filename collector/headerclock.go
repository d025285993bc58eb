package collector

import (
	"net"
	"time"
)

// firstByteTimeout is how long a new connection may stay silent before
// its first request. HeaderTimeout starts at that first byte, as it does
// for every later request of a keep-alive connection.
const firstByteTimeout = 10 * time.Second

// headerClockListener gives each new connection firstByteTimeout for its
// first byte: fasthttp arms its ReadTimeout (our HeaderTimeout) when it
// accepts a connection, which would cut a client that connects and then
// takes a moment to send (a busy client, a browser's preconnect).
type headerClockListener struct{ net.Listener }

func (ln headerClockListener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &headerClock{Conn: c}, nil
}

// headerClock defers the first read deadline of a connection to its first
// byte. Not safe for concurrent reads (fasthttp reads from one goroutine).
type headerClock struct {
	net.Conn
	started bool          // the first byte arrived
	first   time.Duration // the deadline fasthttp asked for before it, from then
}

func (c *headerClock) SetReadDeadline(t time.Time) error {
	if !c.started && !t.IsZero() {
		c.first = time.Until(t)
		return c.Conn.SetReadDeadline(time.Now().Add(max(firstByteTimeout, c.first)))
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *headerClock) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *headerClock) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.started {
		c.started = true
		if c.first > 0 {
			if derr := c.Conn.SetReadDeadline(time.Now().Add(c.first)); derr != nil && err == nil {
				err = derr
			}
		}
	}
	return n, err
}

// NetConn returns the wrapped connection (for watchGone).
func (c *headerClock) NetConn() net.Conn { return c.Conn }

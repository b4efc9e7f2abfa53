package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Peer describes the connection a frame arrived on.
type Peer struct {
	Addr net.Addr             // the sender's address
	TLS  *tls.ConnectionState // nil on plain TCP; with client certificates, PeerCertificates names the sender
}

type peerKey struct{}

// PeerFromContext returns the Peer of the connection whose frame a
// Handler is answering.
func PeerFromContext(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// Connection states: Shutdown closes a connection only while it is idle.
const (
	stateIdle     int32 = iota // waiting for a frame to start
	stateReading               // a frame has started
	stateHandling              // handling a frame and writing its responses
	stateClosed                // closed by Shutdown
)

// conn is one served connection.
type conn struct {
	srv    *Server
	rwc    net.Conn
	remote string // for logs
	r      *Reader
	ctx    context.Context
	out    []byte // responses of one frame, framed
	state  atomic.Int32
}

func (s *Server) newConn(rwc net.Conn) *conn {
	if s.TLSConfig != nil {
		rwc = tls.Server(rwc, s.TLSConfig)
	}
	c := &conn{srv: s, rwc: rwc, remote: rwc.RemoteAddr().String(), ctx: s.ctx}
	c.r = NewReader(rwc, s.MaxFrame)
	c.r.started = c.frameStarted
	return c
}

// closeIfIdle closes c if no frame of it is in flight; one in flight
// closes c itself once answered, as the server is shutting down.
func (c *conn) closeIfIdle() {
	if c.state.CompareAndSwap(stateIdle, stateClosed) {
		c.rwc.Close()
	}
}

func (c *conn) serve() {
	defer c.srv.untrackConn(c)
	defer c.rwc.Close()
	if !c.handshake() {
		return
	}
	c.srv.Metrics.connOpened()
	defer c.srv.Metrics.connClosed()
	c.srv.log.Debug("mllp connection opened", "remote", c.remote)
	c.loop()
}

// handshake completes the TLS handshake, if any, within ReadTimeout (or
// IdleTimeout), and puts the Peer in the handlers' context.
func (c *conn) handshake() bool {
	peer := Peer{Addr: c.rwc.RemoteAddr()}
	if tc, ok := c.rwc.(*tls.Conn); ok {
		timeout := c.srv.ReadTimeout
		if timeout <= 0 {
			timeout = c.srv.IdleTimeout
		}
		if timeout > 0 {
			_ = c.rwc.SetDeadline(time.Now().Add(timeout))
		}
		if err := tc.HandshakeContext(c.srv.ctx); err != nil {
			if !c.srv.shutting.Load() {
				c.srv.Metrics.connRejected(reasonTLS)
				c.srv.log.Warn("mllp TLS handshake failed", "remote", c.remote, "error", err.Error())
			}
			return false
		}
		_ = c.rwc.SetDeadline(time.Time{})
		st := tc.ConnectionState()
		peer.TLS = &st
	}
	c.ctx = context.WithValue(c.srv.ctx, peerKey{}, peer)
	return true
}

// loop reads, handles and answers frames one at a time until the
// connection ends, fails, or the server shuts down.
func (c *conn) loop() {
	for {
		c.state.Store(stateIdle)
		if c.srv.shutting.Load() {
			c.srv.log.Debug("mllp connection closed for shutdown", "remote", c.remote)
			return
		}
		c.setReadDeadline(c.srv.IdleTimeout)
		prev := c.r.Stats()
		payload, err := c.r.ReadFrame()
		c.srv.Metrics.readerDelta(prev, c.r.Stats())
		var ok bool
		switch {
		case err == nil:
			ok = c.answer(payload)
		case errors.Is(err, ErrFrameTooLarge):
			ok = c.refuse(payload)
		default:
			c.readFailed(err)
			return
		}
		if !ok {
			return
		}
	}
}

// frameStarted is the Reader's hook for a start block: from now on the
// frame has ReadTimeout to complete, and Shutdown waits for it.
func (c *conn) frameStarted() error {
	if !c.state.CompareAndSwap(stateIdle, stateReading) {
		return net.ErrClosed
	}
	c.setReadDeadline(c.srv.ReadTimeout)
	return nil
}

func (c *conn) setReadDeadline(d time.Duration) {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	_ = c.rwc.SetReadDeadline(t)
}

// answer hands a frame to the Handler and writes its responses.
func (c *conn) answer(payload []byte) bool {
	resp, ok := c.call(true, func() [][]byte { return c.srv.Handler.ServeMLLP(c.ctx, payload) })
	return ok && c.write(resp)
}

// refuse answers an oversized frame with the Oversized response, or closes
// the connection when there is none.
func (c *conn) refuse(head []byte) bool {
	if c.srv.Oversized == nil {
		c.srv.log.Warn("mllp frame over the size limit; closing the connection", "remote", c.remote, "max_frame", c.r.max)
		return false
	}
	c.srv.log.Warn("mllp frame over the size limit; refused", "remote", c.remote, "max_frame", c.r.max)
	resp, ok := c.call(false, func() [][]byte {
		if p := c.srv.Oversized(head); p != nil {
			return [][]byte{p}
		}
		return nil
	})
	return ok && c.write(resp)
}

// call runs fn, recovering a panic (logged without its value, which may
// hold message content) as a reason to close the connection.
func (c *conn) call(observe bool, fn func() [][]byte) (resp [][]byte, ok bool) {
	c.state.Store(stateHandling)
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			c.srv.Metrics.handled(time.Since(start), true)
			c.srv.log.Error("mllp handler panicked; closing the connection", "remote", c.remote,
				"panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
			resp, ok = nil, false
		}
	}()
	resp = fn()
	if observe {
		c.srv.Metrics.handled(time.Since(start), false)
	}
	return resp, true
}

// write sends the responses of one frame in a single Write.
func (c *conn) write(resp [][]byte) bool {
	if cap(c.out) > 64<<10 {
		c.out = nil
	}
	c.out = c.out[:0]
	for _, p := range resp {
		var err error
		if c.out, err = AppendFrame(c.out, p); err != nil {
			c.srv.log.Error("mllp response cannot be framed; closing the connection", "remote", c.remote, "error", err.Error())
			return false
		}
	}
	if len(c.out) == 0 {
		return true
	}
	if c.srv.WriteTimeout > 0 {
		_ = c.rwc.SetWriteDeadline(time.Now().Add(c.srv.WriteTimeout))
	}
	if _, err := c.rwc.Write(c.out); err != nil {
		c.srv.log.Warn("mllp response write failed; closing the connection", "remote", c.remote, "error", err.Error())
		return false
	}
	c.srv.Metrics.framesSent(len(resp))
	return true
}

// readFailed records and logs why reading the connection ended.
func (c *conn) readFailed(err error) {
	log, s := c.srv.log, c.srv
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	midFrame := c.state.Load() == stateReading
	switch {
	case s.shutting.Load() && (errors.Is(err, net.ErrClosed) || !midFrame):
		log.Debug("mllp connection closed for shutdown", "remote", c.remote)
	case midFrame && timeout:
		s.Metrics.framingError(reasonReadTimeout)
		log.Warn("mllp frame not completed within the read timeout; closing the connection", "remote", c.remote)
	case midFrame:
		s.Metrics.framingError(reasonClosedMidFrame)
		log.Warn("mllp connection ended inside a frame", "remote", c.remote, "error", err.Error())
	case timeout:
		s.Metrics.idleTimeout()
		log.Debug("mllp connection idle; closing", "remote", c.remote)
	case errors.Is(err, io.EOF):
		log.Debug("mllp connection closed by the peer", "remote", c.remote)
	default:
		log.Debug("mllp connection read failed", "remote", c.remote, "error", err.Error())
	}
}

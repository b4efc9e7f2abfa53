package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handler answers one frame's payload (the bytes between the start block
// and the end block). It returns the payloads of zero or more response
// frames, written in order before the connection's next frame is read.
// ServeMLLP is called for one frame of a connection at a time, and for
// several connections at once. Its context is cancelled only when the
// server is closed (Close, or Shutdown running out of time); it carries the
// connection's Peer. A handler may keep payload.
type Handler interface {
	ServeMLLP(ctx context.Context, payload []byte) [][]byte
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, payload []byte) [][]byte

// ServeMLLP calls f(ctx, payload).
func (f HandlerFunc) ServeMLLP(ctx context.Context, payload []byte) [][]byte {
	return f(ctx, payload)
}

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close.
var ErrServerClosed = errors.New("mllp: server closed")

// Server accepts MLLP connections and hands each complete frame to its
// Handler. Frames of one connection are handled one after the other, and
// their responses written in the same order; connections are served
// concurrently. The zero timeouts and limits mean none. Set the fields
// before Serve; do not change them after.
type Server struct {
	Handler   Handler
	TLSConfig *tls.Config // nil = plain TCP
	// MaxFrame is the largest payload accepted, in bytes (DefaultMaxFrame
	// when <= 0). A larger frame is discarded up to its end block and
	// answered with Oversized(head).
	MaxFrame int
	// Oversized builds the refusal sent for an oversized frame from the
	// frame's first bytes (at most HeadSize, enough for the MSH segment).
	// A nil result sends nothing. A nil Oversized closes the connection
	// instead.
	Oversized func(head []byte) []byte
	// ReadTimeout is the time a frame, once its start block has arrived,
	// has to complete (and a TLS handshake to finish); past it the
	// connection is closed.
	ReadTimeout time.Duration
	// IdleTimeout closes a connection on which no frame starts within it,
	// counted from the connection's start or its last response.
	IdleTimeout time.Duration
	// WriteTimeout bounds writing one frame's responses.
	WriteTimeout time.Duration
	// MaxConns is the most connections served at once (0 = unlimited);
	// connections beyond it are closed at once, and counted.
	MaxConns int
	// Logger receives connection-level events only (remote address,
	// reasons), never payload content.
	Logger  *slog.Logger
	Metrics *Metrics // optional

	initOnce  sync.Once
	log       *slog.Logger
	ctx       context.Context // the handlers' context
	cancel    context.CancelFunc
	active    atomic.Int64 // connections being served, for MaxConns
	shutting  atomic.Bool
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	first     net.Listener
	conns     map[*conn]struct{}
	drained   chan struct{} // closed once shutting with no connection left
	isDrained bool
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[*conn]struct{})
		s.drained = make(chan struct{})
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
	})
}

// ListenAndServe listens on the TCP address addr and serves it. It always
// returns a non-nil error: ErrServerClosed after Shutdown or Close.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Addr returns the address of the first listener being served, or nil
// before Serve has started.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == nil {
		return nil
	}
	return s.first.Addr()
}

// Serve accepts connections on l and serves each in its own goroutine,
// wrapping it in TLS when TLSConfig is set. It closes l when it returns,
// and always returns a non-nil error: ErrServerClosed after Shutdown or
// Close.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	if !s.trackListener(l) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrackListener(l)
	var backoff time.Duration
	for {
		rwc, err := l.Accept()
		if err != nil {
			if s.shutting.Load() {
				return ErrServerClosed
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("mllp accept failed; retrying", "error", err.Error(), "retry_in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if s.MaxConns > 0 && s.active.Load() >= int64(s.MaxConns) {
			s.Metrics.connRejected(reasonMaxConns)
			s.log.Warn("mllp connection refused: too many connections", "remote", rwc.RemoteAddr().String(), "max_conns", s.MaxConns)
			rwc.Close()
			continue
		}
		c := s.newConn(rwc)
		if !s.trackConn(c) {
			rwc.Close()
			continue
		}
		go c.serve()
	}
}

func (s *Server) trackListener(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	s.listeners[l] = struct{}{}
	if s.first == nil {
		s.first = l
	}
	return true
}

func (s *Server) untrackListener(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.listeners[l]; ok {
		delete(s.listeners, l)
		l.Close()
	}
}

// trackConn registers c, unless the server is shutting down.
func (s *Server) trackConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	s.active.Add(1)
	return true
}

func (s *Server) untrackConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.active.Add(-1)
	s.signalDrainedLocked()
}

func (s *Server) signalDrainedLocked() {
	if s.shutting.Load() && len(s.conns) == 0 && !s.isDrained {
		s.isDrained = true
		close(s.drained)
	}
}

// Shutdown stops the server gracefully: it closes the listeners and the
// idle connections at once, lets every frame already started be read,
// handled and answered, then closes its connection. Frames a sender queued
// behind it are left unread (and unanswered: the sender resends them). If
// ctx ends first, Shutdown closes everything as Close does and returns
// ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.shutting.Store(true)
	err := s.closeListenersLocked()
	for c := range s.conns {
		c.closeIfIdle()
	}
	s.signalDrainedLocked()
	s.mu.Unlock()
	select {
	case <-s.drained:
		s.cancel()
		return err
	case <-ctx.Done():
		return errors.Join(s.Close(), ctx.Err())
	}
}

// Close stops the server at once: it closes the listeners and every
// connection, and cancels the handlers' context. Responses not yet written
// are lost; their senders resend.
func (s *Server) Close() error {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutting.Store(true)
	err := s.closeListenersLocked()
	for c := range s.conns {
		c.rwc.Close()
	}
	s.cancel()
	s.signalDrainedLocked()
	return err
}

func (s *Server) closeListenersLocked() error {
	var errs []error
	for l := range s.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
		delete(s.listeners, l)
	}
	return errors.Join(errs...)
}

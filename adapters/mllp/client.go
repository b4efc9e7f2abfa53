package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// clientMaxFrame bounds the responses a Client reads.
const clientMaxFrame = 64 << 20

// ErrClientBroken is returned by Send once an earlier exchange failed part
// way: the connection may be out of step with the server and must be
// replaced.
var ErrClientBroken = errors.New("mllp: connection unusable after an earlier failure")

// Client sends frames over one MLLP connection and reads one response
// frame for each, the way an HL7 sender waits for each ACK. It is safe for
// concurrent use; exchanges are serialised.
type Client struct {
	mu     sync.Mutex
	conn   net.Conn
	r      *Reader
	out    []byte
	broken error
}

// Dial connects to the MLLP server at addr, with TLS when tlsConfig is not
// nil (the handshake completes before Dial returns). ctx bounds only the
// dial.
func Dial(ctx context.Context, addr string, tlsConfig *tls.Config) (*Client, error) {
	var (
		conn net.Conn
		err  error
		d    net.Dialer
	)
	if tlsConfig != nil {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("mllp.Dial(%s): %w", addr, err)
	}
	return &Client{conn: conn, r: NewReader(conn, clientMaxFrame)}, nil
}

// Send writes payload as one frame and returns the payload of the next
// frame received. ctx bounds the exchange. After a failed write or read
// the Client is unusable (ErrClientBroken); an oversized response
// (ErrFrameTooLarge) leaves it usable.
func (c *Client) Send(ctx context.Context, payload []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, fmt.Errorf("%w: %w", ErrClientBroken, c.broken)
	}
	out, err := AppendFrame(c.out[:0], payload)
	if err != nil {
		return nil, err
	}
	c.out = out
	deadline, _ := ctx.Deadline()
	_ = c.conn.SetDeadline(deadline)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = c.conn.SetDeadline(time.Unix(1, 0))
		close(fired)
	})
	defer func() {
		if !stop() {
			<-fired // so that it cannot touch the next exchange's deadline
		}
	}()
	resp, err := c.exchange(out)
	if err != nil && !errors.Is(err, ErrFrameTooLarge) {
		c.broken = err
		err = contextError(ctx, err)
	}
	return resp, err
}

// contextError returns err as ctx's error when ctx ended the exchange: it
// was cancelled, or its deadline (the connection's) passed.
func contextError(ctx context.Context, err error) error {
	cerr := ctx.Err()
	var ne net.Error
	if _, ok := ctx.Deadline(); ok && cerr == nil && errors.As(err, &ne) && ne.Timeout() {
		cerr = context.DeadlineExceeded
	}
	if cerr == nil {
		return err
	}
	return fmt.Errorf("mllp: %w (%w)", cerr, err)
}

func (c *Client) exchange(frame []byte) ([]byte, error) {
	if _, err := c.conn.Write(frame); err != nil {
		return nil, fmt.Errorf("mllp: write: %w", err)
	}
	resp, err := c.r.ReadFrame()
	if err != nil && !errors.Is(err, ErrFrameTooLarge) {
		return nil, fmt.Errorf("mllp: read: %w", err)
	}
	return resp, err
}

// Close closes the connection.
func (c *Client) Close() error {
	return c.conn.Close()
}

package kafkapub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
)

// Options say how to reach the brokers.
type Options struct {
	Brokers []string
	// SASLMechanism is "" (none) or "plain". SASL/PLAIN should only be used
	// with TLS.
	SASLMechanism string
	SASLUser      string
	SASLPassword  string
	TLS           *tls.Config // nil for plaintext
	// MaxMessageBytes bounds one record (key, value and headers) and one
	// produce batch; keep it at or below the broker's message.max.bytes.
	// Zero means 1,000,000.
	MaxMessageBytes int
	// WriteTimeout bounds one produce request; zero means 10s.
	WriteTimeout time.Duration
}

func (o Options) maxMessageBytes() int {
	if o.MaxMessageBytes <= 0 {
		return 1_000_000
	}
	return o.MaxMessageBytes
}

func (o Options) mechanism() (sasl.Mechanism, error) {
	switch strings.ToLower(o.SASLMechanism) {
	case "":
		return nil, nil
	case "plain":
		return plain.Mechanism{Username: o.SASLUser, Password: o.SASLPassword}, nil
	default:
		return nil, fmt.Errorf("kafkapub: unsupported SASL mechanism %q", o.SASLMechanism)
	}
}

// NewWriter returns the synchronous, all-replica-acknowledged writer the
// relay publishes with. Messages are partitioned by a hash of their key, so
// one key always lands on one partition, in order.
func NewWriter(o Options) (*kafka.Writer, error) {
	if len(o.Brokers) == 0 {
		return nil, errors.New("kafkapub: no brokers")
	}
	mech, err := o.mechanism()
	if err != nil {
		return nil, err
	}
	wt := o.WriteTimeout
	if wt <= 0 {
		wt = 10 * time.Second
	}
	return &kafka.Writer{
		Addr:         kafka.TCP(o.Brokers...),
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		Async:        false,
		MaxAttempts:  3,
		BatchSize:    1000,
		BatchBytes:   int64(o.maxMessageBytes()),
		BatchTimeout: time.Millisecond, // the relay hands over whole batches; don't wait for more
		WriteTimeout: wt,
		ReadTimeout:  wt,
		Transport: &kafka.Transport{
			SASL:        mech,
			TLS:         o.TLS,
			DialTimeout: 5 * time.Second,
			IdleTimeout: time.Minute,
			MetadataTTL: 30 * time.Second,
		},
	}, nil
}

// dialer returns a connection dialer for admin and readiness requests.
func (o Options) dialer() (*kafka.Dialer, error) {
	mech, err := o.mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{Timeout: 5 * time.Second, SASLMechanism: mech, TLS: o.TLS}, nil
}

// dialAny connects to the first reachable bootstrap broker.
func (o Options) dialAny(ctx context.Context) (*kafka.Conn, *kafka.Dialer, error) {
	d, err := o.dialer()
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, b := range o.Brokers {
		c, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			return c, d, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", b, err))
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("no brokers configured"))
	}
	return nil, nil, fmt.Errorf("kafkapub: dial: %w", errors.Join(errs...))
}

// Ping is the broker readiness check: it dials a bootstrap broker and asks
// for cluster metadata.
func Ping(ctx context.Context, o Options) error {
	c, _, err := o.dialAny(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Brokers(); err != nil {
		return fmt.Errorf("kafkapub: metadata: %w", err)
	}
	return nil
}

func hostPort(b kafka.Broker) string {
	return net.JoinHostPort(b.Host, fmt.Sprint(b.Port))
}
